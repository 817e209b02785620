"""The whole dossier (卷宗) of a case: order, real page numbers in the 卷内目录, attachments, notes."""
from __future__ import annotations

import hashlib
import io
import json
import re
from pathlib import Path

from flask import current_app
from sqlalchemy import func, select

from portal.clock import utcnow
from portal.extensions import db
from portal.models import AttachmentCategory, AuditEvent, CaseAttachment, MediationAgreement
from tests.conftest import user
from tests.pdfcheck import cjk_font_embedded, pdf_pages, pdf_text, pdf_xmp

TOC_ROW = re.compile(r"^\s*(\d+)\s+(\S+)\s+(\d+|—)\s*(\S*)\s*$")


def _squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


def _png(color="gray", size=(420, 260)) -> bytes:
    from PIL import Image
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, "PNG")
    return out.getvalue()


def _pdf(pages: int) -> bytes:
    from portal.pdf import render_pdf
    body = "".join(f'<p style="page-break-after:always">收条第{n}页</p>' for n in range(1, pages + 1))
    return render_pdf(f'<html><body style="font-family:Noto Sans CJK SC">{body}</body></html>')


def attach(case_id: int, category: str, title: str, data: bytes | None, filename: str) -> CaseAttachment:
    """A file on a case as the upload would leave it (``data`` None: the file went missing)."""
    digest = hashlib.sha256(data or title.encode()).hexdigest()
    ext = filename.rsplit(".", 1)[-1]
    if data is not None:
        folder = Path(current_app.config["UPLOAD_FOLDER"])
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{digest}.{ext}").write_bytes(data)
    a = CaseAttachment(case_id=case_id, category=AttachmentCategory(category), title=title, filename=filename,
                       stored_name=f"{digest}.{ext}", content_type="application/pdf" if ext == "pdf" else "image/png",
                       size=len(data or b""), pages=1, uploaded_by_id=user("sifa").id, uploaded_at=utcnow())
    db.session.add(a)
    db.session.commit()
    return a


def toc(pdf: bytes) -> list[tuple[str, str, str]]:
    """(title, page, note) of each row of the 卷内目录 (page 2)."""
    rows = []
    for line in pdf_text(pdf, 2).splitlines():
        match = TOC_ROW.match(line)
        if match:
            rows.append((match[2], match[3], match[4]))
    return rows


def test_the_dossier_follows_the_archive_order_and_its_contents_point_at_the_real_pages(login_as, make_case):
    case_id = make_case(until=None)
    attach(case_id, "identity", "张三身份证复印件", _png(), "zhangsan.png")
    attach(case_id, "performance", "拆除围墙收条", _pdf(2), "shoutiao.pdf")
    response = login_as("sifa").get(f"/cases/{case_id}/dossier")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    pdf = response.data
    pages = pdf_pages(pdf)
    assert "调解卷宗" in _squash(pdf_text(pdf, 1)) and "卷内目录" in _squash(pdf_text(pdf, 2))
    assert re.search(r"（\d{4}）人调字第\d+号", _squash(pdf_text(pdf, 1)))  # the 卷号 drawn at closing
    rows = toc(pdf)
    titles = [t for t, _p, _n in rows]
    # the archivist's order: registration, notice, identity, sessions, agreement, receipt, follow-up, back cover
    expected = ["人民调解受理登记表", "张三身份证复印件", "拆除围墙收条", "封底"]
    assert [t for t in titles if t in expected] == expected
    assert titles[-1] == "封底"
    previous = 2
    for title, page, _note in rows:
        if page == "—":
            continue
        start = int(page)
        assert previous < start <= pages, (title, page)
        assert title in _squash(pdf_text(pdf, start)), f"{title} is not on page {start}"
        previous = start
    receipt = int(dict((t, p) for t, p, _n in rows)["拆除围墙收条"])
    assert "共2页" in _squash(pdf_text(pdf, receipt))   # both pages of the attached PDF are in
    for page in range(1, pages + 1):                   # a page number on every page
        assert f"第{page}页" in _squash(pdf_text(pdf, page))
    assert cjk_font_embedded(pdf)
    assert re.search(r"pdfaid:part(>|=\")2", pdf_xmp(pdf))  # the archive copy is PDF/A-2
    assert db.session.scalar(select(func.count()).select_from(AuditEvent)
                             .where(AuditEvent.action == "dossier.print", AuditEvent.case_id == case_id)) == 1


def test_a_missing_or_false_attachment_is_noted_in_the_dossier_and_the_response(login_as, make_case):
    case_id = make_case(until=None)
    attach(case_id, "evidence", "现场照片", None, "xianchang.png")                   # the file is gone
    attach(case_id, "evidence", "伪装的图片", b"MZ\x90\x00 not an image", "virus.png")  # not a real image
    attach(case_id, "evidence", "坏的PDF", b"%PDF-1.7 truncated", "broken.pdf")       # not a real PDF
    response = login_as("sifa").get(f"/cases/{case_id}/dossier")
    assert response.status_code == 200
    notes = json.loads(response.headers["X-Dossier-Notes"])
    assert any("现场照片" in n and "缺失" in n for n in notes)
    assert any("伪装的图片" in n and "不是有效的图片或PDF" in n for n in notes)
    assert any("坏的PDF" in n for n in notes)
    rows = {t: (p, n) for t, p, n in toc(response.data)}
    assert rows["现场照片"][0] == "—" and rows["卷宗情况说明"][0] != "—"
    explanation = _squash(pdf_text(response.data, int(rows["卷宗情况说明"][0])))
    assert "现场照片" in explanation and "伪装的图片" in explanation


def test_an_open_case_prints_what_exists_marked_as_not_closed(login_as, make_case):
    case_id = make_case(until="feedback")
    pdf = login_as("sifa").get(f"/cases/{case_id}/dossier").data
    for page in range(1, pdf_pages(pdf) + 1):
        assert "未结案" in _squash(pdf_text(pdf, page))
    assert "尚未编号" in _squash(pdf_text(pdf, 1))


def test_a_case_without_a_written_agreement_carries_its_oral_agreement_record(login_as, make_case):
    case_id = make_case(until=None)
    agreement = db.session.scalar(select(MediationAgreement).where(MediationAgreement.case_id == case_id))
    agreement.kind = agreement.kind.__class__("oral")
    db.session.commit()
    titles = [t for t, _p, _n in toc(login_as("sifa").get(f"/cases/{case_id}/dossier").data)]
    assert "人民调解口头协议登记表" in titles and "人民调解协议书" not in titles


def test_personal_data_in_the_dossier_is_masked_for_roles_that_do_not_need_it(login_as, make_case):
    case_id = make_case(until=None)
    masked = _squash(pdf_text(login_as("verify").get(f"/cases/{case_id}/dossier").data))
    assert "11010519491231002X" not in masked and "110***********002X" in masked
    full = _squash(pdf_text(login_as("sifa").get(f"/cases/{case_id}/dossier").data))
    assert "11010519491231002X" in full


def test_another_townships_user_gets_no_dossier(login_as, make_case):
    from tests.conftest import unit_id
    case_id = make_case(until=None, township_id=unit_id("T02"), village_id=None)
    response = login_as("xiang").get(f"/cases/{case_id}/dossier")
    assert response.status_code == 403 and response.mimetype != "application/pdf"
    assert db.session.scalar(select(func.count()).select_from(AuditEvent)
                             .where(AuditEvent.action == "dossier.print")) == 0


def test_identity_papers_stay_out_of_a_dossier_printed_for_a_role_that_sees_data_masked(login_as, make_case):
    case_id = make_case(until=None)
    attach(case_id, "identity", "张三身份证复印件", _png("white", (900, 560)), "zhangsan.png")
    masked = login_as("verify").get(f"/cases/{case_id}/dossier").data
    rows = {t: (p, n) for t, p, n in toc(masked)}
    assert rows["张三身份证复印件"][0] == "—" and "个人信息" in rows["张三身份证复印件"][1]
    assert b"/Subtype /Image" not in masked and b"/Subtype/Image" not in masked
    full = login_as("sifa").get(f"/cases/{case_id}/dossier").data
    assert {t: p for t, p, _n in toc(full)}["张三身份证复印件"] != "—"


def test_a_matter_referred_to_its_lawful_channel_is_not_short_of_mediation_papers(login_as, make_case, ctx):
    from portal.services.cases import complete_task, register_case
    from tests.conftest import intake_data, open_item, user
    case_id = register_case(user("window"), intake_data(route="labour_arbitration")).id
    complete_task(user("dispatch"), open_item(case_id, "refer").id,
                  {"receiving_body": "县劳动人事争议仲裁委员会", "notice": "已告知当事人申请仲裁的期限和材料。"})
    complete_task(user("dispatch"), open_item(case_id, "refer_followup").id,
                  {"outcome": "accepted", "note": "已受理。"})
    response = login_as("window").get(f"/cases/{case_id}/dossier")
    assert response.status_code == 200
    rows = {t: n for t, _p, n in toc(response.data)}
    assert "未调解" in rows["人民调解记录"] and "未调解" in rows["人民调解协议书"]
    notes = json.loads(response.headers["X-Dossier-Notes"])
    assert not any("人民调解记录" in n or "人民调解协议书" in n for n in notes)
