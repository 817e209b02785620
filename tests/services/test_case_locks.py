"""A step being completed and the worker announcing that step lock the case and the step in opposite order;
neither may deadlock the other (PostgreSQL's row locks: SQLite takes one write lock for the database)."""
from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import create_engine, text

from portal.extensions import db
from portal.services.cases import complete_task
from tests.conftest import STEP_FORMS, open_item, user


def test_a_step_completed_while_the_worker_announces_it_does_not_deadlock(app, make_case):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("row locks are PostgreSQL's; on SQLite writers take the database's one write lock")
    case_id = make_case(until="triage")
    item_id = open_item(case_id, "triage").id
    recipient = user("dispatch").id
    db.session.commit()
    worker = create_engine(db.engine.url).connect()
    outcome: dict = {}

    def complete() -> None:
        with app.app_context():
            try:
                outcome["case"] = complete_task(user("dispatch"), item_id, STEP_FORMS["triage"][1]()).id
            except Exception as exc:  # noqa: BLE001 - the deadlock, if any, is what this test reports
                outcome["error"] = exc
    try:
        worker.execute(text("SET lock_timeout = '10s'"))
        # the worker claims the new step to announce it (comments._deliver_item) ...
        worker.execute(text("SELECT id FROM work_item WHERE id = :id FOR UPDATE SKIP LOCKED"), {"id": item_id})
        step = threading.Thread(target=complete)
        step.start()  # ... the dispatcher completes it: the case's lock, then the step's row (held: it waits)
        time.sleep(1.5)
        # ... and the worker adds the notification, whose case the database checks (a key-share lock)
        worker.execute(text("INSERT INTO notification (user_id, case_id, kind, text, url, created_at, read, source) "
                            "VALUES (:u, :c, 'new_task', 'x', '/', now(), false, 'test')"),
                       {"u": recipient, "c": case_id})
        worker.commit()
        step.join(30)
    finally:
        worker.rollback()
        worker.close()
    assert "error" not in outcome, outcome.get("error")
    assert outcome["case"] == case_id and open_item(case_id, "dispatch") is not None
