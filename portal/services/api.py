"""What an API client may read and do: the portal's own services, called as the client's service account,
scoped like that account (``visible_cases_filter``) and, for a client bound to a township, to that township.

A case the client may not see is reported exactly like a case that does not exist (404), so a client learns
nothing of other townships' cases, not even that a code is taken."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, or_, select, true
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from portal.clock import utcnow
from portal.extensions import db
from portal.models import ApiClient, ApiIdempotencyKey, Case, DisputeType, OrgUnit, WorkItem, WorkItemStatus
from portal.roles import sees_personal_data
from portal.services._tx import transaction
from portal.services.cases import IntakeData, complete_task, open_case
from portal.services.deadlines import local_today
from portal.services.documents import load_case_file
from portal.services.documents.render import DocumentState, documents_of, print_document
from portal.services.errors import CaseNotFoundError, DomainError
from portal.services.queries import lanes_for, visible_cases_filter

LONGEST_PAGE = 100
_CODE = re.compile(r"^[A-Z0-9-]{1,32}$")  # what a case code can be (nothing else is looked up)


class OutsideScopeError(DomainError):
    status_code = 403
    message = _l("This API client registers cases of %(township)s only.")


class TaskNotFoundError(DomainError):
    status_code = 404
    message = _l("There is no such step.")


class IdempotencyKeyReusedError(DomainError):
    status_code = 422
    message = _l("This Idempotency-Key was used for a different request; use a new key for a new case.")


class IdempotencyKeyBusyError(DomainError):
    status_code = 409
    message = _l("A request with this Idempotency-Key is being processed; retry in a moment.")


def _scope(client: ApiClient):
    """SQL condition: the cases the client may see."""
    visible = visible_cases_filter(client.user)
    condition = true() if visible is True else (visible if visible is not False else Case.id.is_(None))
    if client.township_id is not None:
        condition = and_(condition, Case.township_id == client.township_id)
    return condition


def case_for_client(client: ApiClient, code: str) -> Case:
    """The case of that code, if the client may see it; CaseNotFoundError otherwise (unknown or not its)."""
    code = (code or "").strip().upper()
    case = db.session.scalar(select(Case).where(Case.code == code, _scope(client))) if _CODE.match(code) else None
    if case is None:
        raise CaseNotFoundError()
    return case


def intake_codes(codes: dict[str, str]) -> dict[str, int | None]:
    """The ids that the codes of a case sent through the API name: ``dispute_type_code`` a dispute type,
    the other ``*_code`` an org unit (None: no such code)."""
    found: dict[str, int | None] = {}
    for name, code in codes.items():
        model = DisputeType if name == "dispute_type_code" else OrgUnit
        found[name] = db.session.scalar(select(model.id).where(model.code == code.strip()[:32]))
    return found


def open_items(case: Case) -> list[WorkItem]:
    return list(db.session.scalars(select(WorkItem).options(joinedload(WorkItem.org_unit))
                                   .where(WorkItem.case_id == case.id, WorkItem.status == WorkItemStatus.OPEN)
                                   .order_by(WorkItem.id)))


def can_complete(client: ApiClient, item: WorkItem, lanes: set[str] | None = None) -> bool:
    """Whether the client could complete the open item (its lane and unit, nobody else's claim)."""
    lanes = lanes_for(client.user) if lanes is None else lanes
    return item.status == WorkItemStatus.OPEN and item.can_be_done_by(client.user, lanes) and \
        item.claimed_by_id in (None, client.user_id)


def case_documents(client: ApiClient, case: Case) -> list[DocumentState]:
    """The case's documents and whether the case has each (as the case page lists them)."""
    masked = not sees_personal_data(client.user.role_names)
    return documents_of(load_case_file(case, masked, local_today()))


@dataclass(frozen=True)
class Cursor:
    """Where a page of changed cases ended: the last case's (updated_at, id)."""

    updated_at: datetime
    case_id: int


def changed_cases(client: ApiClient, since: datetime | None, after: Cursor | None, limit: int) -> list[Case]:
    """The client's cases changed at or after ``since`` (naive UTC), oldest change first, in pages:
    ``after`` continues after the last case of the previous page."""
    query = select(Case).options(joinedload(Case.township), joinedload(Case.assigned_unit)).where(_scope(client))
    if after is not None:
        query = query.where(or_(Case.updated_at > after.updated_at,
                                and_(Case.updated_at == after.updated_at, Case.id > after.case_id)))
    elif since is not None:
        query = query.where(Case.updated_at >= since)
    limit = max(1, min(limit, LONGEST_PAGE))
    return list(db.session.scalars(query.order_by(Case.updated_at, Case.id).limit(limit)))


@transaction
def register_case_for(client: ApiClient, data: IntakeData, key: str | None, request_hash: str) -> tuple[Case, bool]:
    """Register a case sent by the client; (case, True) when ``key`` names a case this client registered
    already with the same request (a retry), which is returned as it is now and nothing is written."""
    if key:
        done = db.session.scalar(select(ApiIdempotencyKey).where(ApiIdempotencyKey.client_id == client.id,
                                                                 ApiIdempotencyKey.key == key))
        if done is not None:
            if done.request_hash != request_hash:
                raise IdempotencyKeyReusedError()
            return db.session.get(Case, done.case_id), True
    if client.township_id is not None and data.township_id != client.township_id:
        raise OutsideScopeError(township=db.session.get(OrgUnit, client.township_id).name)
    case = open_case(client.user, data)
    if key:
        db.session.add(ApiIdempotencyKey(client_id=client.id, key=key, request_hash=request_hash, case_id=case.id,
                                         created_at=utcnow()))
        try:
            db.session.flush()
        except IntegrityError:  # the same key, sent twice at once: the other request registers the case
            raise IdempotencyKeyBusyError() from None
    return case, False


def task_for_client(client: ApiClient, item_id: int) -> WorkItem:
    """A step of a case the client may see; TaskNotFoundError otherwise (unknown or not its)."""
    item = db.session.scalar(select(WorkItem).join(Case, Case.id == WorkItem.case_id)
                             .where(WorkItem.id == item_id, _scope(client)))
    if item is None:
        raise TaskNotFoundError()
    return item


def complete_task_for(client: ApiClient, item_id: int, data: dict) -> Case:
    """Complete a step of a case the client may see, as the web form does (the service checks lane, unit,
    claim and state, and audits)."""
    task_for_client(client, item_id)
    return complete_task(client.user, item_id, data)


def print_document_for(client: ApiClient, code: str, key: str) -> tuple[bytes, str, list[str]]:
    """One document of a case the client may see, as PDF (the print is audited)."""
    case = case_for_client(client, code)
    return print_document(client.user, case.id, key)
