"""kill -9 of the timer worker while it fires timers: the 1-hour take-over deadline of many dispatched cases
(the chain's boundary timer) and the 7-day public notice of relief branches, made due by running the cases
in the past on the portal clock. Workers are killed at random moments while they fire, restarted, until
nothing is due; then every timer has fired exactly once."""
from __future__ import annotations

import json
import random
import time
from datetime import timedelta

from sqlalchemy import func, select, text

from portal.clock import frozen_at, utcnow
from portal.extensions import db
from portal.models import AuditEvent, Branch, Case, WorkItem, WorkItemStatus
from portal.services.branches import start_branch
from portal.services.deadlines import local_today
from portal.services.engine import get_engine, spec_for
from tests.branches.test_relief import application, investigate
from tests.conftest import do_branch_step, user
from tests.faults.checks import assert_consistent, assert_each_step_once
from tests.faults.harness import Reader, kill_all, portal_env, timer_worker, wait_for
from tests.services.test_timers import _dispatched_case

CASES, ROUNDS, WORKERS = 80, 5, 2
RELIEF = [(0, "fire"), (0, "traffic"), (0, "accident"), (1, "fire"), (1, "traffic"), (1, "accident")]
FIRED = text("SELECT count(*) FROM audit_event WHERE action IN ('case.timer', 'branch.timer')")
DUE = text("SELECT (SELECT count(*) FROM mediation_case WHERE next_timer_due_at <= :now)"
           " + (SELECT count(*) FROM case_branch WHERE next_timer_due_at <= :now)")


def _noticed_branches(make_case) -> tuple[int, list[int]]:
    """Relief branches of one case whose 7-day notice went up ten days ago (its timer is due)."""
    with frozen_at(utcnow() - timedelta(days=10)):
        case_id = make_case("handle")
        parties = db.session.get(Case, case_id).parties
        branch_ids = []
        for party, hardship in RELIEF:
            branch = start_branch(user("xiang"), case_id, "relief",
                                  application(case_id, party_id=parties[party].id, hardship=hardship))
            investigate(branch.id)
            do_branch_step(branch.id, "relief_notice", "xiang", {"posted_on": local_today(), "place": "村务公开栏"})
            branch_ids.append(branch.id)
    return case_id, branch_ids


def _ready_steps(state: str, version_id: int) -> list[str]:
    engine = get_engine()
    wf = engine.restore(state, spec_for(version_id))
    assert engine.next_timer_due(wf) is None or engine.next_timer_due(wf).replace(tzinfo=None) > utcnow()
    return sorted(t.bpmn_id for t in engine.ready_user_tasks(wf))


def _fire_with_kills(env: dict, log, reader: Reader) -> tuple[list[tuple[int, int]], int]:
    """ROUNDS times: start WORKERS workers, and once they have fired a few more timers, kill them at a
    random moment; then one worker at a time until nothing is due. The workers killed and the timers
    fired in each round, and how many workers ran in all."""
    workers, kills, runs = [], [], 0
    try:
        for _ in range(ROUNDS):
            if not reader.scalar(DUE, now=utcnow()):
                break
            before = reader.scalar(FIRED)
            workers = [timer_worker(env, log) for _ in range(WORKERS)]
            runs += WORKERS
            target = before + random.randint(2, 10)
            wait_for(lambda target=target, workers=workers: reader.scalar(FIRED) >= target
                     or any(w.poll() is not None for w in workers), "the workers to fire timers", every=0.01)
            time.sleep(random.uniform(0, 0.03))
            running = [w for w in workers if w.poll() is None]
            kill_all(running)
            kills.append((len(running), reader.scalar(FIRED) - before))
        while reader.scalar(DUE, now=utcnow()):
            workers = [timer_worker(env, log)]
            runs += 1
            assert workers[0].wait(300) == 0, log.read_text()[-3000:]
    finally:
        kill_all(workers)
    return kills, runs


def _assert_fired_once(case_ids: list[int], relief_case: int, branch_ids: list[int]) -> None:
    """One timer audit row per workflow, and its workflow past the timer once: the take-over step still
    open beside one supervision task; the notice over and the township's opinion due."""
    timer_events = dict(db.session.execute(select(AuditEvent.case_id, func.count()).where(
        AuditEvent.action == "case.timer").group_by(AuditEvent.case_id)).all())
    assert {c: timer_events.get(c, 0) for c in case_ids} == {c: 1 for c in case_ids}
    for case in db.session.scalars(select(Case).where(Case.id.in_(case_ids))):
        assert case.next_timer_due_at is None
        assert _ready_steps(case.wf_state, case.process_version_id) == ["accept", "supervise_accept"]
        cards = db.session.scalars(select(WorkItem.status).where(WorkItem.case_id == case.id,
                                                                 WorkItem.form_key == "supervise_accept")).all()
        assert cards == [WorkItemStatus.OPEN]
    branch_events = db.session.execute(select(AuditEvent.detail).where(
        AuditEvent.action == "branch.timer", AuditEvent.case_id == relief_case)).scalars().all()
    assert sorted(json.loads(d)["branch"] for d in branch_events) == sorted(branch_ids)
    for branch in db.session.scalars(select(Branch).where(Branch.id.in_(branch_ids))):
        assert branch.next_timer_due_at is None or branch.next_timer_due_at > utcnow()  # the opinion's own
        assert _ready_steps(branch.wf_state, branch.process_version_id) == ["relief_opinion"]


def test_killing_the_timer_worker_fires_every_timer_once(app, make_case, tmp_path):
    t0 = utcnow() - timedelta(hours=3)
    case_ids = [_dispatched_case(t0 + timedelta(seconds=i)) for i in range(CASES)]
    relief_case, branch_ids = _noticed_branches(make_case)
    now = utcnow()
    assert db.session.scalar(select(func.count()).select_from(Case).where(Case.next_timer_due_at <= now)) == CASES
    assert db.session.scalar(select(func.count()).select_from(Branch).where(
        Branch.id.in_(branch_ids), Branch.next_timer_due_at <= now)) == len(RELIEF)
    db.session.remove()
    reader = Reader(app.config["SQLALCHEMY_DATABASE_URI"])
    started = time.monotonic()
    try:
        kills, runs = _fire_with_kills(portal_env(app.config), tmp_path / "worker.log", reader)
    finally:
        reader.close()
    print(f"\nworker kill rounds: {len(kills)}; workers killed and timers fired in each round: {kills}; "
          f"worker runs in all: {runs}; {time.monotonic() - started:.0f} s")
    assert sum(n for n, _ in kills) >= ROUNDS, "too few workers were killed while firing"
    assert_consistent()
    _assert_fired_once(case_ids, relief_case, branch_ids)
    assert_each_step_once([*case_ids, relief_case])
