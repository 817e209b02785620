"""调解记录: each sitting of a mediation, recorded by the unit handling the case.

A session says when and where it sat (the residence for 上门调, the scene and the
grid member present for 流动调, the meeting link for 线上调, which mediation for
中心调解, the court's assignment for 诉前调解), who mediated, what each side said
and how it ended. An agreement or a termination cannot be reported without one.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from portal.clock import utcnow
from portal.extensions import db
from portal.models import (
    Case,
    MediationKind,
    MediationSession,
    ResolutionMode,
    SessionResult,
    WorkItem,
    WorkItemStatus,
)
from portal.services._tx import transaction
from portal.services.audit import audit
from portal.services.deadlines import local_to_utc
from portal.services.errors import TaskNotYoursError, ValidationFailed, choice, required_text
from portal.services.locks import lock_case
from portal.services.queries import lanes_for

MEDIATING_STEPS = ("handle", "pre_suit")
IN_CENTER_KINDS = (MediationKind.PEOPLES, MediationKind.ADMINISTRATIVE, MediationKind.INDUSTRY)


@dataclass
class SessionData:
    held_at: datetime | None          # county wall-clock time, as typed
    mediators: str
    applicant_statement: str
    respondent_statement: str
    result: str
    kind: str = ""
    place: str = ""
    meeting_link: str = ""
    attendees: str = ""
    recorder: str = ""
    notes: str = ""


def mediating_item(user, case: Case, steps: list[WorkItem] | None = None) -> WorkItem | None:
    """The open handling (or pre-filing mediation) step of the case that ``user`` may work, if any
    (``steps``: every step of the case, when the caller has read them)."""
    if steps is None:
        items = db.session.scalars(select(WorkItem).where(
            WorkItem.case_id == case.id, WorkItem.status == WorkItemStatus.OPEN,
            WorkItem.form_key.in_(MEDIATING_STEPS)))
    else:
        items = [i for i in steps if i.status == WorkItemStatus.OPEN and i.form_key in MEDIATING_STEPS]
    lanes = lanes_for(user)
    return next((i for i in items if i.can_be_done_by(user, lanes)), None)


def _kind_for(mode: ResolutionMode | None, data: SessionData) -> MediationKind:
    if mode == ResolutionMode.LITIGATION:
        return MediationKind.JUDICIAL
    if mode == ResolutionMode.IN_CENTER:
        kind = choice(MediationKind, data.kind, "kind")
        if kind not in IN_CENTER_KINDS:
            raise ValidationFailed(_l("Choose people's, administrative or industry mediation."), field="kind")
        return kind
    return choice(MediationKind, data.kind, "kind") if data.kind else MediationKind.PEOPLES


def _check_mode(mode: ResolutionMode | None, data: SessionData) -> None:
    """What each way of mediating must record."""
    if mode == ResolutionMode.AT_HOME and not data.place.strip():
        raise ValidationFailed(_l("Mediation at home: give the residence where the session sat."), field="place")
    if mode == ResolutionMode.ON_SITE:
        if not data.place.strip():
            raise ValidationFailed(_l("Mediation on the scene: say where the scene was."), field="place")
        if not data.attendees.strip():
            raise ValidationFailed(_l("Mediation on the scene: name the grid member(s) present."), field="attendees")
    if mode == ResolutionMode.ONLINE:
        link = urlsplit(data.meeting_link.strip())
        if link.scheme not in ("http", "https") or not link.netloc:
            raise ValidationFailed(_l("Online mediation: give the meeting link (http:// or https://)."),
                                   field="meeting_link")


def since_registration(case: Case, typed: datetime, now: datetime) -> datetime | None:
    """A county wall-clock time as typed, in UTC, if it lies between the case's registration and now."""
    moment = local_to_utc(typed.replace(tzinfo=None))
    if moment > now or moment < case.registered_at.replace(second=0, microsecond=0):  # forms give minutes
        return None
    return moment


@transaction
def record_session(user, case_id: int, data: SessionData) -> MediationSession:
    """Record one mediation session of a case the user is handling."""
    case = lock_case(case_id)
    if mediating_item(user, case) is None:
        raise TaskNotYoursError()
    return add_session(user, case, data, utcnow())


def add_session(user, case: Case, data: SessionData, now: datetime) -> MediationSession:
    """``record_session`` inside the caller's transaction, for a case it holds (a grid member's report
    records the mediation held on the spot)."""
    if data.held_at is None:
        raise ValidationFailed(_l("Give the date and time of the session."), field="held_at")
    held_at = since_registration(case, data.held_at, now)
    if held_at is None:
        raise ValidationFailed(_l("The session must lie between the registration of the case and now."),
                               field="held_at")
    mode = ResolutionMode(case.resolution_mode) if case.resolution_mode else None
    kind = _kind_for(mode, data)
    _check_mode(mode, data)
    result = choice(SessionResult, data.result, "result")
    seq = (db.session.scalar(select(func.max(MediationSession.seq)).where(MediationSession.case_id == case.id))
           or 0) + 1
    session = MediationSession(
        case_id=case.id, seq=seq, mode=case.resolution_mode or "", kind=kind, held_at=held_at,
        place=data.place.strip() or None, meeting_link=data.meeting_link.strip() or None,
        mediators=required_text(data.mediators, "mediators"), recorder=data.recorder.strip() or None,
        attendees=data.attendees.strip() or None,
        applicant_statement=required_text(data.applicant_statement, "applicant_statement"),
        respondent_statement=required_text(data.respondent_statement, "respondent_statement"),
        result=result, notes=data.notes.strip() or None, recorded_by_id=user.id, recorded_at=now)
    db.session.add(session)
    db.session.flush()
    audit("case.session", user=user, case=case, seq=seq, result=result.value, kind=kind.value)
    return session


def sessions_of(case_id: int) -> list[MediationSession]:
    return list(db.session.scalars(select(MediationSession).where(MediationSession.case_id == case_id)
                                   .order_by(MediationSession.seq)))


def session_results(case_id: int) -> set[SessionResult]:
    return set(db.session.scalars(select(MediationSession.result).where(MediationSession.case_id == case_id)))
