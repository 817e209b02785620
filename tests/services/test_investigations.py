"""调查记录: recorded by the unit mediating the case, numbered per case, checked, audited; a refusal saves nothing."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from portal.clock import frozen_at
from portal.extensions import db
from portal.models import AuditEvent
from portal.services.cases import complete_task, register_case
from portal.services.errors import TaskNotYoursError, ValidationFailed
from portal.services.investigations import investigations_of
from tests.conftest import do_step, intake_data, open_item, record_investigation, row_counts, unit_id, user

T0 = datetime(2026, 3, 2, 1, 0)  # Monday 09:00 in the county


def test_the_handling_unit_records_investigations_numbered_per_case_and_audited(make_case):
    case_id = make_case(until="handle", at=T0)
    other = make_case(until="handle", at=T0)
    with frozen_at(T0 + timedelta(hours=3)):
        first = record_investigation(case_id, held_at=datetime(2026, 3, 2, 10, 30))   # county time, as typed
        second = record_investigation(case_id, subject="李四", subject_info="", recorder="")
        elsewhere = record_investigation(other)
    assert (first.seq, second.seq, elsewhere.seq) == (1, 2, 1)
    assert first.held_at == datetime(2026, 3, 2, 2, 30)                            # stored in UTC
    assert (second.subject_info, second.recorder, second.present) == (None, None, None)
    assert [r.subject for r in investigations_of(case_id)] == ["刘五", "李四"]
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.case_id == case_id,
                                                         AuditEvent.action == "case.investigation")).all()
    assert [(e.username, e.detail) for e in events] == [("sifa", '{"seq": 1}'), ("sifa", '{"seq": 2}')]


@pytest.mark.parametrize("username,until", [
    ("renshe", "handle"),   # another department
    ("xiang", "handle"),    # the case's township: it sees the case but does not handle it
    ("dispatch", "handle"),  # the center
    ("sifa", "accept"),     # the unit before it has accepted (it may still send the case back)
    ("sifa", "feedback"),   # the unit after handling: mediation is over
])
def test_only_the_unit_while_it_mediates_may_record_and_a_refusal_saves_nothing(make_case, username, until):
    case_id = make_case(until=until)
    before = row_counts()
    with pytest.raises(TaskNotYoursError):
        record_investigation(case_id, username)
    assert row_counts() == before


@pytest.mark.parametrize("overrides,field", [
    ({"place": " "}, "place"), ({"investigators": ""}, "investigators"), ({"subject": ""}, "subject"),
    ({"matter": ""}, "matter"), ({"content": "  \n"}, "content"), ({"held_at": None}, "held_at"),
    ({"held_at": datetime(2026, 3, 2, 8, 0)}, "held_at"),           # before the case was registered
    ({"held_at": datetime(2026, 3, 3, 9, 0)}, "held_at"),           # tomorrow
    ({"place": "院" * 201}, "place"), ({"recorder": "赵" * 51}, "recorder"),
    ({"subject_info": "字" * 301}, "subject_info"),
])
def test_what_an_investigation_must_say(make_case, overrides, field):
    case_id = make_case(until="handle", at=T0)
    before = row_counts()
    with frozen_at(T0 + timedelta(hours=3)), pytest.raises(ValidationFailed) as refused:
        record_investigation(case_id, **overrides)
    assert refused.value.field == field
    assert row_counts() == before


def test_the_court_records_investigations_in_a_pre_filing_mediation(ctx):
    with frozen_at(T0):
        case_id = register_case(user("window"), intake_data()).id
        do_step(case_id, "triage", resolution_mode="litigation")
        do_step(case_id, "dispatch", assigned_unit_id=unit_id("D04"))
        complete_task(user("fayuan"), open_item(case_id, "accept").id, {"accepted": "yes"})
    with frozen_at(T0 + timedelta(days=2)):
        record = record_investigation(case_id, "fayuan", place="县人民法院诉调对接中心")
    assert record.seq == 1 and open_item(case_id, "pre_suit") is not None
