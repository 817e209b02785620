"""电子送达: serving a case's documents electronically to parties who consented (民诉法 §90).

Staff who work the case serve one document of the document registry to one party: the PDF is made
then (personal data masked, as a copy that may be forwarded must be), stored as served, and given an
unguessable link. The first opening of the link is the receipt (time and address); every opening is
audited. A document not opened in time (``PORTAL_DELIVERY_PAPER_AFTER_HOURS``) becomes a work item
to serve it on paper, raised once by the worker's sweep and closed by recording the paper service.
"""
from __future__ import annotations

import hashlib
import json
import secrets
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from flask import current_app, has_request_context, request
from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from portal.clock import utcnow
from portal.extensions import db
from portal.models import (
    Case,
    ConsentChannel,
    DeliveryStatus,
    DocumentDelivery,
    Party,
    PartyConsent,
    WorkItem,
    WorkItemKind,
    WorkItemStatus,
)
from portal.services import queries
from portal.services._tx import transaction
from portal.services.attachments import can_add_attachment, store_file
from portal.services.audit import audit
from portal.services.deadlines import local_today, utc_to_local
from portal.services.documents.casefile import load_case_file
from portal.services.documents.registry import DOCUMENTS, DocumentSpec, document
from portal.services.documents.render import UnknownDocumentError, document_pdf
from portal.services.errors import CaseForbiddenError, DomainError, ValidationFailed, required_text
from portal.services.locks import lock_case, take_sqlite_write_lock
from portal.services.queries import center_id, lanes_for

WINDOW_LANE, UNIT_LANE = "受理窗口", "承办单位"
PAPER_DAYS = 3  # the paper service is due this many days after the item is raised
PAPER_METHODS = ("direct", "post", "left", "entrusted")  # 直接、邮寄、留置、委托送达


class DeliveryNotFoundError(DomainError):
    status_code = 404
    message = _l("This link is not valid. Check that it was copied in full.")


class DeliveryFileMissingError(DomainError):
    status_code = 404
    message = _l("The served document is missing from the upload folder; tell the mediation center.")


def can_serve(user, case: Case, steps: list | None = None) -> bool:
    """Staff who work the case: the center's case staff, or whoever holds an open step of it.
    ``steps``: every step of the case, when the caller has read them."""
    return can_add_attachment(user, case, steps)


def consents_of(case_id: int) -> dict[int, PartyConsent]:
    return {c.party_id: c for c in db.session.scalars(select(PartyConsent).where(PartyConsent.case_id == case_id))}


def servable_documents(case: Case) -> list[DocumentSpec]:
    """The documents the case has now (those a delivery may serve)."""
    f = load_case_file(case, masked=True, today=local_today())
    return [spec for spec in DOCUMENTS if spec.applies(f)]


def _check_server(user, case: Case) -> None:
    queries.check_case_visible(user, case.id)
    if not can_serve(user, case):
        raise CaseForbiddenError()


def _party(case: Case, party_id: int) -> Party:
    party = db.session.get(Party, party_id) if party_id else None
    if party is None or party.case_id != case.id:
        raise ValidationFailed(_l("Choose a party of this case."), field="party_id")
    return party


@transaction
def record_consent(user, case_id: int, party_id: int, online_handling: bool, e_service: bool) -> PartyConsent:
    """Record what a party signed at the window (送达地址确认书): consent to online handling and to
    electronic service, or its withdrawal."""
    case = lock_case(case_id)
    _check_server(user, case)
    party = _party(case, party_id)
    consent = db.session.scalar(select(PartyConsent).where(PartyConsent.party_id == party.id)) or \
        PartyConsent(party_id=party.id, case_id=case.id)
    consent.online_handling, consent.e_service = bool(online_handling), bool(e_service)
    consent.channel, consent.given_at, consent.recorded_by_id = ConsentChannel.WINDOW, utcnow(), user.id
    db.session.add(consent)
    db.session.flush()
    audit("case.consent", user=user, case=case, party=party.id, online_handling=consent.online_handling,
          e_service=consent.e_service)
    return consent


def _paper_after(now: datetime) -> datetime:
    return now + timedelta(hours=current_app.config["PORTAL_DELIVERY_PAPER_AFTER_HOURS"])


@transaction
def serve_document(user, case_id: int, key: str, party_id: int) -> DocumentDelivery:
    """Serve one document of the case to one party who consented to electronic service."""
    case = lock_case(case_id)
    _check_server(user, case)
    spec = document(key)
    if spec is None:
        raise UnknownDocumentError()
    party = _party(case, party_id)
    consent = db.session.scalar(select(PartyConsent).where(PartyConsent.party_id == party.id))
    if consent is None or not consent.e_service:
        raise ValidationFailed(_l("%(name)s has not agreed to electronic service: serve the document on paper, "
                                  "or first record the party's consent."), field="party_id", name=party.name)
    f = load_case_file(case, masked=True, today=local_today())
    if not spec.applies(f):
        raise ValidationFailed(_l("The case has no “%(title)s” yet."), field="key", title=spec.title)
    pdf = document_pdf(f, spec)
    stored = f"{hashlib.sha256(pdf).hexdigest()}.pdf"
    store_file(stored, pdf)
    now = utcnow()
    delivery = DocumentDelivery(case_id=case.id, party_id=party.id, document_key=spec.key, title=spec.title,
                                stored_name=stored, size=len(pdf), token=secrets.token_urlsafe(32),
                                status=DeliveryStatus.SERVED, served_at=now, served_by_id=user.id,
                                paper_after=_paper_after(now), opens=0)
    db.session.add(delivery)
    db.session.flush()
    audit("delivery.serve", user=user, case=case, delivery=delivery.id, document=spec.key, party=party.id,
          missing=spec.missing(f))
    return delivery


def delivery_path(delivery: DocumentDelivery) -> Path:
    return Path(current_app.config["UPLOAD_FOLDER"]) / delivery.stored_name


@transaction
def open_delivery(token: str, what: str = "page", staff=None) -> DocumentDelivery:
    """The party opens the link: the first opening is the receipt (time, address), and any paper
    service still waiting is no longer needed; every opening is audited. A logged-in member of
    ``staff`` opening it (to check what was sent) is audited too, but is no receipt."""
    delivery = db.session.scalar(select(DocumentDelivery).where(DocumentDelivery.token == (token or "")[:64]))
    if delivery is None:
        raise DeliveryNotFoundError()
    if staff is not None:
        audit("delivery.open_by_staff", user=staff, case=delivery_case(delivery), delivery=delivery.id, what=what)
        return delivery
    now = utcnow()
    address = request.remote_addr if has_request_context() else None
    first = db.session.execute(
        update(DocumentDelivery).where(DocumentDelivery.id == delivery.id, DocumentDelivery.received_at.is_(None))
        .values(received_at=now, received_from=address, opens=DocumentDelivery.opens + 1)
        .execution_options(synchronize_session=False)).rowcount == 1
    if first:  # served electronically after all, unless the paper service was already recorded
        db.session.execute(update(DocumentDelivery).where(
            DocumentDelivery.id == delivery.id,
            DocumentDelivery.status.in_([DeliveryStatus.SERVED, DeliveryStatus.PAPER_DUE]))
            .values(status=DeliveryStatus.RECEIVED).execution_options(synchronize_session=False))
    else:
        db.session.execute(update(DocumentDelivery).where(DocumentDelivery.id == delivery.id)
                           .values(opens=DocumentDelivery.opens + 1).execution_options(synchronize_session=False))
    db.session.refresh(delivery)
    if first and delivery.paper_item_id is not None and delivery.status == DeliveryStatus.RECEIVED:
        db.session.execute(update(WorkItem).where(WorkItem.id == delivery.paper_item_id,
                                                  WorkItem.status == WorkItemStatus.OPEN)
                           .values(status=WorkItemStatus.CANCELLED).execution_options(synchronize_session=False))
    audit("delivery.open", case=delivery_case(delivery), delivery=delivery.id, first=first, what=what)
    return delivery


def delivery_case(delivery: DocumentDelivery):
    return db.session.get(Case, delivery.case_id)


@transaction
def staff_copy(user, delivery_id: int) -> DocumentDelivery:
    """The served PDF for staff who see the case (no receipt: only the party's opening is one)."""
    delivery = db.session.get(DocumentDelivery, delivery_id)
    if delivery is None:
        raise DeliveryNotFoundError()
    case = queries.case_for(user, delivery.case_id)
    audit("delivery.view", user=user, case=case, delivery=delivery.id)
    return delivery


def deliveries_of(case_id: int) -> list[DocumentDelivery]:
    return list(db.session.scalars(select(DocumentDelivery).where(DocumentDelivery.case_id == case_id)
                                   .order_by(DocumentDelivery.served_at, DocumentDelivery.id)))


def _paper_lane(delivery: DocumentDelivery, case: Case) -> tuple[str, int | None]:
    """Who serves it on paper: the window when the window served it (or no unit holds the case yet),
    else the unit handling the case."""
    if WINDOW_LANE in lanes_for(delivery.served_by) or case.assigned_unit_id is None:
        return WINDOW_LANE, center_id()
    return UNIT_LANE, case.assigned_unit_id


def sweep_unopened(limit: int | None = None) -> int:
    """Raise the paper-service item of each document not opened in time (once each); return how many."""
    now = utcnow()
    due = list(db.session.scalars(select(DocumentDelivery.id).where(
        DocumentDelivery.status == DeliveryStatus.SERVED, DocumentDelivery.paper_item_id.is_(None),
        DocumentDelivery.paper_after <= now).order_by(DocumentDelivery.paper_after).limit(limit)))
    raised = 0
    for delivery_id in due:
        try:
            raised += _raise_paper_item(delivery_id, now)
        except IntegrityError:
            db.session.rollback()  # another worker raised it first: once either way
    return raised


@transaction
def _raise_paper_item(delivery_id: int, now: datetime) -> int:
    take_sqlite_write_lock()
    delivery = db.session.scalars(select(DocumentDelivery).where(DocumentDelivery.id == delivery_id)
                                  .with_for_update(skip_locked=True).execution_options(populate_existing=True)).first()
    if delivery is None or delivery.status != DeliveryStatus.SERVED or delivery.paper_item_id is not None:
        return 0
    case = delivery_case(delivery)
    lane, unit_id = _paper_lane(delivery, case)
    item = WorkItem(case_id=case.id, task_id=f"delivery-{delivery.id}", bpmn_id="paper_delivery",
                    name=str(_l("Serve on paper: %(title)s", title=delivery.title))[:100], lane=lane,
                    form_key="paper_delivery", kind=WorkItemKind.DELIVERY, org_unit_id=unit_id,
                    status=WorkItemStatus.OPEN, created_at=now, due_at=now + timedelta(days=PAPER_DAYS),
                    form_defaults=json.dumps({"recipient": delivery.party.name}, ensure_ascii=False))
    db.session.add(item)
    db.session.flush()
    delivery.paper_item_id, delivery.status = item.id, DeliveryStatus.PAPER_DUE
    audit("delivery.paper_due", case=case, work_item=item, delivery=delivery.id)
    return 1


def record_paper_delivery(user, case: Case, item: WorkItem, data: dict[str, Any], now: datetime) -> Case:
    """The paper service is done: how, when, to whom (inside ``complete_task``'s transaction, which has
    locked the case and checked the item is the user's)."""
    delivery = db.session.scalar(select(DocumentDelivery).where(DocumentDelivery.paper_item_id == item.id))
    if delivery is None:
        raise ValidationFailed(_l("This step has no document to serve."))
    method = data.get("method")
    if method not in PAPER_METHODS:
        raise ValidationFailed(_l("Choose a valid value."), field="method")
    served_on = data.get("served_on")
    earliest = utc_to_local(delivery.served_at).date()
    if not isinstance(served_on, date) or not earliest <= served_on <= local_today():
        raise ValidationFailed(_l("Give the day the paper was served (not in the future)."), field="served_on")
    recipient = required_text(data.get("recipient"), "recipient")
    note = (data.get("note") or "").strip()
    delivery.status, delivery.paper_at, delivery.paper_by_id = DeliveryStatus.PAPER_DONE, now, user.id
    delivery.paper_method, delivery.paper_note = method, f"{served_on:%Y-%m-%d} {recipient} {note}".strip()[:300]
    item.status, item.completed_at, item.completed_by_id = WorkItemStatus.DONE, now, user.id
    item.result = json.dumps({"method": method, "served_on": served_on.isoformat(), "recipient": recipient,
                              "note": note}, ensure_ascii=False)
    audit("delivery.paper", user=user, case=case, work_item=item, delivery=delivery.id, method=method)
    return case
