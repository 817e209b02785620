"""The engine facade on the shipped chain: every step round-trips through dump/restore."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from portal.bpmn import (
    MAIN_PROCESS_ID,
    DiagramInvalidError,
    Engine,
    TaskNotReadyError,
    shipped_decisions,
    shipped_diagrams,
)

DATA = Path(__file__).parent / "data"
PATH = [("intake", "受理窗口"), ("triage", "综合调度"), ("dispatch", "综合调度"), ("accept", "承办单位"),
        ("triage", "综合调度"), ("dispatch", "综合调度"), ("accept", "承办单位"), ("handle", "承办单位"),
        ("feedback", "承办单位"), ("followup", "核查督办"), ("verify", "核查督办"), ("handle", "承办单位"),
        ("feedback", "承办单位"), ("followup", "核查督办"), ("verify", "核查督办"), ("close", "综合调度")]


@pytest.fixture(scope="module")
def engine():
    return Engine()


INTAKE = {"dispute_type": "0301", "people_count": 2, "amount": 5000.0, "township": "T01", "route": "mediation",
          "source_channel": "walk_in"}


@pytest.fixture(scope="module")
def parsed(engine):
    return engine.parse({**shipped_diagrams(), **shipped_decisions()}, MAIN_PROCESS_ID)


def test_chain_walks_with_a_restore_after_every_step(engine, parsed):
    wf = engine.start(parsed.spec_json)
    seen, verifies, accepts = [], 0, 0
    for expected in PATH:
        state = engine.dump(wf)
        assert "task_specs" not in state, "the spec must not be stored with the case"
        wf = engine.restore(state, parsed.spec_json)
        assert engine.dump(wf) == state
        [task] = engine.ready_user_tasks(wf)
        seen.append((task.bpmn_id, task.lane))
        assert task.form_key == task.bpmn_id
        data = dict(INTAKE) if task.bpmn_id == "intake" else {}
        if task.bpmn_id == "verify":
            verifies += 1
            data = {"verify_passed": verifies == 2}
        if task.bpmn_id == "triage":
            data = {"resolution_mode": "in_center"}
        if task.bpmn_id == "dispatch":
            data = {"escalate": False, "assigned_unit_id": 42, "cooperating_unit_ids": []}
        if task.bpmn_id == "feedback":
            data = {"followup_delay": ""}
        if task.bpmn_id == "accept":
            accepts += 1
            data = {"accepted": accepts == 2}  # the first unit objects: back to triage
        engine.complete(wf, task.id, data)
        assert (expected[0], expected[1]) == seen[-1]
    wf = engine.restore(engine.dump(wf), parsed.spec_json)
    assert engine.is_completed(wf)
    assert engine.data(wf)["assigned_unit_id"] == 42


def test_ready_tasks_by_lane(engine, parsed):
    wf = engine.start(parsed.spec_json)
    assert [t.bpmn_id for t in engine.ready_user_tasks(wf, lane="受理窗口")] == ["intake"]
    assert engine.ready_user_tasks(wf, lane="核查督办") == []


def test_completing_a_task_that_is_not_ready_is_refused(engine, parsed):
    wf = engine.start(parsed.spec_json)
    future = next(t for t in wf.get_tasks() if t.task_spec.bpmn_id == "route_gateway")
    assert future.state != 16  # predicted, not READY (SpiffWorkflow's READY is 16), and not a user task
    before = engine.dump(wf)
    with pytest.raises(TaskNotReadyError):
        engine.complete(wf, str(future.id), {})
    with pytest.raises(TaskNotReadyError):
        engine.complete(wf, "not-a-uuid", {})
    assert engine.dump(wf) == before


def test_user_tasks_declare_form_status_and_lane(parsed):
    for task in parsed.user_tasks:
        assert task.lane and task.form_key, task
        assert task.properties.get("caseStatus") or task.bpmn_id in ("supervise_accept", "consult"), task
    assert {t.bpmn_id for t in parsed.user_tasks} == {"intake", "refer", "refer_followup", "triage", "dispatch",
                                                      "escalate", "consult", "accept", "supervise_accept",
                                                      "handle", "pre_suit", "court_filing", "feedback", "followup",
                                                      "verify", "close"}


@pytest.mark.parametrize("condition", [
    "__import__('os').system('id') == 0",
    "().__class__.__base__.__subclasses__()",
    "open('/etc/passwd').read() != ''",
])
def test_unsafe_expressions_are_refused_at_upload_with_their_line(engine, condition):
    xml = (DATA / "unsafe_condition.bpmn").read_text().replace("CONDITION", condition.replace("'", "&apos;"))
    with pytest.raises(DiagramInvalidError) as err:
        engine.parse({"unsafe.bpmn": xml.encode()}, "unsafe")
    [(file_name, line, element, message)] = err.value.problems
    assert (file_name, line, element) == ("unsafe.bpmn", 10, "f2"), err.value.problems
    assert "refused" in message


def test_unsafe_expression_cannot_run_even_if_it_reaches_the_engine(engine, tmp_path):
    from portal.bpmn.errors import UnsafeExpressionError
    from portal.bpmn.sandbox import RestrictedEnvironment
    env = RestrictedEnvironment()
    with pytest.raises(UnsafeExpressionError):
        env.evaluate("__import__('os').getcwd()", {})
    with pytest.raises(NameError):
        env.evaluate("open('x')", {})
    assert env.evaluate("amount > 1000 and kind in ('a', 'b')", {"amount": 5000, "kind": "a"}) is True


def test_a_safe_condition_routes(engine):
    xml = (DATA / "unsafe_condition.bpmn").read_text().replace("CONDITION", "amount &gt; 1000")
    parsed = engine.parse({"ok.bpmn": xml.encode()}, "unsafe")
    from SpiffWorkflow.bpmn import BpmnWorkflow  # noqa: F401  (tests may look inside)
    spec, subs = engine._spec_cache(parsed.spec_json)
    wf = BpmnWorkflow(spec, subs, script_engine=engine._script_engine)
    wf.get_tasks()[0].data["amount"] = 5000
    wf.do_engine_steps()
    assert wf.is_completed()
    from SpiffWorkflow.util.task import TaskState
    done = {t.task_spec.bpmn_id for t in wf.get_tasks(state=TaskState.COMPLETED)}
    assert "end_a" in done and "end_b" not in done


def test_structural_errors_name_file_and_line(engine):
    xml = (DATA / "unsafe_condition.bpmn").read_text().replace("CONDITION", "True").replace(
        'targetRef="end_a"', 'targetRef="nowhere"')
    with pytest.raises(DiagramInvalidError) as err:
        engine.parse({"broken.bpmn": xml.encode()}, "unsafe")
    file_name, line, element, _ = err.value.problems[0]
    assert file_name == "broken.bpmn" and isinstance(line, int) and line > 1


def test_state_is_json_without_spec(engine, parsed):
    wf = engine.start(parsed.spec_json)
    state = json.loads(engine.dump(wf))
    assert "spec" not in state and "subprocess_specs" not in state
    assert state["serializer_version"]


def test_three_hundred_returns_neither_stall_nor_grow(engine, parsed):
    """The library stalls a loop silently after ~250 rounds and grows with each; folded loops do neither."""
    wf = engine.start(parsed.spec_json)
    for data in (INTAKE, {"resolution_mode": "in_center"},
                 {"escalate": False, "assigned_unit_id": 7, "cooperating_unit_ids": []}, {"accepted": True}):
        [task] = engine.ready_user_tasks(wf)
        engine.complete(wf, task.id, data)
    sizes = []
    for _ in range(300):
        for data in ({}, {"followup_delay": ""}, {}, {"verify_passed": False}):
            [task] = engine.ready_user_tasks(wf)
            engine.complete(wf, task.id, data)
        state = engine.dump(wf)
        sizes.append(len(state))
        wf = engine.restore(state, parsed.spec_json)
    [task] = engine.ready_user_tasks(wf)
    assert task.bpmn_id == "handle" and task.data["assigned_unit_id"] == 7
    assert max(sizes) - min(sizes) < 200, (min(sizes), max(sizes))
    for data in ({}, {"followup_delay": ""}, {}, {"verify_passed": True}, {}):
        [task] = engine.ready_user_tasks(wf)
        engine.complete(wf, task.id, data)
    assert engine.is_completed(wf)


def test_a_loop_with_live_work_beside_it_is_not_folded(engine):
    """Folding must never drop a branch that is still running."""
    xml = (DATA / "loop_with_side_branch.bpmn").read_bytes()
    parsed = engine.parse({"side.bpmn": xml}, "side")
    wf = engine.start(parsed.spec_json)
    [work] = engine.ready_user_tasks(wf)
    engine.complete(wf, work.id, {"again": True})   # loops back to work and starts side_task
    names = sorted(t.bpmn_id for t in engine.ready_user_tasks(wf))
    assert names == ["side_task", "work"]           # folding would have dropped side_task


def test_a_loop_over_a_step_with_a_deadline_is_folded_and_keeps_its_deadline(engine):
    """The step's own boundary timer waits beside it in every round: that is no reason not to fold,
    and the reset re-arms it from the new round's start."""
    from datetime import datetime, timedelta, timezone
    xml = (DATA / "loop_with_deadline.bpmn").read_bytes()
    parsed = engine.parse({"deadline.bpmn": xml}, "deadline_loop")
    start = datetime(2025, 3, 3, 8, 0, tzinfo=timezone.utc)
    wf = engine.start(parsed.spec_json, now=start)
    sizes = []
    for n in range(1, 101):
        now = start + timedelta(days=n)
        [work] = engine.ready_user_tasks(wf)
        engine.complete(wf, work.id, {"again": True}, now=now)
        [work] = engine.ready_user_tasks(wf)
        assert work.bpmn_id == "work" and work.due_at == now + timedelta(days=3)
        state = engine.dump(wf)
        sizes.append(len(state))
        wf = engine.restore(state, parsed.spec_json)
    assert max(sizes) - min(sizes) < 200, (min(sizes), max(sizes))
    # the deadline still fires: the reminder comes beside the open step
    late = start + timedelta(days=104)
    engine.fire_due_timers(wf, now=late)
    assert sorted(t.bpmn_id for t in engine.ready_user_tasks(wf)) == ["remind", "work"]
    # the next round must not drop the reminder hanging off this round's deadline
    [work] = [t for t in engine.ready_user_tasks(wf) if t.bpmn_id == "work"]
    engine.complete(wf, work.id, {"again": True}, now=late)
    assert sorted(t.bpmn_id for t in engine.ready_user_tasks(wf)) == ["remind", "work"]
    [remind] = [t for t in engine.ready_user_tasks(wf) if t.bpmn_id == "remind"]
    engine.complete(wf, remind.id, {}, now=late)
    after = []
    for n in range(1, 21):  # folded again once the reminder is done: the rounds stop adding to the tree
        [work] = engine.ready_user_tasks(wf)
        engine.complete(wf, work.id, {"again": True}, now=late + timedelta(days=n))
        [work] = engine.ready_user_tasks(wf)
        assert work.due_at == late + timedelta(days=n + 3)
        after.append(len(engine.dump(wf)))
    assert max(after) - min(after) < 200, (min(after), max(after))
