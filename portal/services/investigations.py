"""调查记录: the handling unit's inquiries about a dispute, in questions and answers.

An investigation says when and where it was held, who investigated and who was questioned (and how
that person stands to the parties), who else was present, what it was about, and what was asked and
answered. It is recorded by the unit mediating the case (the same open step that records sessions):
before the unit has accepted the case it may still send it back, and the record belongs to the
dossier of the mediation that follows.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from portal.clock import utcnow
from portal.extensions import db
from portal.models import Investigation
from portal.services._tx import transaction
from portal.services.audit import audit
from portal.services.errors import TaskNotYoursError, ValidationFailed, required_text
from portal.services.locks import lock_case
from portal.services.sessions import mediating_item, since_registration

# The longest text each field's column takes.
LIMITS = {"place": 200, "investigators": 200, "recorder": 50, "subject": 100, "subject_info": 300,
          "present": 200, "matter": 200}


@dataclass
class InvestigationData:
    held_at: datetime | None   # county wall-clock time, as typed
    place: str
    investigators: str
    subject: str               # 被调查人
    matter: str                # 事由
    content: str               # 问/答
    recorder: str = ""
    subject_info: str = ""     # 基本情况: age, work, how the person stands to the parties
    present: str = ""          # 在场人


def _fits(value: str, field: str) -> str:
    if len(value) > LIMITS[field]:
        raise ValidationFailed(_l("At most %(n)s characters."), field=field, n=LIMITS[field])
    return value


def _required(data: InvestigationData, field: str) -> str:
    return _fits(required_text(getattr(data, field), field), field)


def _optional(data: InvestigationData, field: str) -> str | None:
    return _fits((getattr(data, field) or "").strip(), field) or None


@transaction
def record_investigation(user, case_id: int, data: InvestigationData) -> Investigation:
    """Record one investigation of a case the user is mediating."""
    case = lock_case(case_id)
    if mediating_item(user, case) is None:
        raise TaskNotYoursError()
    now = utcnow()
    if data.held_at is None:
        raise ValidationFailed(_l("Give the date and time of the investigation."), field="held_at")
    held_at = since_registration(case, data.held_at, now)
    if held_at is None:
        raise ValidationFailed(_l("The investigation must lie between the registration of the case and now."),
                               field="held_at")
    record = Investigation(
        case_id=case.id, held_at=held_at, place=_required(data, "place"),
        investigators=_required(data, "investigators"), recorder=_optional(data, "recorder"),
        subject=_required(data, "subject"), subject_info=_optional(data, "subject_info"),
        present=_optional(data, "present"), matter=_required(data, "matter"),
        content=required_text(data.content, "content"), recorded_by_id=user.id, recorded_at=now)
    record.seq = (db.session.scalar(select(func.max(Investigation.seq)).where(Investigation.case_id == case.id))
                  or 0) + 1
    db.session.add(record)
    db.session.flush()
    audit("case.investigation", user=user, case=case, seq=record.seq)
    return record


def investigations_of(case_id: int) -> list[Investigation]:
    return list(db.session.scalars(select(Investigation).where(Investigation.case_id == case_id)
                                   .order_by(Investigation.seq)))
