"""Printing in a real browser: a dossier from the case page, and a month's dossiers as a batch whose
progress the page shows while the worker renders it."""
from __future__ import annotations

import io
import re
import threading
import time
import zipfile
from pathlib import Path

from portal.extensions import db
from portal.models import Case
from portal.services.deadlines import local_today
from portal.services.documents.batch import run_print_jobs
from tests.browser.test_chain import login
from tests.pdfcheck import pdf_text

SHOTS = Path(__file__).resolve().parents[2] / "test-artifacts"


def test_the_dossier_prints_from_the_case_page(page, make_case):
    case_id = make_case(until=None)
    login(page, "sifa")
    page.goto(page.live_url + f"/cases/{case_id}")
    link = page.locator("#print-dossier")
    response = page.request.get(page.live_url + link.get_attribute("href"))
    assert response.ok and response.headers["content-type"] == "application/pdf"
    text = re.sub(r"\s+", "", pdf_text(response.body()))
    assert "调解卷宗" in text and db.session.get(Case, case_id).code in text


def test_a_month_of_dossiers_prints_in_the_background_with_progress(page, make_case, app):
    SHOTS.mkdir(exist_ok=True)
    cases = [make_case(until=None) for _ in range(3)]
    login(page, "sifa")
    page.goto(page.live_url + "/prints/")
    page.fill("#month", local_today().strftime("%Y-%m"))
    page.check("input[name=output][value=zip]")
    page.click("#queue-print")
    page.wait_for_selector("#print-progress")
    assert page.inner_text("#print-count").replace(" ", "") == "0/3"

    def worker():  # the worker, one slice of two dossiers at a time, with a pause the page can see
        with app.app_context():
            while run_print_jobs(slice_size=2):
                time.sleep(1.5)
    thread = threading.Thread(target=worker)
    thread.start()
    page.wait_for_function("document.getElementById('print-count').textContent.replace(/ /g, '') === '2/3'")
    page.screenshot(path=str(SHOTS / "batch_print_progress.png"), full_page=True)
    page.wait_for_selector("#print-download", timeout=60000)
    thread.join()
    with page.expect_download() as info:
        page.click("#print-download")
    data = Path(info.value.path()).read_bytes()
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        names = [n for n in archive.namelist() if n.endswith(".pdf")]
    codes = {db.session.get(Case, c).code for c in cases}
    assert {n.split("-")[0] for n in names} == codes
