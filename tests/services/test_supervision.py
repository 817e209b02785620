"""督办卡: raised as the deadline nears and passes (once per level), or by hand; answered by the unit leader."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from portal.clock import frozen_at
from portal.extensions import db
from portal.models import CardLevel, Case, SupervisionCard, WorkItemKind, WorkItemStatus
from portal.services.cases import complete_task
from portal.services.errors import CaseForbiddenError, TaskNotYoursError, ValidationFailed
from portal.services.supervision import raise_card, raise_due_cards
from tests.conftest import do_step, open_item, row_counts, statements, unit_id, user

T0 = datetime(2026, 3, 2, 1, 0)  # Monday 09:00 in Beijing; general tier: 3 calendar days -> Thu 3.5 23:59:59




def _cards(case_id):
    return db.session.scalars(select(SupervisionCard).where(SupervisionCard.case_id == case_id)
                              .order_by(SupervisionCard.id)).all()


def test_cards_rise_with_the_deadline_each_once(make_case):
    case_id = make_case(until="handle", at=T0)
    due = db.session.get(Case, case_id).due_at
    assert due == datetime(2026, 3, 5, 15, 59, 59)
    for at, expected in [(due - timedelta(hours=25), []), (due - timedelta(hours=23), ["normal"]),
                         (due - timedelta(hours=1), ["normal"]), (due + timedelta(hours=1), ["normal", "yellow"]),
                         (due + timedelta(hours=73), ["normal", "yellow", "red"]),
                         (due + timedelta(days=9), ["normal", "yellow", "red"])]:
        with frozen_at(at):
            raise_due_cards()
            raise_due_cards()  # a second worker round changes nothing
        assert [c.level.value for c in _cards(case_id)] == expected, at
    card = _cards(case_id)[-1]
    assert card.work_item.kind == WorkItemKind.CARD and card.work_item.lane == "单位负责人"
    assert card.work_item.org_unit_id == unit_id("D03") and card.raised_by_id is None
    assert "2026-03-05 23:59" in card.reason  # the deadline as the county reads it


def test_the_unit_leader_answers_a_card_and_the_case_does_not_move(make_case):
    case_id = make_case(until="handle", at=T0)
    with frozen_at(datetime(2026, 3, 6, 2, 0)):
        raise_due_cards()
    item = _cards(case_id)[0].work_item
    before = row_counts()
    with pytest.raises(ValidationFailed):
        complete_task(user("sifalead"), item.id, {"answer": " "})
    assert row_counts() == before
    complete_task(user("sifalead"), item.id, {"answer": "已安排专人周五前调解完毕"})
    assert item.status == WorkItemStatus.DONE
    assert open_item(case_id, "handle") is not None        # the case is where it was
    with pytest.raises(TaskNotYoursError):     # the handler is not the leader
        complete_task(user("sifa"), _cards(case_id)[1].work_item.id, {"answer": "不是负责人"})


def test_the_director_raises_a_card_by_hand(make_case):
    case_id = make_case(until="handle", at=T0)
    before = row_counts()
    with pytest.raises(CaseForbiddenError):
        raise_card(user("dispatch"), case_id, "red", "未按期反馈")
    with pytest.raises(ValidationFailed):
        raise_card(user("director"), case_id, "red", "")
    assert row_counts() == before
    card = raise_card(user("director"), case_id, "red", "群众反映久拖不决")
    assert card.level == CardLevel.RED and card.raised_by.username == "director"
    assert card.work_item.status == WorkItemStatus.OPEN


def test_closing_ends_open_cards_and_closed_cases_get_none(make_case):
    case_id = make_case(until="handle", at=T0)
    with frozen_at(datetime(2026, 3, 6, 2, 0)):
        raise_due_cards()
        for step in ("handle", "feedback", "followup", "verify", "close"):
            do_step(case_id, step)
    assert {c.work_item.status for c in _cards(case_id)} == {WorkItemStatus.CANCELLED}
    with frozen_at(datetime(2026, 3, 20, 2, 0)):
        assert raise_due_cards() == 0


def test_a_round_after_the_cards_are_raised_reads_no_case_again(make_case):
    case_ids = [make_case(until="handle", at=T0) for _ in range(3)]
    late = db.session.get(Case, case_ids[0]).due_at + timedelta(hours=73)
    with frozen_at(late):
        assert raise_due_cards() == 9  # three cases, three levels each
        with statements() as seen:
            assert raise_due_cards() == 0
    assert len(seen) <= 2, seen  # the rules and the cases still lacking a card: none
    with frozen_at(late), statements() as seen:
        assert raise_due_cards(limit=1) == 0
    assert len(seen) <= 2

