"""Moving a running workflow to a newer version of its diagram, through the facade."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from portal.bpmn import MAIN_PROCESS_ID, Engine, MigrationRefusedError, shipped_decisions, shipped_diagrams
from tests.bpmn.test_engine import INTAKE
from tests.chain_versions import FILE_NAME, chain_with_review, chain_with_step

START = datetime(2025, 3, 3, 1, 0, tzinfo=timezone.utc)


@pytest.fixture(scope="module")
def engine():
    return Engine()


def _parse(engine, xml: bytes) -> str:
    return engine.parse({FILE_NAME: xml, **shipped_decisions()}, MAIN_PROCESS_ID).spec_json


@pytest.fixture(scope="module")
def v1(engine):
    return _parse(engine, shipped_diagrams()[FILE_NAME])


@pytest.fixture(scope="module")
def v2(engine):
    return _parse(engine, chain_with_review())


def _walk(engine, spec_json, steps, now=START):
    """A workflow driven through ``steps`` (bpmn id, data), with a dump and restore after each."""
    wf = engine.start(spec_json, now=now)
    for bpmn_id, data in steps:
        wf = engine.restore(engine.dump(wf), spec_json)
        [task] = [t for t in engine.ready_user_tasks(wf) if t.bpmn_id == bpmn_id]
        engine.complete(wf, task.id, data, now=now)
    return engine.dump(wf)


TO_TRIAGE = [("intake", INTAKE)]
TO_ACCEPT = [*TO_TRIAGE, ("triage", {"resolution_mode": "in_center"}),
             ("dispatch", {"escalate": False, "assigned_unit_id": 42, "cooperating_unit_ids": []})]


def test_a_workflow_waiting_before_the_inserted_step_moves_and_then_reaches_it(engine, v1, v2):
    state = _walk(engine, v1, TO_TRIAGE)
    [triage] = engine.ready_user_tasks(engine.restore(state, v1))
    check = engine.diff(state, v1, v2)
    assert check.can_migrate and check.reasons == [] and check.blocked == []
    assert check.added == ["triage_review"]
    assert check.changed == ["dispatch", "triage"] and check.removed == []

    moved = engine.migrate(state, v1, v2, now=START)
    wf = engine.restore(moved, v2)
    assert engine.dump(wf) == moved
    [ready] = engine.ready_user_tasks(wf)
    assert (ready.id, ready.bpmn_id) == (triage.id, "triage")   # the same task, now of the new version
    assert ready.data == triage.data
    engine.complete(wf, ready.id, {"resolution_mode": "in_center"})
    wf = engine.restore(engine.dump(wf), v2)
    [review] = engine.ready_user_tasks(wf)
    assert (review.bpmn_id, review.lane, review.form_key) == ("triage_review", "综合调度", "supervise_accept")
    engine.complete(wf, review.id, {})
    assert [t.bpmn_id for t in engine.ready_user_tasks(wf)] == ["dispatch"]


def test_a_workflow_past_a_changed_step_cannot_move(engine, v1, v2):
    state = _walk(engine, v1, TO_ACCEPT)
    check = engine.diff(state, v1, v2)
    assert not check.can_migrate
    assert [(b.bpmn_id, b.name, b.state, b.how) for b in check.blocked] == [
        ("triage", "研判", "COMPLETED", "changed"), ("dispatch", "分流交办", "COMPLETED", "changed")]
    assert any("triage" in r for r in check.reasons)
    with pytest.raises(MigrationRefusedError) as refused:
        engine.migrate(state, v1, v2)
    assert refused.value.check.blocked == check.blocked


def test_a_workflow_on_a_removed_step_cannot_move_back(engine, v1, v2):
    state = _walk(engine, v2, [*TO_TRIAGE, ("triage", {"resolution_mode": "in_center"})])
    check = engine.diff(state, v2, v1)
    assert check.removed == ["triage_review"] and not check.can_migrate
    assert ("triage_review", "READY", "removed") in {(b.bpmn_id, b.state, b.how) for b in check.blocked}


def test_a_waiting_deadline_keeps_its_due_time_when_a_later_step_is_inserted(engine, v1):
    v3 = _parse(engine, chain_with_step("feedback", "feedback_review", "反馈复核", "supervise_accept", "核查督办"))
    state = _walk(engine, v1, TO_ACCEPT)
    wf = engine.restore(state, v1)
    [accept] = engine.ready_user_tasks(wf)
    due = engine.next_timer_due(wf)
    assert due == START + timedelta(hours=1) == accept.due_at   # the one-hour deadline to accept

    later = START + timedelta(minutes=30)
    moved = engine.migrate(state, v1, v3, now=later)
    wf = engine.restore(moved, v3)
    [ready] = engine.ready_user_tasks(wf)
    assert (ready.id, ready.due_at) == (accept.id, due)
    assert engine.next_timer_due(wf) == due   # not restarted at the time of the migration
    engine.fire_due_timers(wf, now=due + timedelta(seconds=1))
    assert {t.bpmn_id for t in engine.ready_user_tasks(wf)} == {"accept", "supervise_accept"}


def _answer(bpmn_id: str, counts: dict) -> dict:
    """What each step of the chain answers on a walk that is sent back once at acceptance and once at
    verification, with two units consulted."""
    counts[bpmn_id] = counts.get(bpmn_id, 0) + 1
    return {"intake": INTAKE, "triage": {"resolution_mode": "in_center"},
            "dispatch": {"escalate": False, "assigned_unit_id": 42, "cooperating_unit_ids": [7, 8]},
            "accept": {"accepted": counts[bpmn_id] == 2}, "verify": {"verify_passed": counts[bpmn_id] == 2},
            "feedback": {"followup_delay": ""}, "consult": {"consult_reply": {"opinion": "同意"}}}.get(bpmn_id, {})


def _drive(engine, wf, spec_json, counts, steps=None):
    done = []
    while engine.ready_user_tasks(wf) and (steps is None or len(done) < steps):
        task = engine.ready_user_tasks(wf)[0]
        engine.complete(wf, task.id, _answer(task.bpmn_id, counts))
        done.append(task.bpmn_id)
        wf = engine.restore(engine.dump(wf), spec_json)
    return wf, done


def test_every_point_before_the_change_moves_and_finishes_through_the_new_step(engine, v1):
    """Walk the chain step by step and try to move it at each point to a version with a step after
    the feedback: before the feedback (in the current round: a failed verification sends the case
    back, folding the round away) it moves, keeps its open steps and finishes through the new step;
    with the feedback done it is refused."""
    v3 = _parse(engine, chain_with_step("feedback", "feedback_review", "反馈复核", "supervise_accept", "核查督办"))
    refused_after = {9: "feedback", 10: "followup", 13: "feedback"}   # steps done -> the last one
    for steps in range(14):
        counts: dict = {}
        wf, done = _drive(engine, engine.start(v1), v1, counts, steps)
        state = engine.dump(wf)
        check = engine.diff(state, v1, v3)
        if steps in refused_after:
            assert done[-1] == refused_after[steps] and not check.can_migrate
            assert {b.bpmn_id for b in check.blocked} == {"feedback", "followup_gateway"}
            continue
        assert check.can_migrate, (done, check.reasons)
        wf2 = engine.restore(engine.migrate(state, v1, v3), v3)
        assert {t.id for t in engine.ready_user_tasks(wf2)} == {t.id for t in engine.ready_user_tasks(wf)}
        wf2, rest = _drive(engine, wf2, v3, counts)
        assert engine.is_completed(wf2) and "feedback_review" in rest, (done, rest)
