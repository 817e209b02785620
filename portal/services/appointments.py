"""Online mediation sessions set ahead (线上调): the mediator handling the case schedules the time,
the meeting link and who is to join; the parties see it on their tracking page; afterwards the
mediator records who joined and how it went, which makes the session's record (调解记录) through
``sessions.record_session`` -- the same record as any other session.

Only parties who consented to online handling may be asked to join (民诉法 §16; 在线诉讼规则 §4).
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import urlsplit

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from portal.clock import utcnow
from portal.extensions import db
from portal.models import AppointmentStatus, Case, MediationSession, Party, PartyConsent, SessionAppointment
from portal.services._tx import transaction
from portal.services.audit import audit
from portal.services.deadlines import local_to_utc, utc_to_local
from portal.services.errors import DomainError, TaskNotYoursError, ValidationFailed
from portal.services.locks import lock_case
from portal.services.sessions import SessionData, mediating_item, record_session


class AppointmentNotFoundError(DomainError):
    status_code = 404
    message = _l("There is no such scheduled session.")


@dataclass
class AppointmentData:
    starts_at: datetime | None       # county wall-clock time, as typed
    meeting_link: str
    participant_ids: list[int] = field(default_factory=list)
    others: str = ""


@dataclass
class OutcomeData:
    """Who joined, and the session's record (as ``SessionData`` without time, link and attendees)."""

    attended_ids: list[int]
    mediators: str
    applicant_statement: str
    respondent_statement: str
    result: str
    kind: str = ""
    recorder: str = ""
    notes: str = ""


def can_schedule(user, case: Case) -> bool:
    """The mediator handling the case (its open handling or pre-filing mediation step is theirs)."""
    return mediating_item(user, case) is not None


def _check_link(link: str) -> str:
    link = (link or "").strip()
    parts = urlsplit(link)
    if parts.scheme not in ("http", "https") or not parts.netloc or len(link) > 300:
        raise ValidationFailed(_l("Online mediation: give the meeting link (http:// or https://)."),
                               field="meeting_link")
    return link


def _participants(case: Case, ids: list[int]) -> list[Party]:
    parties = {p.id: p for p in case.parties}
    chosen = [parties[i] for i in dict.fromkeys(ids) if i in parties]
    if not chosen or len(chosen) != len(set(ids)):
        raise ValidationFailed(_l("Choose the parties who are to join, from this case."), field="participant_ids")
    consents = {c.party_id: c for c in db.session.scalars(
        select(PartyConsent).where(PartyConsent.party_id.in_([p.id for p in chosen])))}
    refused = [p.name for p in chosen if not (consents.get(p.id) and consents[p.id].online_handling)]
    if refused:
        raise ValidationFailed(_l("%(names)s did not agree to online handling: record their consent first, "
                                  "or hold the session in person."), field="participant_ids",
                               names="、".join(refused))
    return chosen


@transaction
def schedule_session(user, case_id: int, data: AppointmentData) -> SessionAppointment:
    """Schedule an online session of a case the user is mediating, for a time still to come."""
    case = lock_case(case_id)
    if not can_schedule(user, case):
        raise TaskNotYoursError()
    if data.starts_at is None:
        raise ValidationFailed(_l("Give the date and time of the session."), field="starts_at")
    now = utcnow()
    starts_at = local_to_utc(data.starts_at.replace(tzinfo=None))
    if starts_at <= now:
        raise ValidationFailed(_l("The session must be scheduled for a time still to come."), field="starts_at")
    link = _check_link(data.meeting_link)
    chosen = _participants(case, data.participant_ids)
    others = data.others.strip()
    if len(others) > 300:
        raise ValidationFailed(_l("At most %(n)s characters."), field="others", n=300)
    appointment = SessionAppointment(case_id=case.id, starts_at=starts_at, meeting_link=link,
                                     participant_ids=json.dumps([p.id for p in chosen]), others=others or None,
                                     status=AppointmentStatus.SCHEDULED, scheduled_by_id=user.id, scheduled_at=now)
    db.session.add(appointment)
    db.session.flush()
    audit("case.session_scheduled", user=user, case=case, appointment=appointment.id,
          starts_at=starts_at.isoformat(), participants=[p.id for p in chosen])
    return appointment


def appointment(appointment_id: int) -> SessionAppointment:
    found = db.session.get(SessionAppointment, appointment_id)
    if found is None:
        raise AppointmentNotFoundError()
    return found


def participants_of(appointment: SessionAppointment) -> list[Party]:
    ids = json.loads(appointment.participant_ids)
    return [p for p in db.session.scalars(select(Party).where(Party.id.in_(ids)).order_by(Party.seq))]


@transaction
def record_outcome(user, appointment_id: int, data: OutcomeData) -> MediationSession:
    """After the session: who joined, and its record, made as every session record is made."""
    found = appointment(appointment_id)
    if found.status != AppointmentStatus.SCHEDULED:
        raise ValidationFailed(_l("This session has been recorded already."))
    case = lock_case(found.case_id)
    if not can_schedule(user, case):
        raise TaskNotYoursError()
    if found.starts_at > utcnow():
        raise ValidationFailed(_l("The session has not begun yet; record it after it is held."))
    invited = {p.id: p for p in participants_of(found)}
    if not set(data.attended_ids) <= set(invited):
        raise ValidationFailed(_l("Tick only parties who were to join."), field="attended_ids")
    joined = [invited[i].name for i in invited if i in data.attended_ids]
    attendees = "、".join([*joined, *([found.others] if found.others else [])])
    session = record_session.__wrapped__(user, case.id, SessionData(  # the same record, in this transaction
        held_at=utc_to_local(found.starts_at), mediators=data.mediators,
        applicant_statement=data.applicant_statement, respondent_statement=data.respondent_statement,
        result=data.result, kind=data.kind, place=str(_l("Online meeting")), meeting_link=found.meeting_link,
        attendees=attendees, recorder=data.recorder, notes=data.notes))
    found.status, found.session_id = AppointmentStatus.HELD, session.id
    found.attended_ids = json.dumps([i for i in invited if i in data.attended_ids])
    audit("case.session_attendance", user=user, case=case, appointment=found.id, session=session.id,
          attended=json.loads(found.attended_ids))
    return session


def appointments_of(case_id: int) -> list[SessionAppointment]:
    return list(db.session.scalars(select(SessionAppointment).where(SessionAppointment.case_id == case_id)
                                   .order_by(SessionAppointment.starts_at)))
