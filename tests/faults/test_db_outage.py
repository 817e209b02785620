"""The database stops under load (a PostgreSQL cluster of the test's own, stopped with ``-m immediate``):
while it is down every page and API call answers at once with a clean 503 in Chinese, and when it is back
the same servers answer again without a restart; no case is half-advanced."""
from __future__ import annotations

import threading
import time

import pytest
from flask_migrate import upgrade

from portal import create_app
from portal.extensions import db
from tests.conftest import PASSWORD, STEP_FORMS, build_test_county, intake_data, unit_id, user
from tests.faults.checks import assert_consistent, assert_each_step_once
from tests.faults.harness import (
    Browser,
    Gunicorn,
    PrivatePostgres,
    Tally,
    assert_clean_unavailable,
    complete_over_http,
    portal_env,
    wait_for,
)

STEPS = ("triage", "dispatch", "accept")
CASES = 8


@pytest.fixture
def private_portal(app, tmp_path):
    """A portal on a PostgreSQL cluster of its own: (the app object, the cluster), a small county,
    an API client of the dispatcher's and cases waiting for triage."""
    pg = PrivatePostgres()
    portal = None
    try:
        pg.start()
        portal = create_app({"SQLALCHEMY_DATABASE_URI": pg.url, "SECRET_KEY": "outage", "TESTING": True,
                             "UPLOAD_FOLDER": app.config["UPLOAD_FOLDER"],
                             "PORTAL_PRINT_FOLDER": app.config["PORTAL_PRINT_FOLDER"]})
        with portal.app_context():
            assert db.engine.pool._pre_ping, "pool_pre_ping is what lets a server outlive a database restart"
            upgrade()
            build_test_county(PASSWORD)
            from portal.services.api_clients import ApiClientData, create_api_client
            from portal.services.cases import register_case
            _client, portal.config["TEST_TOKEN"] = create_api_client(user("admin"), ApiClientData(
                "outage", "dispatcher", unit_id("CENTER"), None, ["cases:read"]))
            portal.config["TEST_CASES"] = [(c.id, c.code) for c in
                                           (register_case(user("window"), intake_data()) for _ in range(CASES))]
            portal.config["TEST_FORMS"] = {step: STEP_FORMS[step][1]() for step in STEPS}
            db.session.remove()
        yield portal, pg
    finally:
        if portal is not None:
            with portal.app_context():
                db.session.remove()
                db.engine.dispose()
        pg.destroy()


def _open_item(portal, case_id: int) -> tuple[int, str] | None:
    """The case's open step among STEPS, as (work item, step); None when there is none or the database is
    down (the users' clients then go on reading pages)."""
    from sqlalchemy.exc import OperationalError

    from portal.models import WorkItem, WorkItemStatus
    with portal.app_context():
        try:
            item = db.session.query(WorkItem).filter_by(case_id=case_id, status=WorkItemStatus.OPEN).first()
            return (item.id, item.form_key) if item and item.form_key in STEPS else None
        except OperationalError:
            return None
        finally:
            db.session.remove()


class Load(threading.Thread):
    """Users at work: the dispatcher and the department's handler moving the cases on, the worklist and a
    case page read, and another system reading a case through the API, over and over."""

    def __init__(self, port: int, portal):
        super().__init__(daemon=True)
        self.journal, self.tally, self.outcomes, self.errors = [], Tally(), {}, []
        self.stop = threading.Event()
        self.port, self.portal = port, portal

    def run(self) -> None:
        try:
            users = {name: Browser(self.port, journal=self.journal, timeout=30) for name in ("dispatch", "sifa")}
            for name, browser in users.items():
                browser.login(name, PASSWORD)
            api = Browser(self.port, journal=self.journal, timeout=30)
            token = {"Authorization": f"Bearer {self.portal.config['TEST_TOKEN']}"}
            while not self.stop.is_set():
                for case_id, code in self.portal.config["TEST_CASES"]:
                    if self.stop.is_set():
                        return
                    users["dispatch"].get("/worklist/")
                    users["dispatch"].get(f"/cases/{case_id}")
                    api.get(f"/api/v1/cases/{code}", headers=token)
                    item = _open_item(self.portal, case_id)
                    if item:
                        item_id, step = item
                        username = STEP_FORMS[step][0]
                        self.outcomes[item_id] = (complete_over_http(
                            users[username], case_id, item_id, self.portal.config["TEST_FORMS"][step], self.tally),
                            username)
        except Exception as exc:  # noqa: BLE001 - the test's thread reports it
            self.errors.append(exc)


def _answers_while_down(port: int, portal, me: Browser, task_page) -> None:
    """What a user, a visitor and another system get while the database is down: a clean 503 each."""
    case_id, code = portal.config["TEST_CASES"][-1]
    token = {"Authorization": f"Bearer {portal.config['TEST_TOKEN']}"}
    assert_clean_unavailable(me.get("/worklist/"))
    assert_clean_unavailable(me.get(f"/cases/{case_id}"))
    assert_clean_unavailable(Browser(port, timeout=30).get("/worklist/"))   # not logged in
    posted = me.post(task_page.path, {**portal.config["TEST_FORMS"]["triage"], "csrf_token": me.token(task_page)})
    assert_clean_unavailable(posted)
    assert "可能没有保存" in posted.text   # the user is told to check before submitting again
    assert_clean_unavailable(me.get(f"/api/v1/cases/{code}", headers=token), api=True)
    assert_clean_unavailable(me.get("/api/v1/cases", headers=token), api=True)


def _check_journal(journal: list, down_from: float, down_until: float, up_from: float) -> None:
    """Every answer the load got: success, a conflict after an unclear outcome, or a clean 503; only 503s
    while the database was down, only successes once it was back."""
    for e in journal:
        assert e.response is not None, f"{e.method} {e.path}: the server dropped the connection"
        if e.response.status == 503:
            assert_clean_unavailable(e.response, api=e.path.startswith("/api/"))
        else:
            assert e.response.status in (200, 302, 409), (e.path, e.response.status, e.response.text[:300])
    during = [e for e in journal if down_from < e.sent and e.answered < down_until]
    assert during and all(e.response.status == 503 for e in during)
    after = [e for e in journal if e.sent > up_from]
    assert after and all(e.response.status in (200, 302) for e in after), \
        [(e.path, e.response.status) for e in after if e.response.status >= 400]
    print(f"\nload: {len(journal)} requests, {len(during)} while the database was down (all 503), "
          f"{len(after)} after it was back (all answered)")


def test_database_restart_under_load_gives_clean_errors_then_recovers(private_portal, tmp_path):
    portal, pg = private_portal
    server = Gunicorn({**portal_env(portal.config, url=pg.url), "PORTAL_API_RATE_LIMIT": "100000 per minute"},
                      tmp_path / "gunicorn.log")
    load = Load(server.port, portal)
    code = portal.config["TEST_CASES"][-1][1]
    token = {"Authorization": f"Bearer {portal.config['TEST_TOKEN']}"}
    try:
        server.start()
        me = Browser(server.port, timeout=30)   # a hang fails the test: the client gives up after 30 s
        me.login("dispatch", PASSWORD)
        item_id, _step = _open_item(portal, portal.config["TEST_CASES"][-1][0])
        task_page = me.get(f"/cases/task/{item_id}")
        load.start()
        wait_for(lambda: len(load.outcomes) >= 2 or load.errors, "steps completed before the outage")
        pg.stop("immediate")
        down_from = time.monotonic()
        _answers_while_down(server.port, portal, me, task_page)
        wait_for(lambda: sum(e.sent > down_from and e.response is not None and e.response.status == 503
                             for e in list(load.journal)) >= 6 or load.errors, "the load to meet the outage")
        down_until = time.monotonic()
        pg.start()
        up_from, done_before = time.monotonic(), len(load.outcomes)
        wait_for(lambda: len(load.outcomes) >= done_before + 2 or load.errors, "steps completed after the outage")
        load.stop.set()
        load.join(60)
        # restarted again while nobody asks: the pooled connections are dead, and pre-ping replaces them
        pg.stop("immediate")
        pg.start()
        for _ in range(3):
            assert me.get("/worklist/").status == 200
            assert me.get(f"/api/v1/cases/{code}", headers=token).status == 200
    finally:
        load.stop.set()
        server.stop()
    assert not load.errors, load.errors
    _check_journal(load.journal, down_from, down_until, up_from)
    outcomes = [o for o, _user in load.outcomes.values()]
    print(f"steps of the load: {outcomes.count('done')} done, {outcomes.count('found_done')} found done after a "
          f"503; {load.tally.summary()}")
    with portal.app_context():
        assert_consistent()
        assert_each_step_once([c for c, _ in portal.config["TEST_CASES"]])
        db.session.remove()
