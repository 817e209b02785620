"""A party follows a case online (进度查询) by its code and the last four digits of the party's phone.

A wrong pair and an unknown code are refused the same way, after the same work (one lookup of the
case, one of its parties, a constant-time comparison, one audit row), so the answer tells nothing
about which codes exist. What the party then sees is the case's progress, never its internal notes
or another party's personal data: status, steps done (names and dates), the next step and its
deadline, the documents served to that party, the online sessions that party is to join.
"""
from __future__ import annotations

import hmac
import json
from dataclasses import dataclass
from datetime import datetime
from types import SimpleNamespace

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from portal.clock import utcnow
from portal.extensions import db
from portal.models import (
    AttachmentCategory,
    Case,
    CaseStatus,
    CitizenRating,
    DocumentDelivery,
    Party,
    SessionAppointment,
    WorkItem,
    WorkItemKind,
    WorkItemStatus,
)
from portal.services._tx import transaction
from portal.services.attachments import save_paper
from portal.services.audit import audit
from portal.services.errors import DomainError, ValidationFailed
from portal.services.filing import Upload, check_uploads, online_desk
from portal.services.locks import lock_case


class TrackingFailed(DomainError):
    status_code = 404
    message = _l("No case matches this code and these four digits. Check both and try again.")


class CaseClosedError(DomainError):
    status_code = 409
    message = _l("The case is closed; no more material can be added.")


@dataclass(frozen=True)
class Tracker:
    """Who is following which case (kept in the citizen's signed session after the check)."""

    case_id: int
    party_id: int


@dataclass
class TrackedCase:
    code: str
    dispute_type: str
    township: str
    registered_at: datetime
    status: CaseStatus
    party_kind: str
    steps_done: list[tuple[str, datetime]]
    next_steps: list[tuple[str, datetime | None]]
    deliveries: list[DocumentDelivery]
    sessions: list[SessionAppointment]
    rating: CitizenRating | None

    @property
    def closed(self) -> bool:
        return self.status == CaseStatus.CLOSED


_DUMMY_TAIL = "\x00\x00\x00\x00"


@transaction
def find_tracker(code: str, phone_tail: str) -> Tracker | None:
    """The party of the case with this code whose registered phone ends in ``phone_tail``; None alike for
    an unknown code and a wrong pair (not an exception: the attempt's audit row must be kept)."""
    code = (code or "").strip().upper()[:32]
    tail = (phone_tail or "").strip()[-4:]
    case_id = db.session.scalar(select(Case.id).where(Case.code == code))
    rows = db.session.execute(select(Party.id, Party.phone).where(Party.case_id == (case_id or -1))
                              .order_by(Party.seq)).all()
    match = None
    for party_id, phone in rows or [(None, None)]:
        digits = "".join(ch for ch in (phone or "") if ch.isdigit())
        same = hmac.compare_digest((digits[-4:] if len(digits) >= 4 else _DUMMY_TAIL).encode(),
                                   tail.encode().ljust(4, b"\x01"))
        if same and match is None and len(tail) == 4:
            match = party_id
    audit("public.track", case=SimpleNamespace(id=case_id), ok=match is not None, code=code)
    return None if match is None else Tracker(case_id=case_id, party_id=match)


def _party_of(tracker: Tracker) -> Party:
    party = db.session.get(Party, tracker.party_id)
    if party is None or party.case_id != tracker.case_id:
        raise TrackingFailed()
    return party


def tracked_case(tracker: Tracker) -> TrackedCase:
    """What the tracking page shows the party (read only)."""
    party = _party_of(tracker)
    case = party.case
    items = list(db.session.scalars(select(WorkItem).where(
        WorkItem.case_id == case.id, WorkItem.kind == WorkItemKind.TASK, WorkItem.branch_id.is_(None),
        WorkItem.status != WorkItemStatus.CANCELLED).order_by(WorkItem.id)))
    done = [(i.name, i.completed_at) for i in items if i.status == WorkItemStatus.DONE]
    upcoming = [(i.name, i.due_at or case.due_at) for i in items if i.status == WorkItemStatus.OPEN]
    deliveries = list(db.session.scalars(select(DocumentDelivery).where(
        DocumentDelivery.case_id == case.id, DocumentDelivery.party_id == party.id)
        .order_by(DocumentDelivery.served_at)))
    sessions = [a for a in db.session.scalars(select(SessionAppointment).where(
        SessionAppointment.case_id == case.id).order_by(SessionAppointment.starts_at))
        if party.id in json.loads(a.participant_ids)]
    rating = db.session.scalar(select(CitizenRating).where(CitizenRating.case_id == case.id,
                                                           CitizenRating.party_id == party.id))
    return TrackedCase(code=case.code, dispute_type=case.dispute_type.name, township=case.township.name,
                       registered_at=case.registered_at, status=case.status, party_kind=str(party.kind.label),
                       steps_done=sorted(done, key=lambda d: d[1]), next_steps=upcoming,
                       deliveries=deliveries, sessions=sessions, rating=rating)


@transaction
def add_material(tracker: Tracker, uploads: list[Upload]) -> int:
    """The party adds files to an open case (evidence in the dossier); checked like every attachment."""
    party = _party_of(tracker)
    case = lock_case(party.case_id)
    if case.status == CaseStatus.CLOSED:
        raise CaseClosedError()
    if not uploads:
        raise ValidationFailed(_l("Choose at least one file."), field="files")
    kinds = check_uploads(uploads)
    desk = online_desk()
    title = str(_l("Material added online by %(kind)s %(name)s", kind=party.kind.label, name=party.name))
    saved = [save_paper(case, AttachmentCategory.EVIDENCE, title[:200], upload.filename, upload.data, kind,
                        desk.id)
             for upload, kind in zip(uploads, kinds, strict=True)]
    audit("public.material", user=desk, case=case, party=party.id, attachments=[a.id for a in saved])
    return len(saved)


@transaction
def rate_case(tracker: Tracker, stars: int, comment: str) -> CitizenRating:
    """The party rates a closed case, once."""
    party = _party_of(tracker)
    case = lock_case(party.case_id)
    if case.status != CaseStatus.CLOSED:
        raise ValidationFailed(_l("The case can be rated once it is closed."), field="stars")
    if not isinstance(stars, int) or not 1 <= stars <= 5:
        raise ValidationFailed(_l("Choose from one to five stars."), field="stars")
    if db.session.scalar(select(CitizenRating.id).where(CitizenRating.case_id == case.id,
                                                        CitizenRating.party_id == party.id)) is not None:
        raise ValidationFailed(_l("You have already rated this case."), field="stars")
    comment = (comment or "").strip()
    if len(comment) > 1000:
        raise ValidationFailed(_l("At most %(n)s characters."), field="comment", n=1000)
    rating = CitizenRating(case_id=case.id, party_id=party.id, stars=stars, comment=comment or None,
                           rated_at=utcnow())
    db.session.add(rating)
    db.session.flush()
    audit("public.rate", case=case, party=party.id, stars=stars)
    return rating
