"""Attached papers: who may attach, what a file must really be, stored once per content, nothing left behind by
a refusal or a failed transaction, and opened only by those who may see the case (audited)."""
from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest
from flask import current_app
from sqlalchemy import select

from portal.extensions import db
from portal.models import AuditEvent, CaseAttachment
from portal.services import attachments as service
from portal.services.attachments import (
    AttachmentFileMissingError,
    AttachmentNotAllowedError,
    AttachmentNotFoundError,
    PersonalPapersError,
    add_attachment,
    attachment_path,
    attachments_of,
    open_attachment,
)
from portal.services.errors import CaseForbiddenError, CaseNotFoundError, ValidationFailed
from tests import papers
from tests.conftest import row_counts, unit_id, user


@pytest.fixture
def uploads(ctx) -> Path:
    folder = Path(current_app.config["UPLOAD_FOLDER"])
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    return folder


def _files(folder: Path) -> set[str]:
    return {p.name for p in folder.iterdir()}


def attach(case_id, username="sifa", data=None, category="evidence", title="现场照片", filename="现场.png"):
    return add_attachment(user(username), case_id, category, title, filename, papers.png() if data is None else data)


@pytest.mark.parametrize("username,until,allowed", [
    ("window", "handle", True), ("dispatch", "handle", True), ("verify", "handle", True),  # the center's case staff
    ("sifa", "handle", True),                  # the unit handling the case, while it holds the step
    ("sifa", "accept", True),                  # ... or accepts it
    ("sifa", "followup", False),               # ... not once its steps are done
    ("window", "closed", True),                # filing: the window adds papers to a closed case
    ("director", "handle", False),             # supervises, does not keep the papers
    ("sifalead", "handle", False), ("xiang", "handle", False), ("cun", "handle", False),  # see the case only
    ("admin", "handle", False),
])
def test_who_may_attach(make_case, uploads, username, until, allowed):
    case_id = make_case(until=None if until == "closed" else until)
    before, files = row_counts(), _files(uploads)
    if allowed:
        assert attach(case_id, username).uploaded_by.username == username
    else:
        with pytest.raises(AttachmentNotAllowedError):
            attach(case_id, username)
        assert row_counts() == before and _files(uploads) == files


def test_a_unit_consulted_attaches_while_its_opinion_is_open(make_case, uploads):
    from tests.conftest import do_step
    case_id = make_case(until="dispatch")
    do_step(case_id, "dispatch", cooperating_unit_ids=[unit_id("D06")])
    assert attach(case_id, "renshe", title="工资表").title == "工资表"


@pytest.mark.parametrize("username", ["renshe", "fayuan", "grid"])
def test_a_case_not_seen_is_refused_and_nothing_is_written(make_case, uploads, username):
    case_id = make_case(until="handle")
    before = row_counts()
    with pytest.raises(CaseForbiddenError):
        attach(case_id, username)
    with pytest.raises(CaseNotFoundError):
        attach(999999, "window")
    assert row_counts() == before and _files(uploads) == set()


def test_good_files_are_stored_once_per_content_with_what_they_are(make_case, uploads):
    case_id, other = make_case(until="handle"), make_case(until="handle")
    image = papers.png()
    first = attach(case_id, data=image, category="identity", title="申请人身份证", filename="C:\\fakepath\\身份证.png")
    again = attach(other, data=image, category="identity", title="身份证", filename="id.png")
    photo = attach(case_id, data=papers.jpeg(), filename="scene.JPG")
    receipt = attach(case_id, data=papers.pdf(3), category="performance", title="收条", filename="收条.pdf")
    digest = hashlib.sha256(image).hexdigest()
    assert first.stored_name == again.stored_name == f"{digest}.png"
    assert (first.filename, first.content_type, first.size, first.pages) == ("身份证.png", "image/png", len(image), 1)
    assert (photo.content_type, photo.stored_name[-4:]) == ("image/jpeg", ".jpg")
    assert (receipt.content_type, receipt.pages) == ("application/pdf", 3)
    assert _files(uploads) == {first.stored_name, photo.stored_name, receipt.stored_name}   # one file per content
    assert attachment_path(first).read_bytes() == image
    assert [(c.value, [a.title for a in items]) for c, items in attachments_of(case_id).items()] == \
        [("identity", ["申请人身份证"]), ("evidence", ["现场照片"]), ("performance", ["收条"])]
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "case.attachment_add",
                                                         AuditEvent.case_id == case_id)).all()
    assert len(events) == 3 and digest in events[0].detail and events[0].username == "sifa"


def _not_really(kind: str) -> bytes:
    png, jpeg, pdf = papers.png(), papers.jpeg(), papers.pdf()
    return {"empty": b"", "text": "这不是图片".encode(), "gif": b"GIF89a" + png[6:],
            "png_cut": png[:-20], "jpeg_cut": jpeg[: len(jpeg) - 200], "png_named_pdf": b"%PDF-1.4\n" + png,
            "png_corrupt": png[:60] + bytes([png[60] ^ 0xFF]) + png[61:],           # a checksum fails
            "pdf_cut": pdf[: len(pdf) // 2], "pdf_garbage": b"%PDF-1.7\n" + b"x" * 500,
            "pdf_encrypted": papers.encrypted_pdf(b""), "pdf_password": papers.encrypted_pdf(b"secret"),
            "html": b"<html><script>alert(1)</script></html>"}[kind]


@pytest.mark.parametrize("kind", ["empty", "text", "gif", "png_cut", "jpeg_cut", "png_corrupt", "png_named_pdf",
                                  "pdf_cut", "pdf_garbage", "pdf_encrypted", "pdf_password", "html"])
@pytest.mark.parametrize("lenient_pillow", [False, True])   # WeasyPrint, once imported, makes Pillow lenient
def test_what_is_not_really_a_png_jpeg_or_pdf_is_refused_and_nothing_is_left(make_case, uploads, monkeypatch, kind,
                                                                              lenient_pillow):
    from PIL import ImageFile
    monkeypatch.setattr(ImageFile, "LOAD_TRUNCATED_IMAGES", lenient_pillow)
    case_id = make_case(until="handle")
    before = row_counts()
    with pytest.raises(ValidationFailed) as refused:
        attach(case_id, data=_not_really(kind), filename="scan.pdf" if kind.startswith("pdf") else "scan.png")
    assert refused.value.field == "file"
    assert row_counts() == before and _files(uploads) == set()
    assert ImageFile.LOAD_TRUNCATED_IMAGES is lenient_pillow                  # left as WeasyPrint wants it


def test_a_file_above_the_limit_is_refused(make_case, uploads, monkeypatch):
    case_id = make_case(until="handle")
    image = papers.png()
    monkeypatch.setitem(current_app.config, "PORTAL_ATTACHMENT_MAX_BYTES", len(image) - 1)
    before = row_counts()
    with pytest.raises(ValidationFailed) as refused:
        attach(case_id, data=image)
    assert refused.value.field == "file" and "KB" in str(refused.value)
    assert row_counts() == before and _files(uploads) == set()
    monkeypatch.setitem(current_app.config, "PORTAL_ATTACHMENT_MAX_BYTES", len(image))
    assert attach(case_id, data=image).size == len(image)                  # exactly the limit is fine


@pytest.mark.parametrize("overrides,field", [({"category": "photo"}, "category"), ({"title": " "}, "title"),
                                             ({"title": "题" * 201}, "title")])
def test_the_category_and_title_are_checked(make_case, uploads, overrides, field):
    case_id = make_case(until="handle")
    before = row_counts()
    with pytest.raises(ValidationFailed) as refused:
        attach(case_id, **overrides)
    assert refused.value.field == field and row_counts() == before and _files(uploads) == set()


def test_a_transaction_that_fails_leaves_no_new_file_but_keeps_one_already_kept(make_case, uploads, monkeypatch):
    case_id = make_case(until="handle")
    kept = attach(case_id, data=papers.png("white"))

    def broken(*_args, **_kwargs):
        raise RuntimeError("database went away")
    monkeypatch.setattr(service, "audit", broken)                   # fails after the file is written
    before = row_counts()
    for image in (papers.png("black"), papers.png("white")):
        with pytest.raises(RuntimeError):
            attach(case_id, data=image)
    assert row_counts() == before and _files(uploads) == {kept.stored_name}
    monkeypatch.undo()
    monkeypatch.setattr(db.session, "commit", broken)               # fails at the commit itself
    with pytest.raises(RuntimeError):
        attach(case_id, data=papers.png("black"))
    monkeypatch.undo()
    assert row_counts() == before and _files(uploads) == {kept.stored_name}
    assert not [p for p in uploads.iterdir() if p.name.endswith(".part")]


def test_opening_a_paper_is_scoped_to_the_case_and_audited(make_case, uploads):
    from portal.models import OrgUnit
    town_b = db.session.scalar(select(OrgUnit).where(OrgUnit.code == "T02"))
    case_id = make_case(until="handle", township_id=town_b.id, village_id=None)
    evidence = attach(case_id)
    identity = attach(case_id, category="identity", title="身份证")
    paper, path = open_attachment(user("sifa"), evidence.id)
    assert paper.id == evidence.id and path.read_bytes() == papers.png()
    viewed = select(AuditEvent).where(AuditEvent.action == "case.attachment_view")
    assert [(e.username, e.detail) for e in db.session.scalars(viewed)] == \
        [("sifa", f'{{"attachment": {evidence.id}}}')]
    for username in ("xiang", "renshe", "cun"):                    # 城关镇 and its village; another department
        with pytest.raises(CaseForbiddenError):
            open_attachment(user(username), evidence.id)
    with pytest.raises(PersonalPapersError):                       # the director sees ID numbers masked
        open_attachment(user("director"), identity.id)
    assert open_attachment(user("director"), evidence.id)[0].id == evidence.id
    assert open_attachment(user("sifa"), identity.id)[0].id == identity.id
    with pytest.raises(AttachmentNotFoundError):
        open_attachment(user("sifa"), 999999)
    assert len(db.session.scalars(viewed).all()) == 3
    attachment_path(evidence).unlink()
    with pytest.raises(AttachmentFileMissingError):
        open_attachment(user("sifa"), evidence.id)
    assert len(db.session.scalars(viewed).all()) == 3
    assert db.session.get(CaseAttachment, evidence.id) is not None
