"""kill -9 of the app server while users complete steps: the master with its workers, or workers alone,
at random moments under load, many rounds. Afterwards no case is half-advanced and every completion a
user saw succeed is in the case's history exactly once."""
from __future__ import annotations

import os
import queue
import random
import signal
import threading
import time

from sqlalchemy import text

from portal.extensions import db
from portal.models import WorkItem, WorkItemStatus
from tests.conftest import PASSWORD, STEP_FORMS
from tests.faults.checks import assert_consistent, assert_each_step_once
from tests.faults.harness import (
    Browser,
    Gunicorn,
    Reader,
    ServerGone,
    Tally,
    complete_over_http,
    portal_env,
)

STEPS = ("triage", "dispatch", "accept")   # the dispatcher twice, then the department (司法局) takes the case
CASES, CLIENTS, ROUNDS, FULL_RESTART_EVERY = 72, 4, 12, 2
# Each round lets the clients take a few more steps: the few its kill waits for and a few more to be in
# flight when it strikes. The clients share the cases, and ROUNDS * (6 + STEPS_IN_FLIGHT) steps at most
# stay below the 3 * CASES there are, however fast the portal and however the clients are scheduled.
STEPS_IN_FLIGHT = 6
assert ROUNDS * (6 + STEPS_IN_FLIGHT) < len(STEPS) * CASES
OPEN_ITEM = text("SELECT id FROM work_item WHERE case_id = :case_id AND form_key = :step AND status = 'open'")


def _take_step(allowance: threading.Semaphore, stop: threading.Event) -> bool:
    """Wait until the kill rounds allow one more step; False when the test is stopping."""
    while not stop.is_set():
        if allowance.acquire(timeout=0.1):
            return True
    return False


def _client(port: int, cases: queue.Queue, allowance: threading.Semaphore, forms: dict, reader: Reader,
            tally: Tally, outcomes: dict, stop: threading.Event, errors: list) -> None:
    """One clerk's desk: the dispatcher and the department's handler logged in, taking the next case
    while there is one."""
    try:
        browsers = {}
        for username in ("dispatch", "sifa"):
            browsers[username] = Browser(port)
            while True:
                try:
                    browsers[username].login(username, PASSWORD)
                    break
                except ServerGone:
                    time.sleep(0.1)
        while True:
            try:
                case_id = cases.get_nowait()
            except queue.Empty:
                break
            for step in STEPS:
                if not _take_step(allowance, stop):
                    return
                username = STEP_FORMS[step][0]
                item_id = reader.scalar(OPEN_ITEM, case_id=case_id, step=step)
                assert item_id, f"case {case_id}: no open {step} step"
                outcome = complete_over_http(browsers[username], case_id, item_id, forms[step], tally, stop.is_set)
                if outcome:
                    outcomes[item_id] = (outcome, username)
        tally.add("clients_out_of_work")
    except Exception as exc:  # noqa: BLE001 - the test's thread reports it
        errors.append(exc)
        tally.add("client_errors")


def _kill(server: Gunicorn, whole_server: bool) -> str:
    """The master and its workers (the server is started again), or some workers (the master forks new ones)."""
    if whole_server:
        server.kill()
        server.start()
        return "server"
    workers = server.worker_pids()
    victims = random.sample(workers, random.randint(1, len(workers)))
    for pid in victims:
        os.kill(pid, signal.SIGKILL)
    return f"{len(victims)} worker(s)"


def _rounds(server: Gunicorn, allowance: threading.Semaphore, tally: Tally, errors: list) -> list[tuple[str, int]]:
    """Kill the server ROUNDS times, each after a few more POSTs have gone out; what was killed and how many
    POSTs were in flight. Workers alone die at a random moment. The master with its workers dies while a
    POST is being answered: the moment that POST went out, then a random part of a POST's mean time."""
    kills = []
    for round_no in range(ROUNDS):
        wanted = random.randint(2, 6)
        target = tally["posts"] + wanted
        allowance.release(wanted + STEPS_IN_FLIGHT)
        tally.wait(lambda t, target=target: t["posts"] >= target or t["client_errors"] or t["clients_out_of_work"],
                   "the clients' next completions")
        assert not errors and not tally["clients_out_of_work"], errors or "the clients ran out of cases"
        whole_server = round_no % FULL_RESTART_EVERY == FULL_RESTART_EVERY - 1
        time.sleep(random.uniform(0, tally.mean_post_s() / 2) if whole_server else random.uniform(0, 0.3))
        in_flight = tally["in_flight"]
        kills.append((_kill(server, whole_server), in_flight))
    return kills


def test_killing_the_app_server_under_load_loses_or_doubles_no_step(app, make_case, tmp_path):
    case_ids = [make_case("triage") for _ in range(CASES)]
    forms = {step: STEP_FORMS[step][1]() for step in STEPS}
    db.session.remove()
    reader = Reader(app.config["SQLALCHEMY_DATABASE_URI"])
    server = Gunicorn(portal_env(app.config), tmp_path / "gunicorn.log")
    tally, outcomes, stop, errors = Tally(), {}, threading.Event(), []
    cases, allowance = queue.Queue(), threading.Semaphore(0)
    for case_id in case_ids:
        cases.put(case_id)
    threads = [threading.Thread(target=_client, args=(server.port, cases, allowance, forms, reader, tally, outcomes,
                                                      stop, errors), daemon=True) for _ in range(CLIENTS)]
    started = time.monotonic()
    try:
        server.start()
        for t in threads:
            t.start()
        kills = _rounds(server, allowance, tally, errors)
        stop.set()
        for t in threads:
            t.join(120)
    finally:
        stop.set()
        server.stop()
        reader.close()
    print(f"\nkill rounds: {len(kills)} ({sum(k == 'server' for k, _ in kills)} of master and workers, the rest of "
          f"workers); POSTs in flight at each kill: {[n for _, n in kills]}; the clients saw: {tally.summary()}; "
          f"steps done={sum(o == 'done' for o, _ in outcomes.values())}, found done after a cut-off POST="
          f"{sum(o == 'found_done' for o, _ in outcomes.values())}; {time.monotonic() - started:.0f} s")
    assert not errors, errors
    assert len(kills) == ROUNDS and tally["post_cut_off"] > 0
    assert tally["get_503"] == tally["post_503"] == 0   # the database never went away
    assert_consistent()
    for item_id, (_outcome, username) in outcomes.items():
        item = db.session.get(WorkItem, item_id)
        assert item.status == WorkItemStatus.DONE and item.completed_by.username == username
    assert_each_step_once(case_ids)
