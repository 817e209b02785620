"""Working as a unit: claims, reassignment, comments, notifications, repeat parties, the accused unit."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from portal.clock import utcnow
from portal.extensions import db
from portal.models import AuditEvent, Case, Notification, WorkItem
from portal.services.accounts import create_user
from portal.services.cases import complete_task, register_case
from portal.services.claims import claim, reassign, release
from portal.services.comments import add_comment, deliver_notifications, mark_read, unread_count
from portal.services.errors import CaseForbiddenError, ClaimedByOtherError, TaskNotYoursError, ValidationFailed
from portal.services.queries import Filters, repeat_cases, repeat_parties, unit_cases, worklist
from portal.services.supervision import raise_card
from tests.conftest import (
    PASSWORD,
    STEP_FORMS,
    do_step,
    intake_data,
    open_item,
    row_counts,
    statements,
    unit_id,
    user,
)


@pytest.fixture
def colleague(ctx):
    """A second clerk of 司法局."""
    if user("sifa2") is None:
        create_user("sifa2", "司法局承办人二", ["dept_handler"], "D03", PASSWORD)
    return user("sifa2")


def test_a_claimed_step_is_worked_by_its_claimer_only_until_released(make_case, colleague):
    case_id = make_case(until="handle")
    item = open_item(case_id, "handle")
    claim(user("sifa"), item.id)
    assert [i.id for i in worklist(colleague)] == []                 # gone from the colleague's to-do
    assert [i.id for i in worklist(user("sifa"))] == [item.id]
    before = row_counts()
    with pytest.raises(ValidationFailed) as refused:                  # a claim on a claimed step
        claim(colleague, item.id)
    assert "司法局承办人二" not in str(refused.value) and row_counts() == before
    with pytest.raises(ClaimedByOtherError):
        complete_task(colleague, item.id, STEP_FORMS["handle"][1]())
    with pytest.raises(TaskNotYoursError):                            # only the claimer or a leader releases
        release(colleague, item.id)
    assert row_counts() == before
    release(user("sifa"), item.id)
    assert db.session.get(WorkItem, item.id).claimed_by_id is None
    claim(colleague, item.id)
    complete_task(colleague, item.id, STEP_FORMS["handle"][1]())
    assert open_item(case_id, "feedback") is not None
    actions = [e.action for e in db.session.scalars(select(AuditEvent).where(AuditEvent.case_id == case_id))]
    assert actions.count("work.claim") == 2 and actions.count("work.release") == 1


def test_a_unit_leader_reassigns_in_bulk_within_the_unit_only(make_case, colleague):
    first, second = make_case(until="handle"), make_case(until="handle")
    items = [open_item(first, "handle").id, open_item(second, "handle").id]
    before = row_counts()
    with pytest.raises(TaskNotYoursError):                            # a clerk is not a leader
        reassign(user("sifa"), items, colleague.id)
    with pytest.raises(ValidationFailed) as refused:                  # 人社局's clerk is outside the unit
        reassign(user("sifalead"), items, user("renshe").id)
    assert refused.value.field == "to_user_id" and row_counts() == before
    assert {i.claimed_by_id for i in db.session.scalars(select(WorkItem).where(WorkItem.id.in_(items)))} == {None}
    reassign(user("sifalead"), items, colleague.id)
    assert {i.claimed_by_id for i in db.session.scalars(select(WorkItem).where(WorkItem.id.in_(items)))} \
        == {colleague.id}
    assert sorted(i.id for i in worklist(colleague)) == sorted(items) and worklist(user("sifa")) == []


def test_notifications_are_delivered_after_commit_once_to_the_unit(make_case, colleague):
    case_id = make_case(until="dispatch")
    assert deliver_notifications() >= 1                               # earlier steps' items for the center
    mark_read(user("dispatch"))
    do_step(case_id, "dispatch")                                      # a new 接件 step for 司法局
    assert unread_count(user("sifa")) == 0                            # nothing before the worker runs
    delivered = deliver_notifications()
    assert delivered == 2 and deliver_notifications() == 0            # sifa and sifa2, once
    [note] = db.session.scalars(select(Notification).where(Notification.user_id == user("sifa").id)).all()
    assert note.kind == "new_task" and "接件" in note.text and note.url.startswith("/cases/task/")
    assert unread_count(user("renshe")) == 0 and unread_count(user("sifalead")) == 0
    add_comment(user("dispatch"), case_id, "请注意当事人情绪，先电话联系。")
    assert deliver_notifications() == 4  # the unit holding the case hears of it: its leader and legal-aid desk too
    assert mark_read(user("sifa")) == 2 and unread_count(user("sifa")) == 0


def test_steps_that_another_worker_holds_are_left_to_it_and_announced_once(make_case):
    """Workers on several machines: a step whose row another transaction holds is skipped, the rest of
    its batch is announced, and the held one is announced by the next round, once."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("row locks skipped by other workers are PostgreSQL's (SQLite lets one worker in at a time)")
    first, second = make_case(until="dispatch"), make_case(until="dispatch")
    deliver_notifications()
    do_step(first, "dispatch")
    do_step(second, "dispatch")
    held, free = open_item(first, "accept").id, open_item(second, "accept").id
    with db.engine.connect() as other:                                # another worker's transaction
        other.execute(select(WorkItem.id).where(WorkItem.id == held).with_for_update())
        assert deliver_notifications() == 2                           # sifa and sifa2 hear of the free one
        other.rollback()
    sources = lambda: list(db.session.scalars(select(Notification.source).where(  # noqa: E731
        Notification.user_id == user("sifa").id, Notification.source.in_([f"item:{held}", f"item:{free}"]))
        .order_by(Notification.id)))
    assert sources() == [f"item:{free}"]
    assert deliver_notifications() == 2 and deliver_notifications() == 0
    assert sources() == [f"item:{free}", f"item:{held}"]


def test_a_returned_case_and_a_card_are_announced_as_such(make_case):
    case_id = make_case(until="verify")
    deliver_notifications()
    complete_task(user("verify"), open_item(case_id, "verify").id, {"passed": "no", "opinion": "请补充履行凭证"})
    deliver_notifications()
    kinds = {n.kind for n in db.session.scalars(select(Notification).where(Notification.user_id == user("sifa").id))}
    assert "returned" in kinds
    raise_card(user("director"), case_id, "yellow", "反复退回，请单位负责人督促")
    assert deliver_notifications() == 1                               # the unit's leader answers cards
    [card] = db.session.scalars(select(Notification).where(Notification.user_id == user("sifalead").id,
                                                           Notification.kind == "card")).all()
    assert "督办" in card.text


def test_a_comment_needs_text_and_a_visible_case(make_case):
    case_id = make_case(until="handle")
    before = row_counts()
    with pytest.raises(ValidationFailed):
        add_comment(user("sifa"), case_id, "  ")
    with pytest.raises(CaseForbiddenError):
        add_comment(user("renshe"), case_id, "看看")
    assert row_counts() == before


def test_repeat_parties_are_found_by_id_number(ctx):
    first = register_case(user("window"), intake_data())
    second = register_case(user("window"), intake_data(title="张三与王五借款纠纷"))
    third = register_case(user("window"), intake_data(parties=intake_data().parties[1:] + [
        type(intake_data().parties[0])("applicant", "赵六", "", "13700137000", "")]))
    assert [c.id for c in repeat_cases(user("window"), second)] == [first.id]
    assert repeat_cases(user("window"), third) == []
    [(number, name, count, cases)] = repeat_parties()
    assert (number, name, count) == ("11010519491231002X", "张三", 2)
    assert [c.id for c in cases] == [first.id, second.id]


def test_the_accused_unit_never_sees_the_case_and_cannot_be_given_it(ctx):
    case = register_case(user("window"), intake_data(accused_unit_id=unit_id("D06")))
    do_step(case.id, "triage")
    before = row_counts()
    with pytest.raises(ValidationFailed) as refused:
        do_step(case.id, "dispatch", assigned_unit_id=unit_id("D06"))
    assert refused.value.field == "assigned_unit_id" and row_counts() == before
    do_step(case.id, "dispatch", cooperating_unit_ids=[])
    assert case.id not in [c.id for c in unit_cases(user("renshe"))]
    assert case.id in [c.id for c in unit_cases(user("sifa"))]


def test_filters_narrow_the_unit_cases(make_case):
    a = make_case(until="dispatch")
    b = make_case(until="dispatch", title="王五与赵六噪音纠纷")
    dispatcher = user("dispatch")
    assert {c.id for c in unit_cases(dispatcher)} >= {a, b}
    assert [c.id for c in unit_cases(dispatcher, Filters(party="李四"))] == [b, a]
    assert [c.id for c in unit_cases(dispatcher, Filters(status="closed"))] == []
    code = db.session.get(Case, a).code
    assert [c.id for c in unit_cases(dispatcher, Filters(code=code.lower()))] == [a]


def test_the_worklist_lists_the_soonest_deadline_first_and_steps_without_one_last(make_case):
    case_ids = [make_case(until="triage") for _ in range(4)]
    items = [open_item(case_id, "triage") for case_id in case_ids]
    now = utcnow()
    for item, due in zip(items, [now + timedelta(days=2), None, now + timedelta(hours=1), None], strict=True):
        item.due_at = due
    items[3].created_at = items[1].created_at - timedelta(minutes=5)  # without a deadline: the older first
    db.session.commit()
    listed = [w.id for w in worklist(user("dispatch")) if w.case_id in case_ids]
    assert listed == [items[2].id, items[0].id, items[3].id, items[1].id]


def test_a_notification_to_a_large_unit_reads_its_members_roles_at_once(make_case):
    for n in range(5):  # 司法局 grows: five more handlers
        if user(f"sifa-extra{n}") is None:
            create_user(f"sifa-extra{n}", f"司法局承办人{n}", ["dept_handler"], "D03", PASSWORD)
    case_id = make_case(until="dispatch")
    deliver_notifications()
    do_step(case_id, "dispatch")                                      # a new 接件 step for 司法局
    with statements() as seen:
        assert deliver_notifications() >= 6                           # sifa and the five (and sifa2)
    assert sum("ab_user_role" in s for s in seen) == 1



def test_a_worklist_of_several_lanes_pages_in_one_deadline_order(make_case):
    """A user of two roles works two lanes (triage's and verification's): each lane is read on its own
    and the heads merged, so the pages must come out as one list in deadline order, steps without a
    deadline last, each step on exactly one page, whatever lane it is in."""
    from portal.services.queries import lanes_for
    if user("two_lanes") is None:
        create_user("two_lanes", "调度兼核查", ["dispatcher", "verifier"], "CENTER", PASSWORD)
    worker = user("two_lanes")
    triage = [make_case("triage") for _ in range(5)]
    verify = [make_case("verify") for _ in range(5)]
    lanes = {open_item(triage[0], "triage").lane, open_item(verify[0], "verify").lane}
    assert len(lanes) == 2 and lanes <= lanes_for(worker)
    now = utcnow()
    # deadlines interleaved across the lanes, and some steps of each lane without one
    for n, case_id in enumerate(triage[:3]):
        open_item(case_id, "triage").due_at = now + timedelta(hours=2 * n + 1)
    for n, case_id in enumerate(verify[:3]):
        open_item(case_id, "verify").due_at = now + timedelta(hours=2 * n)
    for item in (open_item(c, "triage") for c in triage[3:]):
        item.due_at = None
    for item in (open_item(c, "verify") for c in verify[3:]):
        item.due_at = None
    db.session.commit()
    ours = {open_item(c, "triage").id for c in triage} | {open_item(c, "verify").id for c in verify}
    everything = worklist(worker, limit=10_000)
    expected = [i.id for i in everything]
    key = [(i.due_at is None, i.due_at or i.created_at, i.created_at, i.id) for i in everything]
    assert key == sorted(key) and ours <= set(expected)
    pages = [[i.id for i in worklist(worker, limit=3, offset=offset)] for offset in range(0, len(expected), 3)]
    assert [item_id for page in pages for item_id in page] == expected
    assert all(len(page) == 3 for page in pages[:-1])
    assert worklist(worker, limit=3, offset=len(expected)) == []
