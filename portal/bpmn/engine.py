"""The engine facade: the only door to SpiffWorkflow.

Everything the portal does with a workflow goes through :class:`Engine`:
parse and validate diagrams, start, restore, dump, list ready user tasks,
complete one (checking it is READY, which the library does not), and fire due
timers. No Flask, no database session in here: callers pass text in and get
text or plain values out.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timezone
from functools import lru_cache
from types import SimpleNamespace
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.specs.control import BoundaryEventSplit
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.dmn.engine.DMNEngine import DMNEngine
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.spiff.parser import SpiffBpmnParser
from SpiffWorkflow.spiff.parser.process import VALIDATOR
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG
from SpiffWorkflow.util.task import TaskState

from portal.bpmn import clock
from portal.bpmn.errors import N_, DiagramInvalidError, Problem, TaskNotReadyError, UnsafeExpressionError
from portal.bpmn.lint import read_files
from portal.bpmn.sandbox import Deadline, plain_deadline, restricted_script_engine
from portal.bpmn.statestore import PortalWorkflowConverter
from portal.bpmn.versions import MigrationCheck, MigrationRefusedError, apply_migration, check_migration


@dataclass(frozen=True)
class UserTaskSpec:
    """A user task as a diagram declares it."""

    bpmn_id: str
    name: str
    lane: str | None
    properties: dict[str, str]
    instructions: str = ""

    @property
    def form_key(self) -> str | None:
        return self.properties.get("formKey")


@dataclass(frozen=True)
class ParsedProcess:
    """A validated diagram: its spec serialized once, and its user tasks."""

    process_id: str
    name: str
    spec_json: str
    user_tasks: list[UserTaskSpec] = field(default_factory=list)


@dataclass(frozen=True)
class ReadyTask:
    """A READY user task of a running workflow, with the data it routes on."""

    id: str
    bpmn_id: str
    name: str
    lane: str | None
    properties: dict[str, str]
    data: dict[str, Any]
    due_at: datetime | None = None  # the earliest timer on the task's boundary (its deadline), in UTC

    @property
    def form_key(self) -> str | None:
        return self.properties.get("formKey")


def _serializer() -> BpmnWorkflowSerializer:
    config = dict(SPIFF_CONFIG)
    config[BpmnWorkflow] = PortalWorkflowConverter
    return BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(config))


class Engine:
    """Parse, start, restore, dump, step and time workflows.

    One instance serves many requests: it holds the serializer, the restricted
    script engine and a cache of restored specs keyed by their JSON text.
    """

    def __init__(self, deadline: Deadline | None = None) -> None:
        """``deadline(start, days, working)``: the end of a period of ``days`` (working days when
        ``working``) from ``start`` (aware UTC in and out); diagrams call it through ``workdays_after``
        and ``days_after``. By default every weekday is a working day and the day ends at 24:00 UTC."""
        clock.install()
        self._ser = _serializer()
        self._script_engine = restricted_script_engine(deadline or plain_deadline)
        self._spec_cache = lru_cache(maxsize=64)(self._restore_spec)

    # -- diagrams ---------------------------------------------------------
    def parse(self, files: dict[str, bytes], process_id: str, allow_scripts: bool = False) -> ParsedProcess:
        """Validate and parse diagram files (.bpmn, and .dmn decision tables they call);
        raise DiagramInvalidError listing every problem with its file and line. Script tasks and
        pre/post-scripts are refused unless ``allow_scripts`` (they run restricted even then)."""
        parsed, problems = self.check(files, process_id, allow_scripts)
        if parsed is None:
            raise DiagramInvalidError(problems)
        return parsed

    def check(self, files: dict[str, bytes], process_id: str,
              allow_scripts: bool = False) -> tuple[ParsedProcess | None, list[Problem]]:
        """Like ``parse``, but answers the problems instead of raising: (parsed or None, problems).
        Every file is read by the safe XML parser and linted; the engine's own parser is given the
        parsed trees only when the lint finds nothing (it stops at its first error)."""
        roots, problems = read_files(files, allow_scripts)
        if problems:
            return None, problems
        parser = SpiffBpmnParser(validator=VALIDATOR)
        try:
            for name, root in roots.items():
                if name.endswith(".dmn"):
                    parser.add_dmn_xml(root, filename=name)
                else:
                    parser.add_bpmn_xml(root, filename=name)
            spec = parser.get_spec(process_id)
            subs = parser.get_subprocess_specs(process_id)
        except ValidationException as exc:
            return None, [_locate(exc, roots)]
        spec_json = json.dumps({
            "spec": self._ser.registry.convert(spec),
            "subprocess_specs": {k: self._ser.registry.convert(v) for k, v in subs.items()},
        })
        tasks = [
            UserTaskSpec(ts.bpmn_id, ts.bpmn_name or ts.bpmn_id, ts.lane,
                         dict(ts.extensions.get("properties", {})),
                         ts.extensions.get("instructionsForEndUser", "") or "")
            for s in [spec, *subs.values()] for ts in s.task_specs.values()
            if getattr(ts, "manual", False)
        ]
        return ParsedProcess(process_id, spec.description or process_id, spec_json, tasks), []

    def decision_gaps(self, file_name: str, xml: bytes, probes: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The probes (input data) that no rule of the table matches. Probes that give the table the
        same input values are decided once."""
        gaps, seen = [], {}
        for probe in probes:
            dmn, task = self._decision_task(file_name, xml, probe)
            try:
                key = tuple(repr(self._script_engine.evaluate(task, i.expression)) for i in dmn.decision_table.inputs)
                if key not in seen:
                    seen[key] = bool(dmn.decide(task))
            except SpiffWorkflowException as exc:
                raise DiagramInvalidError([(file_name, None, "", N_(
                    "the table fails on the input %(probe)s: %(error)s", probe=probe,
                    error=str(exc).split("\n")[0]))]) from exc
            if not seen[key]:
                gaps.append(probe)
        return gaps

    def _decision_task(self, file_name: str, xml: bytes, data: dict[str, Any]):
        table = self._decision_table(file_name, xml)
        workflow = SimpleNamespace(script_engine=self._script_engine, spec=SimpleNamespace(file=file_name),
                                   top_workflow=None, parent_workflow=None)
        task = SimpleNamespace(data=dict(data), workflow=workflow,
                               task_spec=SimpleNamespace(name=table.id, bpmn_name=table.name))
        return DMNEngine(table), task

    @lru_cache(maxsize=16)  # noqa: B019 (one engine per process; tables are few)
    def _decision_table(self, file_name: str, xml: bytes):
        roots, problems = read_files({file_name: xml})
        if problems:
            raise DiagramInvalidError(problems)
        parser = SpiffBpmnParser(validator=VALIDATOR)
        try:
            parser.add_dmn_xml(roots[file_name], filename=file_name)
            [decision_id] = parser.dmn_parsers
            return parser.get_engine(decision_id, None).decision_table
        except (ValidationException, ValueError) as exc:
            raise DiagramInvalidError([(file_name, None, "", N_(
                "the engine cannot read the decision table: %(error)s", error=str(exc).split("\n")[0]))]) from exc

    def _restore_spec(self, spec_json: str) -> tuple[Any, dict[str, Any]]:
        dct = json.loads(spec_json)
        spec = self._ser.registry.restore(dct["spec"])
        subs = {k: self._ser.registry.restore(v) for k, v in dct["subprocess_specs"].items()}
        return spec, subs

    # -- instances --------------------------------------------------------
    def start(self, spec_json: str, now: datetime | None = None,
              data: dict[str, Any] | None = None) -> BpmnWorkflow:
        """A new workflow, advanced to its first wait state (``now``: the time it starts at;
        ``data``: what every task of it starts with, e.g. the units its lanes go to)."""
        spec, subs = self._spec_cache(spec_json)
        wf = BpmnWorkflow(spec, subs, script_engine=self._script_engine)
        if data:
            wf.task_tree.set_data(**data)
        with clock.engine_time(now):
            wf.do_engine_steps()
        return wf

    def restore(self, state: str, spec_json: str) -> BpmnWorkflow:
        """Rebuild a workflow from ``dump`` output and its spec version's JSON."""
        dct = json.loads(state)
        self._ser.migrate(dct)
        dct["spec"], dct["subprocess_specs"] = self._spec_cache(spec_json)
        wf = self._ser.from_dict(dct)
        wf.script_engine = self._script_engine
        return wf

    def dump(self, wf: BpmnWorkflow) -> str:
        """The workflow's state as JSON text, without its spec."""
        return self._ser.serialize_json(wf)

    # -- versions ---------------------------------------------------------
    def diff(self, state: str, old_spec_json: str, new_spec_json: str) -> MigrationCheck:
        """Whether a workflow (``dump`` output on ``old_spec_json``) can move to ``new_spec_json``: it
        cannot when a task of a changed or removed element is already COMPLETED or STARTED."""
        wf = self.restore(state, old_spec_json)
        new_spec, new_subs = self._spec_cache(new_spec_json)
        return check_migration(self._ser.registry, wf, new_spec, new_subs)[0]

    def migrate(self, state: str, old_spec_json: str, new_spec_json: str, now: datetime | None = None) -> str:
        """The workflow's state moved onto ``new_spec_json`` (to store with the new version): READY
        tasks keep their ids and lead on by the new diagram; waiting timers keep their due times
        (one whose element changed starts again at ``now``). Raises MigrationRefusedError when
        ``diff`` says it cannot move."""
        wf = self.restore(state, old_spec_json)
        new_spec, new_subs = self._spec_cache(new_spec_json)
        check, wf_diff, sp_diffs = check_migration(self._ser.registry, wf, new_spec, new_subs)
        if not check.can_migrate:
            raise MigrationRefusedError(check)
        with clock.engine_time(now):
            apply_migration(wf, wf_diff, sp_diffs, new_spec, new_subs)
        return self.dump(wf)

    # -- tasks ------------------------------------------------------------
    def ready_user_tasks(self, wf: BpmnWorkflow, lane: str | None = None) -> list[ReadyTask]:
        """READY user tasks, optionally only those of one lane."""
        kwargs = {"lane": lane} if lane is not None else {}
        return [_ready(t) for t in wf.get_tasks(state=TaskState.READY, manual=True, **kwargs)]

    def complete(self, wf: BpmnWorkflow, task_id: str, data: dict[str, Any],
                 now: datetime | None = None) -> ReadyTask:
        """Complete one READY user task with ``data`` and run the engine to the next wait.

        Raises TaskNotReadyError when the id is unknown, not a user task or not
        READY: the library's own ``run()`` would happily complete a FUTURE task.
        """
        try:
            task = wf.get_task_from_id(UUID(task_id))
        except (ValueError, KeyError, TypeError):
            task = None
        if task is None or not task.task_spec.manual or task.state != TaskState.READY:
            raise TaskNotReadyError(task_id, TaskState.get_name(task.state) if task else None)
        done = _ready(task)
        with clock.engine_time(now):
            task.set_data(**data)
            task.run()
            wf.do_engine_steps()
            _fold_loops(wf)
        return done

    # -- time -------------------------------------------------------------
    def fire_due_timers(self, wf: BpmnWorkflow, now: datetime | None = None) -> None:
        """Fire every timer due at ``now`` and run on; the library needs both calls."""
        with clock.engine_time(now):
            wf.refresh_timers()
            wf.do_engine_steps()
            _fold_loops(wf)

    def next_timer_due(self, wf: BpmnWorkflow) -> datetime | None:
        """The earliest due time of a waiting timer, in UTC, or None."""
        due = []
        for task in wf.event_manager.tasks.values():
            ed = task.task_spec.event_definition
            defs = getattr(ed, "event_definitions", [ed])
            if any(isinstance(d, TimerEventDefinition) for d in defs):
                value = task.internal_data.get("event_value")
                if isinstance(value, dict):
                    value = value.get("next") if value.get("cycles") else None
                if isinstance(value, str):
                    due.append(TimerEventDefinition.get_datetime(value).astimezone(timezone.utc))
        return min(due) if due else None

    def trace(self, wf: BpmnWorkflow) -> dict[str, Any]:
        """Where a workflow stands, by BPMN element id: the elements done, the user tasks open now,
        and the timers waiting with when they fire (ISO text, UTC)."""
        done, current, timers = set(), set(), {}
        for task in wf.get_tasks():
            bpmn_id = getattr(task.task_spec, "bpmn_id", None)
            if not bpmn_id:
                continue
            if task.state == TaskState.COMPLETED:
                done.add(bpmn_id)
            elif task.state == TaskState.READY and task.task_spec.manual:
                current.add(bpmn_id)
            elif task.state == TaskState.WAITING:
                value = task.internal_data.get("event_value")
                if isinstance(value, dict):
                    value = value.get("next")
                if isinstance(getattr(task.task_spec, "event_definition", None), TimerEventDefinition) \
                        and isinstance(value, str):
                    timers[bpmn_id] = TimerEventDefinition.get_datetime(value).astimezone(timezone.utc).isoformat()
        return {"done": sorted(done - current), "current": sorted(current), "timers": timers}

    @staticmethod
    def is_completed(wf: BpmnWorkflow) -> bool:
        return wf.is_completed()

    @staticmethod
    def data(wf: BpmnWorkflow) -> dict[str, Any]:
        """Routing data of the workflow: the last completed task's data."""
        return dict(wf.last_task.data) if wf.last_task is not None else dict(wf.data)


_LIVE = TaskState.READY | TaskState.WAITING | TaskState.STARTED


def _fold_loops(wf: BpmnWorkflow) -> None:
    """Keep a workflow's history from growing when a flow loops back.

    The library appends every loop round to its task tree: steps slow down
    with each round and the instance silently stops after about 250 rounds.
    When a READY user task has an earlier, completed run of the same step
    among its ancestors (a verification sent the case back, say), the
    workflow is reset to that earlier run, carrying the current data (a
    deadline on the step, a boundary timer, is reset with it). The
    tree is then as small as in the first round; the portal keeps the
    history of every round in its own tables. A loop that still has live
    work beside it (a branch started inside the loop, or work hanging off the
    earlier run's missed deadline) is left as it is.
    """
    for task in wf.get_tasks(state=TaskState.READY, manual=True):
        earlier = task.parent
        while earlier is not None and not (earlier.task_spec is task.task_spec
                                           and earlier.state == TaskState.COMPLETED):
            earlier = earlier.parent
        if earlier is None:
            continue
        path = set()
        node = task
        while node is not earlier:
            path.add(node.id)
            node = node.parent
        if isinstance(task.parent.task_spec, BoundaryEventSplit):
            # the step's own deadline waits beside it: it belongs to this round (the reset re-arms it)
            path.update(t.id for sibling in task.parent.children for t in sibling)
        beside = [earlier]
        if isinstance(earlier.parent.task_spec, BoundaryEventSplit):
            beside = earlier.parent.children  # the reset takes the earlier run's boundary branches too
        if any(t.id not in path and t.has_state(_LIVE) for b in beside for t in b if t is not earlier):
            continue
        for dropped in wf.reset_from_task_id(earlier.id, data=dict(task.data)):
            wf.event_manager.remove_task(dropped)  # the library leaves a dropped timer waiting there


def _ready(task) -> ReadyTask:
    spec = task.task_spec
    return ReadyTask(str(task.id), spec.bpmn_id, spec.bpmn_name or spec.bpmn_id, spec.lane,
                     dict(spec.extensions.get("properties", {})), task.data, _boundary_due(task))


def _boundary_due(task) -> datetime | None:
    """When the first timer on the task's boundary fires: a diagram states a step's deadline
    (and what happens when it is missed) as a boundary timer."""
    parent = task.parent
    if parent is None or not isinstance(parent.task_spec, BoundaryEventSplit):
        return None
    due = []
    for sibling in parent.children:
        if sibling is task or sibling.state != TaskState.WAITING:
            continue
        if isinstance(getattr(sibling.task_spec, "event_definition", None), TimerEventDefinition):
            value = sibling.internal_data.get("event_value")
            if isinstance(value, str):
                due.append(TimerEventDefinition.get_datetime(value).astimezone(timezone.utc))
    return min(due) if due else None


def _locate(exc: ValidationException, roots: dict[str, Any]) -> Problem:
    """Find the file and line of a ValidationException; the library leaves the line empty."""
    element = getattr(exc, "id", "") or getattr(exc, "tag", "") or ""
    file_name = getattr(exc, "file_name", "") or ""
    line = None
    for name, root in roots.items():
        if element and (not file_name or name == file_name):
            hits = root.xpath("//*[@id=$i]", i=element)
            if hits:
                file_name, line = name, hits[0].sourceline
                break
    return (file_name, line or getattr(exc, "line_number", None) or None, element,
            N_("the engine cannot read the diagram: %(error)s", error=str(exc).split("\n")[0]))


__all__ = ["Engine", "ParsedProcess", "ReadyTask", "UserTaskSpec", "DiagramInvalidError", "MigrationCheck",
           "MigrationRefusedError", "TaskNotReadyError", "UnsafeExpressionError"]
