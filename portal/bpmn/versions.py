"""Moving a running workflow to a newer version of its diagram.

A workflow keeps the spec it started with until it is migrated. SpiffWorkflow's
``diff_workflow`` aligns the two versions by BPMN element id and lists the
tasks whose element changed or went; the safety rule (the library's own) is
that no such task may be COMPLETED or STARTED: work already done under the old
element would not match the new one. The portal adds that no task may be
waiting or ready on a removed element: it would have no place in the new
diagram. ``migrate_workflow`` then swaps the specs and re-predicts the READY
and WAITING tasks, keeping their ids.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from SpiffWorkflow.bpmn.util.diff import SpecDiff, WorkflowDiff, filter_tasks, migrate_workflow
from SpiffWorkflow.util.task import TaskState

from portal.bpmn.errors import EngineError

_DONE = TaskState.COMPLETED | TaskState.STARTED
_LIVE = TaskState.READY | TaskState.WAITING


@dataclass(frozen=True)
class BlockedTask:
    """A task of the workflow that stops it moving: its element changed (or is gone) and the task
    is already done or under way."""

    bpmn_id: str
    name: str
    state: str    # COMPLETED or STARTED (or READY, WAITING for a removed element)
    how: str      # "changed" or "removed"

    def __str__(self) -> str:
        return f"{self.name} ({self.bpmn_id}) {self.how}, {self.state}"


@dataclass
class MigrationCheck:
    """What moving one workflow to a new version would do, and whether it is safe."""

    can_migrate: bool
    reasons: list[str] = field(default_factory=list)
    blocked: list[BlockedTask] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)   # called processes the target version lacks
    added: list[str] = field(default_factory=list)     # element ids new in the target version
    changed: list[str] = field(default_factory=list)   # element ids whose definition differs
    removed: list[str] = field(default_factory=list)   # element ids the target version no longer has


class MigrationRefusedError(EngineError):
    """The workflow cannot move to the new version safely; ``check`` says why."""

    def __init__(self, check: MigrationCheck):
        self.check = check
        super().__init__("cannot migrate: " + "; ".join(check.reasons))


def _element(spec) -> str:
    return spec.bpmn_id or spec.name


def check_migration(registry, wf, new_spec, new_subs) -> tuple[MigrationCheck, object, dict]:
    """Diff a workflow against a new spec (and its called processes): the check, and the library's
    diffs for ``apply_migration``. Built as the library's ``diff_workflow`` builds it, keeping the
    spec-level diff it drops (what was added, changed, removed)."""
    spec_diff = SpecDiff(registry, wf.spec, new_spec)
    wf_diff = WorkflowDiff(wf, spec_diff)
    sp_diffs, missing = {}, []
    for sp_id, sp in wf.subprocesses.items():
        if sp.spec.name in new_subs:
            sp_diffs[sp_id] = WorkflowDiff(sp, SpecDiff(registry, sp.spec, new_subs[sp.spec.name]))
        else:
            missing.append(sp.spec.name)
    blocked = []
    for diff in [wf_diff, *sp_diffs.values()]:
        # A live task of a removed element would have no place in the new diagram either.
        unsafe = [(t, "changed") for t in filter_tasks(diff.changed, state=_DONE)] + \
                 [(t, "removed") for t in filter_tasks(diff.removed, state=_DONE | _LIVE)]
        for task, how in unsafe:
            spec = task.task_spec
            blocked.append(BlockedTask(_element(spec), spec.bpmn_name or _element(spec),
                                       TaskState.get_name(task.state), how))
    blocked = list(dict.fromkeys(blocked))  # a looped step has several done runs: name it once
    reasons = [f"called process {name} is not in the new version" for name in missing] + [str(b) for b in blocked]
    check = MigrationCheck(can_migrate=not reasons, reasons=reasons, blocked=blocked, missing=missing,
                           added=sorted({_element(s) for s in spec_diff.added}),
                           changed=sorted({_element(s) for s in spec_diff.changed}),
                           removed=sorted({_element(s) for s in spec_diff.removed}))
    return check, wf_diff, sp_diffs


def apply_migration(wf, wf_diff, sp_diffs, new_spec, new_subs) -> None:
    """Swap the workflow (and its called processes) onto the new spec in place.

    The library re-predicts READY and WAITING tasks from scratch: a waiting timer would be re-armed
    from now, restarting a legal period (a boundary deadline, a performance date's wait). So a
    waiting task whose element did not change keeps its timer, and every live task keeps the data
    it had (a multi-instance step's own item among it)."""
    changed = {t.id for d in [wf_diff, *sp_diffs.values()] for t in d.changed + d.removed}
    live = {t.id: (dict(t.data), dict(t.internal_data), t.state)
            for t in wf.get_tasks(state=_LIVE)}
    migrate_workflow(wf_diff, wf, new_spec)
    for sp_id, sp in wf.subprocesses.items():
        migrate_workflow(sp_diffs[sp_id], sp, new_subs.get(sp.spec.name))
    wf.subprocess_specs = new_subs
    for task in wf.get_tasks(state=_LIVE):
        if task.id not in live:
            continue
        data, internal, state = live[task.id]
        task.data = data
        if state == TaskState.WAITING and task.state == TaskState.WAITING and task.id not in changed:
            task.internal_data = internal
