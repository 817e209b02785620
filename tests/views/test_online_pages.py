"""Staff pages of online handling on a case: the case page lists consents, deliveries and online sessions; staff
who work the case record a consent and serve a document; the paper service is recorded from the worklist's
task page; the mediator schedules an online session and records who joined."""
from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select

from portal.clock import frozen_at, utcnow
from portal.extensions import db
from portal.models import (
    AppointmentStatus,
    Case,
    DeliveryStatus,
    DocumentDelivery,
    PartyConsent,
    PartyKind,
    SessionAppointment,
    WorkItem,
    WorkItemKind,
)
from portal.services.deadlines import local_today, utc_to_local
from portal.services.delivery import record_consent, serve_document, sweep_unopened
from portal.services.filing import file_dispute
from tests.conftest import user
from tests.online import clean_online, filing, online_counts, without_audit  # noqa: F401


def test_the_window_records_consent_and_serves_a_document_from_the_case_page(login_as, ctx):
    case = file_dispute(filing())
    applicant, respondent = case.parties_of(PartyKind.APPLICANT)[0], case.parties_of(PartyKind.RESPONDENT)[0]
    client = login_as("window")
    page = client.get(f"/cases/{case.id}").get_data(as_text=True)
    assert 'id="serve-document"' in page and 'id="record-consent"' in page and "网上申请时同意" in page
    form = client.get(f"/cases/{case.id}/deliveries").get_data(as_text=True)
    parties = re.search(r'<select[^>]*id="party_id".*?</select>', form, re.S).group(0)
    assert "王小丽" in parties and "刘大成" not in parties           # only who consented to e-service
    documents = re.search(r'<select[^>]*id="key".*?</select>', form, re.S).group(0)
    assert "人民调解受理登记表" in documents and "人民调解协议书" not in documents   # only what the case has
    sent = client.post(f"/cases/{case.id}/consent", data={"party_id": respondent.id, "online_handling": "y",
                                                          "e_service": "y"})
    assert sent.status_code == 302
    assert db.session.scalar(select(PartyConsent.e_service).where(PartyConsent.party_id == respondent.id))
    served = client.post(f"/cases/{case.id}/deliveries", data={"key": "rights_notice", "party_id": applicant.id})
    assert served.status_code == 302 and served.headers["Location"].endswith(f"/cases/{case.id}#online")
    delivery = db.session.scalar(select(DocumentDelivery))
    page = client.get(f"/cases/{case.id}").get_data(as_text=True)
    assert f"/public/d/{delivery.token}" in page and "已发送，尚未查看" in page
    copy = client.get(f"/cases/deliveries/{delivery.id}")
    assert copy.status_code == 200 and copy.data[:5] == b"%PDF-"
    db.session.expire_all()
    assert db.session.get(DocumentDelivery, delivery.id).status == DeliveryStatus.SERVED   # no receipt


def test_serving_is_refused_to_who_does_not_work_the_case(login_as, ctx):
    case = file_dispute(filing())
    applicant = case.parties_of(PartyKind.APPLICANT)[0]
    before = online_counts()
    for username in ("director", "renshe", "grid"):
        client = login_as(username)
        resp = client.post(f"/cases/{case.id}/deliveries", data={"key": "registration", "party_id": applicant.id})
        assert resp.status_code == 403, username
        assert client.get(f"/cases/{case.id}/consent").status_code == 403, username
    assert without_audit(online_counts()) == without_audit(before)


def test_serving_to_a_party_without_consent_is_refused_on_the_page(login_as, ctx):
    case = file_dispute(filing())
    respondent = case.parties_of(PartyKind.RESPONDENT)[0]
    before = online_counts()
    resp = login_as("window").post(f"/cases/{case.id}/deliveries",
                                   data={"key": "registration", "party_id": respondent.id})
    assert resp.status_code == 400 and "未保存" in resp.get_data(as_text=True)   # not a choice of the form
    assert without_audit(online_counts()) == without_audit(before)


def test_the_paper_service_is_recorded_from_the_worklist(login_as, ctx):
    case = file_dispute(filing())
    delivery = serve_document(user("window"), case.id, "registration", case.parties_of(PartyKind.APPLICANT)[0].id)
    with frozen_at(delivery.served_at + timedelta(days=4)):
        sweep_unopened()
    item = db.session.scalar(select(WorkItem).where(WorkItem.kind == WorkItemKind.DELIVERY))
    client = login_as("window")
    assert "纸质送达：人民调解受理登记表" in client.get("/worklist/").get_data(as_text=True)
    form = client.get(f"/cases/task/{item.id}").get_data(as_text=True)
    assert "送达方式" in form and "王小丽" in form                      # the recipient proposed
    done = client.post(f"/cases/task/{item.id}", data={"method": "direct", "served_on": local_today().isoformat(),
                                                       "recipient": "王小丽", "note": ""})
    assert done.status_code == 302
    db.session.expire_all()
    assert db.session.get(DocumentDelivery, delivery.id).status == DeliveryStatus.PAPER_DONE
    assert "已纸质送达" in client.get(f"/cases/{case.id}").get_data(as_text=True)


def test_the_mediator_schedules_an_online_session_and_records_who_joined(login_as, make_case):
    case = db.session.get(Case, make_case(until="handle"))
    for party in case.parties:
        record_consent(user("window"), case.id, party.id, True, False)
    assert login_as("window").get(f"/cases/{case.id}/appointments").status_code == 403
    client = login_as("sifa")
    assert 'id="schedule-session"' in client.get(f"/cases/{case.id}").get_data(as_text=True)
    starts = utc_to_local(utcnow() + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")
    sent = client.post(f"/cases/{case.id}/appointments", data={
        "starts_at": starts, "meeting_link": "https://meeting.example.cn/j/1", "others": "王明",
        "participant_ids": [str(p.id) for p in case.parties]})
    assert sent.status_code == 302
    appointment = db.session.scalar(select(SessionAppointment))
    assert "https://meeting.example.cn/j/1" in client.get(f"/cases/{case.id}").get_data(as_text=True)
    with frozen_at(utcnow() + timedelta(hours=2)):
        page = client.get(f"/cases/appointments/{appointment.id}").get_data(as_text=True)
        assert "张三" in page and "李四" in page
        done = client.post(f"/cases/appointments/{appointment.id}", data={
            "attended_ids": [str(case.parties[0].id), str(case.parties[1].id)], "kind": "peoples",
            "mediators": "王明", "applicant_statement": "同意", "respondent_statement": "同意",
            "result": "agreed", "notes": ""})
    assert done.status_code == 302
    db.session.expire_all()
    held = db.session.get(SessionAppointment, appointment.id)
    assert held.status == AppointmentStatus.HELD and held.session.attendees == "张三、李四、王明"
    assert login_as("cun").get(f"/cases/appointments/{appointment.id}").status_code == 403
