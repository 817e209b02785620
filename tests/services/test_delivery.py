"""电子送达: staff who work the case serve a document to a party who consented; the unguessable link's first
opening is the receipt (time, address), every opening is audited; a document not opened in time becomes a
paper-service item once, closed by recording the paper service."""
from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from flask import current_app
from sqlalchemy import func, select

from portal.clock import frozen_at, utcnow
from portal.extensions import db
from portal.models import (
    AuditEvent,
    Case,
    DeliveryStatus,
    DocumentDelivery,
    PartyKind,
    WorkItem,
    WorkItemKind,
    WorkItemStatus,
)
from portal.services import queries
from portal.services.cases import complete_task
from portal.services.deadlines import local_today
from portal.services.delivery import (
    DeliveryNotFoundError,
    open_delivery,
    record_consent,
    serve_document,
    staff_copy,
    sweep_unopened,
)
from portal.services.documents.render import UnknownDocumentError
from portal.services.errors import CaseForbiddenError, TaskNotYoursError, ValidationFailed
from portal.services.filing import file_dispute
from portal.services.tracking import find_tracker, tracked_case
from tests.conftest import do_step, user
from tests.online import clean_online, filing, online_counts, without_audit  # noqa: F401

HOURS = 72


def _filed():
    case = file_dispute(filing())
    return case, case.parties_of(PartyKind.APPLICANT)[0], case.parties_of(PartyKind.RESPONDENT)[0]


def _audits(action: str) -> list[dict]:
    return [json.loads(d) for d in db.session.scalars(select(AuditEvent.detail).where(AuditEvent.action == action)
                                                     .order_by(AuditEvent.id))]


def test_the_window_serves_a_document_to_the_consenting_applicant(ctx):
    case, applicant, _respondent = _filed()
    delivery = serve_document(user("window"), case.id, "registration", applicant.id)
    assert (delivery.title, delivery.status, delivery.party_id) == ("人民调解受理登记表", DeliveryStatus.SERVED,
                                                                     applicant.id)
    assert len(delivery.token) >= 40 and delivery.received_at is None
    assert delivery.paper_after == delivery.served_at + timedelta(hours=HOURS)
    pdf = Path(current_app.config["UPLOAD_FOLDER"]) / delivery.stored_name
    assert pdf.read_bytes()[:5] == b"%PDF-" and delivery.size == pdf.stat().st_size
    other = serve_document(user("window"), case.id, "rights_notice", applicant.id)
    assert other.token != delivery.token
    assert _audits("delivery.serve")[0]["document"] == "registration"


def test_serving_is_refused_without_consent_or_right_and_saves_nothing(ctx):
    case, applicant, respondent = _filed()
    before = online_counts()
    refusals = [
        (lambda: serve_document(user("window"), case.id, "registration", respondent.id), ValidationFailed),
        (lambda: serve_document(user("window"), case.id, "nonsense", applicant.id), UnknownDocumentError),
        (lambda: serve_document(user("window"), case.id, "agreement", applicant.id), ValidationFailed),
        (lambda: serve_document(user("director"), case.id, "registration", applicant.id), CaseForbiddenError),
        (lambda: serve_document(user("renshe"), case.id, "registration", applicant.id), CaseForbiddenError),
    ]
    for action, error in refusals:
        with pytest.raises(error):
            action()
    assert online_counts() == before


def test_a_party_consent_recorded_at_the_window_allows_service_and_its_withdrawal_stops_it(ctx):
    case, _applicant, respondent = _filed()
    record_consent(user("window"), case.id, respondent.id, True, True)
    assert serve_document(user("window"), case.id, "registration", respondent.id).party_id == respondent.id
    record_consent(user("window"), case.id, respondent.id, True, False)
    with pytest.raises(ValidationFailed) as refused:
        serve_document(user("window"), case.id, "registration", respondent.id)
    assert "刘大成" in str(refused.value)
    with pytest.raises(CaseForbiddenError):
        record_consent(user("director"), case.id, respondent.id, True, True)


def test_the_first_opening_is_the_receipt_and_every_opening_is_audited(app, ctx):
    case, applicant, _ = _filed()
    delivery = serve_document(user("window"), case.id, "registration", applicant.id)
    token, served = delivery.token, delivery.served_at
    with app.test_request_context(environ_base={"REMOTE_ADDR": "198.51.100.23"}):
        with frozen_at(served + timedelta(hours=5)):
            opened = open_delivery(token, "page")
    assert (opened.received_at, opened.received_from, opened.status, opened.opens) == \
        (served + timedelta(hours=5), "198.51.100.23", DeliveryStatus.RECEIVED, 1)
    with app.test_request_context(environ_base={"REMOTE_ADDR": "203.0.113.99"}):
        with frozen_at(served + timedelta(days=2)):
            again = open_delivery(token, "pdf")
    assert (again.received_at, again.received_from, again.opens) == \
        (served + timedelta(hours=5), "198.51.100.23", 2)                 # the receipt does not move
    assert [(a["first"], a["what"]) for a in _audits("delivery.open")] == [(True, "page"), (False, "pdf")]
    remote = list(db.session.scalars(select(AuditEvent.remote_addr).where(AuditEvent.action == "delivery.open")
                                     .order_by(AuditEvent.id)))
    assert remote == ["198.51.100.23", "203.0.113.99"]
    assert tracked_case(find_tracker(case.code, "5678")).deliveries[0].received_at == served + timedelta(hours=5)


def test_staff_opening_is_no_receipt(ctx):
    case, applicant, _ = _filed()
    delivery = serve_document(user("window"), case.id, "registration", applicant.id)
    open_delivery(delivery.token, "page", staff=user("window"))
    staff_copy(user("dispatch"), delivery.id)
    db.session.refresh(delivery)
    assert delivery.received_at is None and delivery.status == DeliveryStatus.SERVED
    assert len(_audits("delivery.open_by_staff")) == 1 and len(_audits("delivery.view")) == 1
    with pytest.raises(CaseForbiddenError):
        staff_copy(user("renshe"), delivery.id)


@pytest.mark.parametrize("token", ["", "x", "A" * 43, "A" * 200])
def test_a_wrong_link_opens_nothing(ctx, token):
    case, applicant, _ = _filed()
    serve_document(user("window"), case.id, "registration", applicant.id)
    with pytest.raises(DeliveryNotFoundError):
        open_delivery(token)


def _paper_items(case_id: int) -> list[WorkItem]:
    return list(db.session.scalars(select(WorkItem).where(WorkItem.case_id == case_id,
                                                          WorkItem.kind == WorkItemKind.DELIVERY)))


def test_an_unopened_document_becomes_a_paper_item_once(ctx):
    case, applicant, _ = _filed()
    delivery = serve_document(user("window"), case.id, "registration", applicant.id)
    delivery_id, served = delivery.id, delivery.served_at
    with frozen_at(served + timedelta(hours=HOURS - 1)):
        assert sweep_unopened() == 0
    with frozen_at(served + timedelta(hours=HOURS, minutes=1)):
        assert sweep_unopened() == 1
        assert sweep_unopened() == 0                            # once
    with frozen_at(served + timedelta(days=9)):
        assert sweep_unopened() == 0
    [item] = _paper_items(case.id)
    assert (item.lane, item.form_key, item.status, item.org_unit_id) == \
        ("受理窗口", "paper_delivery", WorkItemStatus.OPEN, queries.center_id())
    assert item.name == "纸质送达：人民调解受理登记表"
    assert db.session.get(DocumentDelivery, delivery_id).status == DeliveryStatus.PAPER_DUE
    assert item.id in [w.id for w in queries.worklist(user("window"))]        # the window's to-do list
    assert item.id not in [w.id for w in queries.worklist(user("sifa"))]
    assert len(_audits("delivery.paper_due")) == 1


def test_recording_the_paper_service_closes_the_item(ctx):
    case, applicant, _ = _filed()
    delivery = serve_document(user("window"), case.id, "registration", applicant.id)
    with frozen_at(delivery.served_at + timedelta(hours=HOURS + 1)):
        sweep_unopened()
    [item] = _paper_items(case.id)
    before = without_audit(online_counts())
    form = {"method": "post", "served_on": local_today(), "recipient": "王小丽", "note": "挂号信"}
    for bad in ({"method": "fax"}, {"served_on": local_today() + timedelta(days=1)}, {"recipient": " "}):
        with pytest.raises(ValidationFailed):
            complete_task(user("window"), item.id, {**form, **bad})
    with pytest.raises(TaskNotYoursError):
        complete_task(user("sifa"), item.id, form)
    assert without_audit(online_counts()) == before
    complete_task(user("window"), item.id, form)
    db.session.expire_all()
    delivery = db.session.get(DocumentDelivery, delivery.id)
    assert delivery.status == DeliveryStatus.PAPER_DONE and delivery.paper_method == "post"
    assert delivery.paper_by.username == "window" and "王小丽" in delivery.paper_note
    assert db.session.get(WorkItem, item.id).status == WorkItemStatus.DONE


def test_opening_late_cancels_the_paper_item(ctx):
    case, applicant, _ = _filed()
    delivery = serve_document(user("window"), case.id, "registration", applicant.id)
    with frozen_at(delivery.served_at + timedelta(hours=HOURS + 1)):
        sweep_unopened()
    open_delivery(delivery.token)
    [item] = _paper_items(case.id)
    assert item.status == WorkItemStatus.CANCELLED
    assert db.session.get(DocumentDelivery, delivery.id).status == DeliveryStatus.RECEIVED


def test_a_paper_item_of_the_handling_unit_outlives_the_closing_of_the_case(make_case):
    case_id = make_case(until="close")
    case = db.session.get(Case, case_id)
    applicant = case.parties_of(PartyKind.APPLICANT)[0]
    record_consent(user("dispatch"), case_id, applicant.id, True, True)
    delivery = serve_document(user("dispatch"), case_id, "agreement", applicant.id)   # not the window: the unit
    with frozen_at(utcnow() + timedelta(hours=HOURS + 1)):
        assert sweep_unopened() == 1
    [item] = _paper_items(case_id)
    assert (item.lane, item.org_unit.code) == ("承办单位", "D03")
    do_step(case_id, "close")
    db.session.expire_all()
    assert db.session.get(Case, case_id).status.value == "closed"
    assert db.session.get(WorkItem, item.id).status == WorkItemStatus.OPEN
    assert db.session.scalar(select(func.count()).select_from(DocumentDelivery)) == 1
    assert delivery.document_key == "agreement"


def test_the_worker_sweeps_unopened_deliveries(app, ctx):
    from portal.cli import portal_cli
    case, applicant, _ = _filed()
    delivery = serve_document(user("window"), case.id, "registration", applicant.id)
    with frozen_at(delivery.served_at + timedelta(hours=HOURS + 1)):
        result = app.test_cli_runner().invoke(portal_cli, ["worker", "--once"])
    assert result.exit_code == 0 and "to be served on paper" in result.output
    assert len(_paper_items(case.id)) == 1
