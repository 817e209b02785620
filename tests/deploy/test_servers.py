"""Two real app servers (gunicorn, started by deploy/serve.sh in production mode with their timer
workers) on one database and one upload folder, with one secret key: whatever a user does, on whichever
server a request lands, the other server knows it -- the login, the CSRF token, the language, the
papers attached, the steps done -- and a login limit counts the attempts made on both."""
from __future__ import annotations

import os
import subprocess
import time

import pytest
from sqlalchemy import func, select

from portal.config import ROOT
from portal.extensions import db
from portal.models import CaseAttachment, WorkItem, WorkItemStatus
from tests import papers
from tests.conftest import PASSWORD, STEP_FORMS, open_item, row_counts
from tests.deploy.servers import Browser, serving
from tests.online import clean_online  # noqa: F401  (the login counters are emptied around each test)


@pytest.fixture(scope="module")
def servers(app, tmp_path_factory):
    """Two servers for the module, with a login limit of 5 attempts a day per address."""
    log = tmp_path_factory.mktemp("servers") / "servers.log"
    try:
        with open(log, "wb") as out, serving(app, log=out, PORTAL_LOGIN_RATE_LIMIT="5 per day") as urls:
            yield urls
    finally:
        print(log.read_text(errors="replace")[-4000:])  # shown when a test fails


def test_what_is_done_on_one_server_is_known_on_the_other(servers, make_case):
    a, b = servers
    case_id = make_case(until="triage")
    triage = open_item(case_id, "triage").id
    db.session.remove()  # the test holds no transaction while the servers write
    browser = Browser()
    login = browser.log_in(a, "dispatch", PASSWORD)
    assert login.status == 302 and "/login" not in login.location
    # the cookie A set is a login on B
    worklist = browser.get(b, "/worklist/")
    assert worklist.status == 200 and f"/cases/task/{triage}" in worklist.text
    # the language chosen on A is B's too
    assert browser.get(a, "/lang/en").status == 302
    assert "All cases of my unit" in browser.get(b, "/worklist/").text
    assert browser.get(b, "/lang/zh").status == 302
    assert "本单位全部案件" in browser.get(a, "/worklist/").text

    # a paper attached on A is opened on B
    scan = papers.png("white", (200, 140))
    token = browser.csrf_token(a, f"/cases/{case_id}")
    upload = browser.post(a, f"/cases/{case_id}/attachments",
                          {"category": "evidence", "title": "收条", "csrf_token": token},
                          files=[("file", "receipt.png", "image/png", scan)])
    assert upload.status == 302, upload.text[-2000:]
    paper = db.session.scalar(select(CaseAttachment.id).where(CaseAttachment.case_id == case_id))
    db.session.remove()
    assert f"/cases/attachments/{paper}" in browser.get(b, f"/cases/{case_id}").text
    opened = browser.get(b, f"/cases/attachments/{paper}")
    assert opened.status == 200 and opened.body == scan

    # B checks CSRF: a POST without the token changes nothing; with the token A gave, the step is done
    before = _counts()
    refused = browser.post(b, f"/cases/task/{triage}", STEP_FORMS["triage"][1]())
    assert refused.status == 400 and _counts() == before
    token = browser.csrf_token(a, f"/cases/task/{triage}")
    done = browser.post(b, f"/cases/task/{triage}", {**STEP_FORMS["triage"][1](), "csrf_token": token})
    assert done.status == 302 and done.location.endswith(f"/cases/{case_id}"), done.text[-2000:]
    dispatch = open_item(case_id, "dispatch").id
    db.session.remove()
    assert f"/cases/task/{dispatch}" in browser.get(a, "/worklist/").text
    # a timer worker announces the new step to the dispatcher: seen on A
    assert _eventually(lambda: f"/cases/task/{dispatch}" in browser.get(a, "/worklist/notifications").text)


def _counts():
    counts = {**row_counts(), "open": db.session.scalar(select(func.count()).select_from(WorkItem).where(
        WorkItem.status == WorkItemStatus.OPEN))}
    db.session.remove()
    return counts


def _eventually(check, timeout: float = 30) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.3)
    return False


def test_login_attempts_are_counted_by_every_server_together(servers, ctx):
    a, b = servers
    now = time.time()
    if 86400 - now % 86400 < 60:  # the daily window must not end during the test
        time.sleep(86400 - now % 86400 + 1)
    browser = Browser()
    statuses = [browser.log_in(server, "dispatch", "wrong-password").status for server in (a, b) * 3]
    assert statuses == [302] * 5 + [429]   # counted per process, B's third would pass
    refused = browser.log_in(a, "dispatch", PASSWORD)   # the right password too, until the window ends
    assert refused.status == 429 and "/login" in browser.get(b, "/worklist/").location   # not logged in
    assert int(refused.headers["Retry-After"]) > 0


def test_serve_refuses_to_start_without_a_secret_key(app):
    env = {k: v for k, v in os.environ.items() if k != "PORTAL_SECRET_KEY"}
    env["PORTAL_DATABASE_URL"] = app.config["SQLALCHEMY_DATABASE_URI"]
    done = subprocess.run([str(ROOT / "deploy" / "serve.sh"), "8000"], env=env, capture_output=True, text=True,
                          timeout=30)
    assert done.returncode != 0 and "PORTAL_SECRET_KEY" in done.stderr
