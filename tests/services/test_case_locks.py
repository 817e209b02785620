"""Writers of a case: a step being completed and the worker announcing that step lock the case and the step in
opposite order, and neither may deadlock the other (PostgreSQL's row locks: SQLite takes one write lock for the
database); a step writes its case by one UPDATE under the version check."""
from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import create_engine, text

from portal.extensions import db
from portal.models import Case, CaseStatus, Party, PartyKind
from portal.services.cases import complete_task
from portal.services.errors import StaleCaseError
from portal.services.locks import lock_case, write_case
from tests.conftest import STEP_FORMS, open_item, statements, user


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


def test_a_step_writes_its_case_by_one_update_under_the_version_check(make_case):
    case_id = make_case(until="triage")
    before = db.session.get(Case, case_id)
    version, updated = before.lock_version, before.updated_at
    db.session.commit()
    with statements() as seen:
        complete_task(user("dispatch"), open_item(case_id, "triage").id, STEP_FORMS["triage"][1]())
    writes = [s for s in seen if s.lstrip().startswith("UPDATE mediation_case") and "lock_version =" in s]
    assert len(writes) == 1 and "wf_state" in writes[0]
    case = db.session.get(Case, case_id, populate_existing=True)
    assert case.lock_version == version + 1 and case.updated_at > updated
    assert case.status == CaseStatus.DISPATCHING and case.current_step == "分流交办"


def test_a_step_reads_its_cases_open_items_with_the_status_written_into_the_statement(make_case):
    """SQLite plans again, at every execution, a statement whose bound status it has compared with the partial
    indexes on open items; "open" written into the statement is planned once."""
    case_id = make_case(until="triage")
    db.session.commit()
    seen = []
    for step in ("triage", "dispatch"):
        item_id = open_item(case_id, step).id
        with statements() as step_statements:
            complete_task(user("dispatch"), item_id, STEP_FORMS[step][1]())
        seen += step_statements
    by_case = [" ".join(s.split()) for s in seen if "work_item.case_id = " in s and "work_item.status" in s]
    assert by_case and all("work_item.status = 'open'" in s for s in by_case), by_case


def test_a_case_another_writer_moved_meanwhile_is_not_written(make_case):
    case_id = make_case(until="triage")
    db.session.commit()
    kept = db.session.execute(text("SELECT current_step, lock_version FROM mediation_case WHERE id = :id"),
                              {"id": case_id}).one()
    db.session.rollback()
    case = lock_case(case_id)
    case.current_step = "改写"
    # another writer's commit, as the database would show it: the version the case was read at is gone
    db.session.connection().execute(text("UPDATE mediation_case SET lock_version = lock_version + 1 WHERE id = :id"),
                                    {"id": case_id})
    with pytest.raises(StaleCaseError):
        write_case(case)
    db.session.rollback()
    assert db.session.execute(text("SELECT current_step, lock_version FROM mediation_case WHERE id = :id"),
                              {"id": case_id}).one() == kept


def test_a_case_written_by_its_update_is_left_clean_and_a_change_of_its_parties_to_the_flush(make_case):
    case_id = make_case(until="triage")
    db.session.commit()
    case = lock_case(case_id)
    case.current_step = "改写"
    with statements() as seen:
        write_case(case)
        db.session.flush()  # nothing left to write
    assert len([s for s in seen if s.lstrip().startswith("UPDATE")]) == 1 and not db.session.dirty
    case.parties.append(Party(kind=PartyKind.AGENT, seq=9, name="王五"))
    with statements() as seen:
        write_case(case)   # a collection: the flush writes it, with the case's version
        assert seen == []
        db.session.flush()
    assert any(s.lstrip().startswith("INSERT INTO party") for s in seen)
    db.session.commit()
    assert [p.name for p in db.session.get(Case, case_id, populate_existing=True).parties][-1] == "王五"
