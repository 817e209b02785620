"""社工服务、志愿服务: services given to the people of a case, and the person-times they count.

A service is recorded as a referral (domain.md §3.2): whom it served (a party of the case, or
someone named, such as a family member), what kind of service, which organisation took it on and
who gave it, when and for how long, how many person-times it counts, and what came of it.

Who may record: on a case they can see, the center's case staff and whoever holds an open step of
the case (the rule for attaching papers), and the handlers of the unit the case was assigned to,
also after their step is done -- counselling and help often go on after the mediation.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from portal.clock import utcnow
from portal.extensions import db
from portal.models import Case, ProviderKind, ServiceReferral, ServiceType
from portal.models.assistance import MAX_MINUTES
from portal.services import queries
from portal.services._tx import transaction
from portal.services.attachments import can_add_attachment
from portal.services.audit import audit
from portal.services.errors import DomainError, ValidationFailed, choice, required_text
from portal.services.locks import lock_case
from portal.services.sessions import since_registration

HANDLING_LANE = "承办单位"  # the BPMN lane of the units that handle a case
LIMITS = {"provider": 200, "worker": 200, "person_name": 50}


class ServiceNotAllowedError(DomainError):
    status_code = 403
    message = _l("Only the center's case staff and the unit handling this case may record services for it.")


@dataclass
class ServiceData:
    service_type: str
    provider_kind: str
    provider: str                  # 承接机构
    worker: str                    # 社工/志愿者
    served_at: datetime | None     # county wall-clock time, as typed
    duration_minutes: int | None
    result: str
    party_id: int | None = None    # 服务对象: a party of the case ...
    person_name: str = ""          # ... or someone else, by name
    persons: int | None = 1        # person-times counted


def can_record_service(user, case: Case, steps: list | None = None) -> bool:
    """The center's case staff, whoever holds an open step, or a handler of the case's assigned unit.
    ``steps``: every step of the case, when the caller has read them."""
    if can_add_attachment(user, case, steps):
        return True
    return (case.assigned_unit is not None and user.org_unit is not None
            and user.org_unit.contains(case.assigned_unit) and HANDLING_LANE in queries.lanes_for(user))


def _text(value: str, field: str, required: bool = True) -> str | None:
    text = required_text(value, field) if required else (value or "").strip()
    if field in LIMITS and len(text) > LIMITS[field]:
        raise ValidationFailed(_l("At most %(n)s characters."), field=field, n=LIMITS[field])
    return text or None


def _person(case: Case, data: ServiceData) -> tuple[int | None, str | None]:
    name = _text(data.person_name, "person_name", required=False)
    if data.party_id:
        if data.party_id not in {p.id for p in case.parties}:
            raise ValidationFailed(_l("Choose a party of this case."), field="party_id")
        if name:
            raise ValidationFailed(_l("Choose a party or name another person served, not both."),
                                   field="person_name")
        return data.party_id, None
    if not name:
        raise ValidationFailed(_l("Choose the party served, or name the person served."), field="party_id")
    return None, name


def _counts(data: ServiceData) -> tuple[int, int]:
    minutes, persons = data.duration_minutes, data.persons
    if minutes is None or not 0 < minutes <= MAX_MINUTES:
        raise ValidationFailed(_l("The duration is between 1 and %(max)s minutes."), field="duration_minutes",
                               max=MAX_MINUTES)
    if persons is None or persons < 1:
        raise ValidationFailed(_l("A service counts at least one person-time."), field="persons")
    return minutes, persons


@transaction
def record_service(user, case_id: int, data: ServiceData) -> ServiceReferral:
    """Record one social work or volunteer service given to a person of a case the user works."""
    lock_case(case_id)
    case = queries.case_for(user, case_id)
    if not can_record_service(user, case):
        raise ServiceNotAllowedError()
    now = utcnow()
    if data.served_at is None:
        raise ValidationFailed(_l("Give the date and time of the service."), field="served_at")
    served_at = since_registration(case, data.served_at, now)
    if served_at is None:
        raise ValidationFailed(_l("The service must lie between the registration of the case and now."),
                               field="served_at")
    party_id, person_name = _person(case, data)
    minutes, persons = _counts(data)
    record = ServiceReferral(
        case_id=case.id, service_type=choice(ServiceType, data.service_type, "service_type"),
        provider_kind=choice(ProviderKind, data.provider_kind, "provider_kind"),
        provider=_text(data.provider, "provider"), worker=_text(data.worker, "worker"), party_id=party_id,
        person_name=person_name, served_at=served_at, duration_minutes=minutes, persons=persons,
        result=required_text(data.result, "result"), recorded_by_id=user.id, recorded_at=now)
    record.seq = (db.session.scalar(select(func.max(ServiceReferral.seq))
                                    .where(ServiceReferral.case_id == case.id)) or 0) + 1
    db.session.add(record)
    db.session.flush()
    audit("case.service", user=user, case=case, seq=record.seq, service_type=record.service_type.value,
          provider_kind=record.provider_kind.value, minutes=minutes, persons=persons)
    return record


def services_of(case_id: int) -> list[ServiceReferral]:
    return list(db.session.scalars(select(ServiceReferral).options(joinedload(ServiceReferral.party))
                                   .where(ServiceReferral.case_id == case_id).order_by(ServiceReferral.seq)))


def service_totals(case_id: int | None = None, where=None) -> tuple[int, int, int]:
    """How many services (of one case, or of the cases ``where`` selects), the person-times they count
    and their minutes, summed in SQL."""
    query = select(func.count(ServiceReferral.id), func.coalesce(func.sum(ServiceReferral.persons), 0),
                   func.coalesce(func.sum(ServiceReferral.duration_minutes), 0))
    if case_id is not None:
        query = query.where(ServiceReferral.case_id == case_id)
    else:
        query = query.join(Case, Case.id == ServiceReferral.case_id).where(where if where is not None else True)
    count, persons, minutes = db.session.execute(query).one()
    return int(count), int(persons), int(minutes)
