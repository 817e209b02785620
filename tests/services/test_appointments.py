"""Online mediation sessions scheduled ahead: by the mediator handling the case, for parties who consented to
online handling; the parties see them when following the case; afterwards the mediator records who joined and
the result, which is the session's record like any other."""
from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import select

from portal.clock import frozen_at, utcnow
from portal.extensions import db
from portal.models import AppointmentStatus, AuditEvent, Case, MediationSession, PartyKind, SessionResult
from portal.services.appointments import AppointmentData, OutcomeData, record_outcome, schedule_session
from portal.services.deadlines import utc_to_local
from portal.services.delivery import record_consent
from portal.services.errors import TaskNotYoursError, ValidationFailed
from portal.services.sessions import sessions_of
from portal.services.tracking import find_tracker, tracked_case
from tests.conftest import user
from tests.online import clean_online, online_counts, without_audit  # noqa: F401

LINK = "https://meeting.example.cn/j/8812345"


@pytest.fixture
def handled(make_case):
    """A case at handling by 司法局 (sifa), both parties having agreed to online handling at the window."""
    case = db.session.get(Case, make_case(until="handle"))
    for party in case.parties:
        record_consent(user("window"), case.id, party.id, True, False)
    return case


def _data(case, hours=24, **overrides):
    values = dict(starts_at=utc_to_local(utcnow() + timedelta(hours=hours)), meeting_link=LINK,
                  participant_ids=[p.id for p in case.parties], others="王明（调解员）")
    values.update(overrides)
    return AppointmentData(**values)


def _outcome(case, **overrides):
    values = dict(attended_ids=[case.parties_of(PartyKind.APPLICANT)[0].id], mediators="王明",
                  applicant_statement="要求按老界址确定边界", respondent_statement="未上线", result="adjourned",
                  kind="peoples", notes="另行约定时间")
    values.update(overrides)
    return OutcomeData(**values)


def test_the_mediator_schedules_and_the_parties_see_it(handled):
    appointment = schedule_session(user("sifa"), handled.id, _data(handled))
    assert appointment.status == AppointmentStatus.SCHEDULED and appointment.meeting_link == LINK
    seen = tracked_case(find_tracker(handled.code, "8000")).sessions
    assert [s.id for s in seen] == [appointment.id]
    assert tracked_case(find_tracker(handled.code, "9000")).sessions[0].starts_at == appointment.starts_at


def test_a_party_not_invited_does_not_see_the_session(handled):
    applicant = handled.parties_of(PartyKind.APPLICANT)[0]
    schedule_session(user("sifa"), handled.id, _data(handled, participant_ids=[applicant.id]))
    assert tracked_case(find_tracker(handled.code, "9000")).sessions == []


@pytest.mark.parametrize("overrides,field", [
    (dict(hours=-1), "starts_at"), (dict(starts_at=None), "starts_at"),
    (dict(meeting_link="meeting.example.cn/j/1"), "meeting_link"), (dict(meeting_link="javascript:alert(1)"),
                                                                      "meeting_link"),
    (dict(participant_ids=[]), "participant_ids"), (dict(participant_ids=[999999]), "participant_ids"),
])
def test_a_bad_schedule_is_refused(handled, overrides, field):
    before = online_counts()
    with pytest.raises(ValidationFailed) as refused:
        schedule_session(user("sifa"), handled.id, _data(handled, **overrides))
    assert refused.value.field == field
    assert online_counts() == before


def test_only_parties_who_agreed_to_online_handling_may_be_invited(make_case):
    case = db.session.get(Case, make_case(until="handle"))
    applicant, respondent = case.parties_of(PartyKind.APPLICANT)[0], case.parties_of(PartyKind.RESPONDENT)[0]
    record_consent(user("window"), case.id, applicant.id, True, True)
    with pytest.raises(ValidationFailed) as refused:
        schedule_session(user("sifa"), case.id, _data(case))
    assert "李四" in str(refused.value) and "张三" not in str(refused.value)
    record_consent(user("window"), case.id, respondent.id, True, False)
    assert schedule_session(user("sifa"), case.id, _data(case)).id


@pytest.mark.parametrize("username", ["window", "dispatch", "cun", "renshe"])
def test_only_the_mediator_handling_the_case_schedules(handled, username):
    before = online_counts()
    with pytest.raises(TaskNotYoursError):
        schedule_session(user(username), handled.id, _data(handled))
    assert without_audit(online_counts()) == without_audit(before)


def test_attendance_and_result_make_the_session_record(handled):
    appointment = schedule_session(user("sifa"), handled.id, _data(handled, hours=2))
    held_before = len(sessions_of(handled.id))
    with pytest.raises(ValidationFailed):                     # not held yet
        record_outcome(user("sifa"), appointment.id, _outcome(handled))
    with frozen_at(utcnow() + timedelta(hours=3)):
        with pytest.raises(TaskNotYoursError):
            record_outcome(user("window"), appointment.id, _outcome(handled))
        with pytest.raises(ValidationFailed):
            record_outcome(user("sifa"), appointment.id, _outcome(handled, attended_ids=[999999]))
        session = record_outcome(user("sifa"), appointment.id, _outcome(handled))
        with pytest.raises(ValidationFailed):                 # once
            record_outcome(user("sifa"), appointment.id, _outcome(handled))
    db.session.expire_all()
    record = db.session.get(MediationSession, session.id)
    assert (record.meeting_link, record.place, record.result) == (LINK, "线上视频会议", SessionResult.ADJOURNED)
    assert record.attendees == "张三、王明（调解员）" and record.held_at == appointment.starts_at
    assert len(sessions_of(handled.id)) == held_before + 1
    assert (appointment.status, appointment.session_id) == (AppointmentStatus.HELD, session.id)
    assert json.loads(appointment.attended_ids) == [handled.parties_of(PartyKind.APPLICANT)[0].id]
    actions = list(db.session.scalars(select(AuditEvent.action).where(AuditEvent.case_id == handled.id)))
    assert {"case.session_scheduled", "case.session", "case.session_attendance"} <= set(actions)
