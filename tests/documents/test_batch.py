"""Batch printing: queued from a page, rendered by the worker a slice at a time, downloaded once done."""
from __future__ import annotations

import io
import json
import re
import zipfile

from sqlalchemy import func, select

from portal.extensions import db
from portal.models import AuditEvent, PrintJob, PrintJobStatus
from portal.services.deadlines import local_today
from portal.services.documents.batch import run_print_jobs
from tests.conftest import row_counts, unit_id
from tests.documents.test_dossier import attach
from tests.pdfcheck import pdf_pages, pdf_text


def _month() -> str:
    return local_today().strftime("%Y-%m")


def _queue(client, **form):
    data = {"month": _month(), "township_id": "", "scope": "closed", "output": "zip", **form}
    return client.post("/prints/", data=data)


def _run_to_end() -> int:
    rounds = 0
    while run_print_jobs(slice_size=2):
        rounds += 1
    return rounds


def test_a_month_of_closed_cases_prints_as_a_zip_with_progress_notes_and_audit(login_as, make_case, ctx):
    closed = [make_case(until=None) for _ in range(3)]
    make_case(until="verify")                                  # open: not in a batch of closed cases
    attach(closed[1], "evidence", "现场照片", None, "xianchang.png")  # its file went missing
    client = login_as("sifa")
    response = _queue(client)
    assert response.status_code == 302
    job = db.session.scalar(select(PrintJob))
    assert (job.status, job.total, job.done) == (PrintJobStatus.QUEUED, 3, 0)
    page = client.get(f"/prints/{job.id}")
    assert page.status_code == 200 and 'id="print-progress"' in page.text
    assert run_print_jobs(slice_size=2) == 2                     # one slice: progress shows 2 of 3
    status = client.get(f"/prints/{job.id}/status").get_json()
    assert (status["status"], status["done"], status["total"], status["download"]) == ("queued", 2, 3, "")
    _run_to_end()
    status = client.get(f"/prints/{job.id}/status").get_json()
    assert status["status"] == "done" and status["done"] == 3
    assert any("现场照片" in n for n in status["notes"])
    download = client.get(status["download"])
    assert download.status_code == 200 and download.mimetype == "application/zip"
    with zipfile.ZipFile(io.BytesIO(download.data)) as archive:
        names = archive.namelist()
        pdfs = [n for n in names if n.endswith(".pdf")]
        assert len(pdfs) == 3 and "打印说明.txt" in names
        assert "现场照片" in archive.read("打印说明.txt").decode()
        for name in pdfs:
            text = re.sub(r"\s+", "", pdf_text(archive.read(name)))
            assert "调解卷宗" in text and "卷内目录" in text
    printed = db.session.scalars(select(AuditEvent.case_id).where(AuditEvent.action == "dossier.print"))
    assert sorted(printed) == sorted(closed)                    # every dossier printed is audited
    assert db.session.scalar(select(func.count()).select_from(AuditEvent)
                             .where(AuditEvent.action == "print.download")) == 1


def test_one_pdf_holds_every_dossier(login_as, make_case, ctx):
    cases = [make_case(until=None) for _ in range(2)]
    client = login_as("dispatch")
    _queue(client, output="pdf")
    _run_to_end()
    job = db.session.scalar(select(PrintJob))
    pdf = client.get(f"/prints/{job.id}/download").data
    singles = sum(pdf_pages(client.get(f"/cases/{c}/dossier").data) for c in cases)
    assert pdf_pages(pdf) == singles


def test_a_township_prints_only_its_own_cases(login_as, make_case, ctx):
    make_case(until=None)                                                   # 城关镇 (T01)
    make_case(until=None, township_id=unit_id("T02"), village_id=None)      # 乙镇 (T02)
    client = login_as("xiang")                                              # 城关镇 staff
    _queue(client)
    job = db.session.scalar(select(PrintJob))
    assert job.total == 1
    _queue(client, township_id=str(unit_id("T02")))                         # asking for 乙镇 finds nothing
    assert db.session.scalar(select(func.count()).select_from(PrintJob)) == 1


def test_refused_requests_save_nothing(login_as, make_case, ctx):
    make_case(until=None)
    client = login_as("sifa")
    before = row_counts()
    for form, message in (({"month": "2026-13"}, "月份格式应为"), ({"month": "sometime"}, "月份格式应为"),
                          ({"month": "2001-01"}, "没有符合条件且您可查看的案件"), ({"output": "docx"}, "未保存")):
        response = _queue(client, **form)
        assert response.status_code == 400, form
        assert message in response.text, form
    assert db.session.scalar(select(func.count()).select_from(PrintJob)) == 0
    assert row_counts() == before


def test_a_print_job_is_its_requesters_alone(login_as, make_case, ctx):
    make_case(until=None)
    _queue(login_as("sifa"))
    _run_to_end()
    job = db.session.scalar(select(PrintJob))
    other = login_as("dispatch")
    for url in (f"/prints/{job.id}", f"/prints/{job.id}/status", f"/prints/{job.id}/download"):
        assert other.get(url).status_code == 404
    assert db.session.scalar(select(func.count()).select_from(AuditEvent)
                             .where(AuditEvent.action == "print.download")) == 0
    assert json.loads(job.case_ids)


def test_a_job_that_cannot_render_says_so_and_the_worker_goes_on(app, login_as, make_case, ctx):
    make_case(until=None)
    client = login_as("sifa")
    _queue(client)
    variant = app.config["PORTAL_PDF_VARIANT"]
    app.config["PORTAL_PDF_VARIANT"] = "pdf/none"          # a setting WeasyPrint does not know
    try:
        assert run_print_jobs() == 0                         # no exception reaches the worker's loop
    finally:
        app.config["PORTAL_PDF_VARIANT"] = variant
    job = db.session.scalar(select(PrintJob))
    db.session.refresh(job)
    assert job.status == PrintJobStatus.FAILED and "pdf/none" in job.error
    status = client.get(f"/prints/{job.id}/status").get_json()
    assert status["status"] == "failed" and status["download"] == ""
    page = client.get(f"/prints/{job.id}")
    assert "打印失败" in page.text
