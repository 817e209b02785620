"""Filing a dispute online: it becomes a case at the window through the window's own registration, with
the applicant's consents and files; without both consents, with a wrong number or a bad file it is
refused with the reason and nothing at all is saved (no case, no consent, no file, no audit row)."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from flask import current_app
from sqlalchemy import select

from portal.extensions import db
from portal.models import (
    AttachmentCategory,
    AuditEvent,
    CaseAttachment,
    CaseStatus,
    ConsentChannel,
    PartyConsent,
    PartyKind,
    SourceChannel,
    WorkItem,
)
from portal.services.errors import ValidationFailed
from portal.services.filing import ONLINE_DESK, Upload, create_online_desk, file_dispute
from tests import papers
from tests.online import APPLICANT_PHONE, clean_online, filing, online_counts  # noqa: F401


@pytest.fixture
def uploads(ctx) -> Path:
    folder = Path(current_app.config["UPLOAD_FOLDER"])
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    return folder


def test_an_online_filing_becomes_a_case_at_the_window_with_consents_and_files(uploads):
    case = file_dispute(filing(uploads=[Upload("围墙.png", papers.png()), Upload("欠条.pdf", papers.pdf(2))]))
    db.session.expire_all()
    assert case.code and case.source_channel == SourceChannel.ONLINE
    assert case.registered_by.username == ONLINE_DESK and not case.registered_by.active
    assert case.title == "王小丽与刘大成" + case.dispute_type.name
    assert case.status == CaseStatus.TRIAGING                      # intake done: the center triages next
    applicant, respondent = case.parties_of(PartyKind.APPLICANT)[0], case.parties_of(PartyKind.RESPONDENT)[0]
    assert (applicant.name, applicant.phone, applicant.id_number) == ("王小丽", APPLICANT_PHONE, "11010519491231002X")
    assert (respondent.name, respondent.phone) == ("刘大成", "13900139000")
    consent = db.session.scalar(select(PartyConsent).where(PartyConsent.case_id == case.id))
    assert (consent.party_id, consent.online_handling, consent.e_service, consent.channel) == \
        (applicant.id, True, True, ConsentChannel.ONLINE_FILING)
    papers_of = list(db.session.scalars(select(CaseAttachment).where(CaseAttachment.case_id == case.id)
                                        .order_by(CaseAttachment.id)))
    assert [(a.filename, a.content_type, a.pages, a.category) for a in papers_of] == [
        ("围墙.png", "image/png", 1, AttachmentCategory.EVIDENCE), ("欠条.pdf", "application/pdf", 2,
                                                                    AttachmentCategory.EVIDENCE)]
    assert all((uploads / a.stored_name).is_file() for a in papers_of)
    intake = db.session.scalar(select(WorkItem).where(WorkItem.case_id == case.id, WorkItem.form_key == "intake"))
    assert intake.completed_by.username == ONLINE_DESK
    actions = [e.action for e in db.session.scalars(select(AuditEvent).where(AuditEvent.case_id == case.id))]
    assert "case.register" in actions and "public.file" in actions


def test_the_online_desk_is_created_once(ctx):
    from portal.models import PortalUser
    create_online_desk()
    create_online_desk()
    desks = list(db.session.scalars(select(PortalUser).where(PortalUser.username == ONLINE_DESK)))
    assert len(desks) == 1 and desks[0].roles == [] and not desks[0].active


BAD = [
    (dict(consent_online=False), "consent_online", "线上"),
    (dict(consent_e_service=False), "consent_online", "电子送达"),
    (dict(consent_online=False, consent_e_service=False), "consent_online", "窗口"),
    (dict(applicant_phone="1381234567"), "applicant_phone", "手机号"),          # ten digits
    (dict(applicant_phone="010-12345678"), "applicant_phone", "手机号"),        # a landline cannot be followed
    (dict(applicant_id_number="110105194912310021"), "applicant_id_number", "身份证"),  # wrong check digit
    (dict(applicant_id_number="11010519491331002X"), "applicant_id_number", "身份证"),  # no 31st of month 13
    (dict(respondent_phone="12345"), "respondent_phone", "电话"),
    (dict(uploads=[Upload("照片.jpg", b"\xff\xd8\xff\xe0 this is not a photo")]), "files", "照片.jpg"),
    (dict(uploads=[Upload("ok.png", papers.png()), Upload("假.pdf", b"%PDF-1.4 broken")]), "files", "假.pdf"),
    (dict(facts="   "), "facts", ""),
]


@pytest.mark.parametrize("overrides,field,words", BAD)
def test_a_bad_filing_is_refused_with_the_reason_and_nothing_is_saved(uploads, overrides, field, words):
    before = online_counts()
    with pytest.raises(ValidationFailed) as refused:
        file_dispute(filing(**overrides))
    assert refused.value.field == field and words in str(refused.value)
    assert online_counts() == before                      # not even an audit row
    assert list(uploads.iterdir()) == []                  # no file left behind


def test_an_oversized_or_surplus_file_is_refused(uploads, monkeypatch):
    monkeypatch.setitem(current_app.config, "PORTAL_ATTACHMENT_MAX_BYTES", 2048)
    before = online_counts()
    with pytest.raises(ValidationFailed) as refused:
        file_dispute(filing(uploads=[Upload("小.png", papers.png()), Upload("大.jpg", papers.jpeg())]))
    assert refused.value.field == "files" and "大.jpg" in str(refused.value) and "2 KB" in str(refused.value)
    monkeypatch.setitem(current_app.config, "PORTAL_PUBLIC_MAX_FILES", 2)
    monkeypatch.setitem(current_app.config, "PORTAL_ATTACHMENT_MAX_BYTES", 20 * 1024 * 1024)
    with pytest.raises(ValidationFailed) as refused:
        file_dispute(filing(uploads=[Upload(f"{i}.png", papers.png()) for i in range(3)]))
    assert refused.value.field == "files" and "2" in str(refused.value)
    assert online_counts() == before and list(uploads.iterdir()) == []


def test_a_wrong_township_or_type_is_refused_by_the_window_rules(uploads):
    from portal.models import DisputeType
    level_one = db.session.scalar(select(DisputeType.id).where(DisputeType.parent_id.is_(None)))
    before = online_counts()
    with pytest.raises(ValidationFailed) as refused:
        file_dispute(filing(dispute_type_id=level_one))
    assert refused.value.field == "dispute_type_id"
    assert online_counts() == before and list(uploads.iterdir()) == []


def test_the_filing_audit_names_the_files(uploads):
    case = file_dispute(filing())
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "public.file",
                                                       AuditEvent.case_id == case.id))
    assert event.username == ONLINE_DESK and len(json.loads(event.detail)["attachments"]) == 1
