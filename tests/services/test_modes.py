"""Handling by mode, escalation and the follow-up schedule: one path per mode, outcome and turn of the chain.

Each path is driven through the services at an injected clock and checks the case's status, the open work
items with their units and deadlines, and the audit trail at each step.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from portal.clock import frozen_at
from portal.extensions import db
from portal.models import AuditEvent, Case, CaseStatus, MediationSession, WorkItem, WorkItemStatus
from portal.services.cases import complete_task, register_case
from portal.services.errors import TaskNotYoursError, ValidationFailed
from portal.services.supervision import raise_due_cards
from portal.services.timers import fire_due_timers
from tests.conftest import (
    AGREEMENT,
    STEP_FORMS,
    do_step,
    intake_data,
    open_item,
    record_session,
    row_counts,
    session_form,
    unit_id,
    user,
)

T0 = datetime(2026, 3, 2, 1, 0)  # Monday 2026-03-02 09:00 in Beijing


def _actions(case_id):
    return [e.action for e in db.session.scalars(select(AuditEvent).where(AuditEvent.case_id == case_id)
                                                 .order_by(AuditEvent.id))]


def _open(case_id):
    return {w.bpmn_id: w for w in db.session.scalars(select(WorkItem).where(
        WorkItem.case_id == case_id, WorkItem.status == WorkItemStatus.OPEN))}


def _status(case_id):
    return db.session.get(Case, case_id).status


def _to_dispatch(mode, at=T0, **intake):
    with frozen_at(at):
        case_id = register_case(user("window"), intake_data(**intake)).id
        do_step(case_id, "triage", resolution_mode=mode)
    return case_id


def _assign(case_id, unit_code, at=T0, handler="sifa"):
    with frozen_at(at):
        do_step(case_id, "dispatch", assigned_unit_id=unit_id(unit_code))
        complete_task(user(handler), open_item(case_id, "accept").id, {"accepted": "yes"})


def _finish(case_id, at, handler="sifa", **handle):
    """Handle (with the given result), feed back, visit, verify and close."""
    with frozen_at(at):
        complete_task(user(handler), open_item(case_id, "handle").id, {**STEP_FORMS["handle"][1](), **handle})
        complete_task(user(handler), open_item(case_id, "feedback").id, STEP_FORMS["feedback"][1]())
        for step in ("followup", "verify", "close"):
            do_step(case_id, step)


def test_at_home_is_mediated_by_the_village_committee_with_a_written_agreement(ctx):
    case_id = _to_dispatch("at_home")
    before = row_counts()
    with frozen_at(T0), pytest.raises(ValidationFailed) as refused:   # a county department does not go 上门
        do_step(case_id, "dispatch", assigned_unit_id=unit_id("D03"))
    assert refused.value.field == "assigned_unit_id" and "调委会" in str(refused.value)
    assert row_counts() == before
    _assign(case_id, "T01V02C", handler="cun")
    handle = open_item(case_id, "handle")
    assert handle.org_unit_id == unit_id("T01V02C") and _status(case_id) == CaseStatus.HANDLING
    with frozen_at(T0 + timedelta(hours=3)):
        before = row_counts()
        with pytest.raises(ValidationFailed) as refused:           # where did the session sit?
            record_session(case_id, "cun", place="")
        assert refused.value.field == "place" and row_counts() == before
        with pytest.raises(ValidationFailed):                       # an agreement rests on a recorded session
            complete_task(user("cun"), handle.id, STEP_FORMS["handle"][1]())
        assert row_counts() == before
        session = record_session(case_id, "cun", place="文庙社区二组12号（申请人家中）", attendees="村民小组长 刘五")
    assert (session.seq, session.kind.value, session.mode) == (1, "peoples", "at_home")
    _finish(case_id, T0 + timedelta(hours=5), handler="cun", agreement_no="(2026)示人调字第1号",
            case_source="application")   # the committee numbers its agreement and says how the case came
    case = db.session.get(Case, case_id)
    assert case.status == CaseStatus.CLOSED and case.handling_result == "written_agreement"
    assert case.agreement_date == date(2026, 3, 2)
    assert _actions(case_id) == ["case.register", "case.step", "case.step", "case.step", "case.session"] + \
        ["case.step"] * 5


def test_on_site_needs_the_scene_and_the_grid_member_and_ends_with_an_oral_agreement(ctx):
    case_id = _to_dispatch("on_site")
    with frozen_at(T0), pytest.raises(ValidationFailed):           # a county department does not run there
        do_step(case_id, "dispatch", assigned_unit_id=unit_id("D03"))
    _assign(case_id, "T01", handler="xiang")
    assert open_item(case_id, "handle").org_unit_id == unit_id("T01")
    with frozen_at(T0 + timedelta(hours=1)):
        with pytest.raises(ValidationFailed) as refused:
            record_session(case_id, "xiang", place="解放路菜市场门口", attendees="")
        assert refused.value.field == "attendees"
        record_session(case_id, "xiang", place="解放路菜市场门口", attendees="网格员 陈七（解放路社区第1网格）")
    _finish(case_id, T0 + timedelta(hours=2), handler="xiang", result="oral_agreement")
    case = db.session.get(Case, case_id)
    assert (case.status, case.handling_result) == (CaseStatus.CLOSED, "oral_agreement")


def test_online_needs_the_meeting_link_and_a_terminated_mediation_names_the_next_channel(ctx):
    case_id = _to_dispatch("online")
    _assign(case_id, "D03")
    with frozen_at(T0 + timedelta(hours=1)):
        for link in ("", "腾讯会议 123", "ftp://meet.example/1"):
            with pytest.raises(ValidationFailed) as refused:
                record_session(case_id, meeting_link=link, result="no_agreement")
            assert refused.value.field == "meeting_link"
        before = row_counts()
        with pytest.raises(ValidationFailed):                       # terminated needs the next channel
            complete_task(user("sifa"), open_item(case_id, "handle").id,
                          {"result": "terminated", "process_notes": "分歧较大", "next_channel": ""})
        assert row_counts() == before
        record_session(case_id, meeting_link="https://meeting.tencent.com/dm/abc123", place="",
                       result="no_agreement")
    _finish(case_id, T0 + timedelta(hours=2), result="terminated", process_notes="双方分歧较大，调解终止",
            next_channel="可向县人民法院起诉", agreement_date=None)
    case = db.session.get(Case, case_id)
    assert (case.status, case.handling_result) == (CaseStatus.CLOSED, "terminated")
    [session] = db.session.scalars(select(MediationSession).where(MediationSession.case_id == case_id)).all()
    assert session.meeting_link.startswith("https://") and session.result.value == "no_agreement"


def test_in_center_names_the_kind_of_mediation_and_may_send_the_case_to_its_lawful_channel(ctx):
    case_id = _to_dispatch("in_center")
    _assign(case_id, "D03")
    with frozen_at(T0 + timedelta(hours=1)):
        with pytest.raises(ValidationFailed) as refused:
            record_session(case_id, kind="judicial")
        assert refused.value.field == "kind"
        record_session(case_id, kind="administrative", result="no_agreement")
        with pytest.raises(ValidationFailed):   # no session ended in agreement: no agreement can be reported
            complete_task(user("sifa"), open_item(case_id, "handle").id, STEP_FORMS["handle"][1]())
    _finish(case_id, T0 + timedelta(hours=2), result="redirected", process_notes="属劳动争议",
            next_channel="县劳动人事争议仲裁委员会")
    assert db.session.get(Case, case_id).handling_result == "redirected"


def test_a_session_is_recorded_only_by_the_unit_handling_the_case_and_not_in_the_future(ctx):
    case_id = _to_dispatch("in_center")
    _assign(case_id, "D03")
    before = row_counts()
    with frozen_at(T0 + timedelta(hours=1)):
        with pytest.raises(TaskNotYoursError):
            record_session(case_id, "renshe")
        with pytest.raises(ValidationFailed) as refused:
            record_session(case_id, held_at=session_form()["held_at"] + timedelta(days=1))
        assert refused.value.field == "held_at"
        with pytest.raises(ValidationFailed):
            record_session(case_id, applicant_statement=" ")
    assert row_counts() == before


def test_litigation_goes_to_pre_filing_mediation_which_settles(ctx):
    case_id = _to_dispatch("litigation")
    _assign(case_id, "D04", handler="fayuan")
    item = open_item(case_id, "pre_suit")
    assert _status(case_id) == CaseStatus.PRE_SUIT
    assert item.org_unit_id == unit_id("D04") and item.due_at == T0 + timedelta(days=30)
    assert db.session.get(Case, case_id).next_timer_due_at == T0 + timedelta(days=30)
    settle = {"outcome": "agreement", "process_notes": "经法院委派调解达成协议", "agreement_date": date(2026, 3, 20),
              "applicant_signed": True, "respondent_signed": True, **AGREEMENT}
    with frozen_at(T0 + timedelta(days=18)):
        with pytest.raises(ValidationFailed):          # the session the agreement came from is not recorded
            complete_task(user("fayuan"), item.id, settle)
        session = record_session(case_id, "fayuan", kind="", place="县人民法院诉调对接中心")
        assert session.kind.value == "judicial"
        complete_task(user("fayuan"), item.id, settle)
    case = db.session.get(Case, case_id)
    assert case.status == CaseStatus.FEEDBACK and case.handling_result == "written_agreement"
    assert case.next_timer_due_at is None and set(_open(case_id)) == {"feedback"}


def test_pre_filing_mediation_that_fails_is_registered_by_the_court(ctx):
    case_id = _to_dispatch("litigation")
    _assign(case_id, "D04", handler="fayuan")
    item = open_item(case_id, "pre_suit")
    with frozen_at(T0 + timedelta(days=5)):
        before = row_counts()
        with pytest.raises(ValidationFailed):          # "far apart" needs a session to show it
            complete_task(user("fayuan"), item.id, {"outcome": "far_apart", "process_notes": "分歧较大"})
        assert row_counts() == before
        record_session(case_id, "fayuan", place="县人民法院诉调对接中心", result="no_agreement")
        complete_task(user("fayuan"), item.id, {"outcome": "far_apart", "process_notes": "双方对赔偿数额分歧较大"})
    filing = open_item(case_id, "court_filing")
    assert _status(case_id) == CaseStatus.COURT_FILING
    assert filing.due_at == T0 + timedelta(days=12) and filing.org_unit_id == unit_id("D04")
    assert db.session.get(Case, case_id).next_timer_due_at is None     # the 30-day timer ended with the step
    with frozen_at(T0 + timedelta(days=7)):
        complete_task(user("fayuan"), filing.id, {"filed": "yes", "court_case_no": "(2026)示0101民初123号",
                                                  "decided_on": date(2026, 3, 9)})
    assert set(_open(case_id)) == {"close"}
    with frozen_at(T0 + timedelta(days=7)):
        complete_task(user("dispatch"), open_item(case_id, "close").id,
                      {"closing_type": "redirected", "summary": "诉前调解不成，已登记立案"})
    case = db.session.get(Case, case_id)
    assert (case.status, case.closing_type, case.handling_result) == (CaseStatus.CLOSED, "redirected", "redirected")


def test_escalation_to_the_county_needs_a_reason_and_comes_back_to_dispatch(ctx):
    case_id = _to_dispatch("in_center", people_count=30)
    item = open_item(case_id, "dispatch")
    before = row_counts()
    with frozen_at(T0), pytest.raises(ValidationFailed) as refused:
        complete_task(user("dispatch"), item.id, {"escalate": "yes", "escalation_reason": ""})
    assert refused.value.field == "escalation_reason" and row_counts() == before
    with frozen_at(T0):
        complete_task(user("dispatch"), item.id, {"escalate": "yes",
                                                  "escalation_reason": "涉及30人的群体性纠纷，需县级统筹"})
    review = open_item(case_id, "escalate")
    assert _status(case_id) == CaseStatus.ESCALATED
    assert review.lane == "中心主任" and review.due_at == T0 + timedelta(days=3)
    with frozen_at(T0 + timedelta(days=1)):
        with pytest.raises(TaskNotYoursError):
            complete_task(user("dispatch"), review.id, {"county_leader": "王副县长", "opinion": "司法局牵头"})
        with pytest.raises(ValidationFailed):
            complete_task(user("director"), review.id, {"county_leader": "", "opinion": "司法局牵头"})
        complete_task(user("director"), review.id, {"county_leader": "王副县长",
                                                    "opinion": "县领导包案，司法局牵头，人社局配合，10日内化解"})
    assert _status(case_id) == CaseStatus.DISPATCHING and set(_open(case_id)) == {"dispatch"}
    _assign(case_id, "D03", at=T0 + timedelta(days=1))
    assert _status(case_id) == CaseStatus.HANDLING
    assert _actions(case_id).count("case.step") == 5   # triage, escalate, county review, dispatch, accept


def test_follow_up_is_scheduled_after_the_performance_date(ctx):
    case_id = _to_dispatch("in_center")
    _assign(case_id, "D03")
    with frozen_at(T0 + timedelta(hours=2)):
        do_step(case_id, "handle")
        item = open_item(case_id, "feedback")
        before = row_counts()
        with pytest.raises(ValidationFailed) as refused:
            complete_task(user("sifa"), item.id, {"fulfilment": "not_yet", "summary": "约定分期履行",
                                                  "performance_due": date(2026, 3, 1)})
        assert refused.value.field == "performance_due" and row_counts() == before
        complete_task(user("sifa"), item.id, {"fulfilment": "not_yet", "summary": "约定3月12日前付清",
                                              "performance_due": date(2026, 3, 12)})
    case = db.session.get(Case, case_id)
    assert case.status == CaseStatus.FOLLOWUP_SCHEDULED and _open(case_id) == {} and case.current_step is None
    assert case.next_timer_due_at == T0 + timedelta(hours=2, days=11)
    with frozen_at(T0 + timedelta(days=11)):
        assert fire_due_timers() == 0
    with frozen_at(T0 + timedelta(days=11, hours=3)):
        assert fire_due_timers() == 1
    followup = open_item(case_id, "followup")
    assert _status(case_id) == CaseStatus.FOLLOWING_UP
    assert followup.due_at == T0 + timedelta(days=14, hours=3)


def test_every_timer_of_the_chain_fires(ctx):
    """接件 1 hour, the tier deadline's three cards, the follow-up schedule and the 30 days of 诉前调解."""
    case_id = _to_dispatch("in_center")
    with frozen_at(T0):
        do_step(case_id, "dispatch")
    with frozen_at(T0 + timedelta(minutes=61)):                 # 1. nobody took the case within the hour
        assert fire_due_timers() == 1
    assert set(_open(case_id)) == {"accept", "supervise_accept"}
    with frozen_at(T0 + timedelta(minutes=70)):
        do_step(case_id, "accept")
    due = db.session.get(Case, case_id).due_at                  # 2. the tier deadline (一般: 3 days)
    levels = []
    for at in (due - timedelta(hours=25), due - timedelta(hours=23), due + timedelta(minutes=1),
               due + timedelta(hours=73)):
        with frozen_at(at):
            raise_due_cards()
        levels.append(db.session.scalar(select(func.count()).select_from(WorkItem).where(
            WorkItem.case_id == case_id, WorkItem.form_key == "supervision_card")))
    assert levels == [0, 1, 2, 3]
    with frozen_at(due + timedelta(hours=74)):                  # 3. the follow-up after the performance date
        do_step(case_id, "handle")
        do_step(case_id, "feedback", fulfilment="partly", performance_due=date(2026, 3, 20))
    with frozen_at(datetime(2026, 3, 21, 0, 0)):
        assert fire_due_timers() == 1
    assert "followup" in _open(case_id)
    lit = _to_dispatch("litigation")                            # 4. 诉前调解 ends after 30 days
    _assign(lit, "D04", handler="fayuan")
    with frozen_at(T0 + timedelta(days=30, minutes=1)):
        assert fire_due_timers() == 1
    assert set(_open(lit)) == {"court_filing"} and _status(lit) == CaseStatus.COURT_FILING
    assert db.session.scalar(select(WorkItem.status).where(WorkItem.case_id == lit,
                                                           WorkItem.bpmn_id == "pre_suit")) == \
        WorkItemStatus.CANCELLED
    assert _actions(lit)[-1] == "case.timer"
