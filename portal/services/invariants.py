"""What must hold between the workflows, the work items and the audit log, checked in one pass
(``flask portal check``): after a load test, a crash or a restore, it says whether any case was left
half-advanced.

1. Every running case and branch has its READY user tasks as OPEN work items, and nothing else open.
2. No work item of a closed case is open (a branch runs on after its case; a paper delivery too).
3. Every stored workflow state loads against its process version.
4. No timer is overdue beyond the worker's grace: each due one has fired.
5. Every completed work item has its audit entry.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import and_, exists, select

from portal.clock import utcnow
from portal.extensions import db
from portal.models import (
    AuditEvent,
    Branch,
    BranchStatus,
    Case,
    CaseStatus,
    WorkItem,
    WorkItemKind,
    WorkItemStatus,
)
from portal.services.engine import get_engine, spec_for

TIMER_GRACE = timedelta(minutes=5)  # the worker wakes every few seconds; more than this is a fault
BATCH = 500


@dataclass
class CheckReport:
    cases: int = 0
    branches: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def _projection(report: CheckReport, label: str, state: str, version_id: int, open_ids: set[str]) -> None:
    engine = get_engine()
    try:
        wf = engine.restore(state, spec_for(version_id))
    except Exception as exc:  # noqa: BLE001 - any failure to load is what this check reports
        report.problems.append(f"{label}: the stored workflow does not load ({type(exc).__name__}: {exc})")
        return
    ready = {t.id for t in engine.ready_user_tasks(wf)}
    if ready - open_ids:
        report.problems.append(f"{label}: ready steps without an open work item: {sorted(ready - open_ids)}")
    if open_ids - ready:
        report.problems.append(f"{label}: open work items whose step is not ready: {sorted(open_ids - ready)}")


def _open_task_ids(case_ids: list[int], branch: bool) -> dict[int, set[str]]:
    key = WorkItem.branch_id if branch else WorkItem.case_id
    query = select(key, WorkItem.task_id).where(key.in_(case_ids), WorkItem.status == WorkItemStatus.OPEN,
                                                WorkItem.kind == WorkItemKind.TASK)
    if not branch:
        query = query.where(WorkItem.branch_id.is_(None))
    found: dict[int, set[str]] = {i: set() for i in case_ids}
    for owner, task_id in db.session.execute(query):
        found[owner].add(task_id)
    return found


def check_invariants(timers: bool = True) -> CheckReport:
    """Check everything; read only. ``timers=False`` leaves out timers not yet fired (right after a
    restore, before the worker has run, those that fell due meanwhile are no fault)."""
    report = CheckReport()
    now = utcnow()
    last = 0
    while True:  # running cases, a batch at a time
        rows = db.session.execute(select(Case.id, Case.code, Case.wf_state, Case.process_version_id)
                                  .where(Case.status != CaseStatus.CLOSED, Case.id > last)
                                  .order_by(Case.id).limit(BATCH)).all()
        if not rows:
            break
        open_ids = _open_task_ids([r.id for r in rows], branch=False)
        for r in rows:
            _projection(report, f"case {r.code or r.id}", r.wf_state, r.process_version_id, open_ids[r.id])
        report.cases += len(rows)
        last = rows[-1].id
    last = 0
    while True:  # running branches
        rows = db.session.execute(select(Branch.id, Branch.number, Branch.wf_state, Branch.process_version_id)
                                  .where(Branch.status == BranchStatus.OPEN, Branch.id > last)
                                  .order_by(Branch.id).limit(BATCH)).all()
        if not rows:
            break
        open_ids = _open_task_ids([r.id for r in rows], branch=True)
        for r in rows:
            _projection(report, f"branch {r.number or r.id}", r.wf_state, r.process_version_id, open_ids[r.id])
        report.branches += len(rows)
        last = rows[-1].id
    for code, item_id, name in db.session.execute(
            select(Case.code, WorkItem.id, WorkItem.name).join(WorkItem, WorkItem.case_id == Case.id)
            .where(Case.status == CaseStatus.CLOSED, WorkItem.status == WorkItemStatus.OPEN,
                   WorkItem.branch_id.is_(None), WorkItem.kind != WorkItemKind.DELIVERY)):
        report.problems.append(f"case {code}: work item {item_id} ({name}) is open on a closed case")
    # a closed workflow's state must load too (its dossier and history read it)
    for model, label in ((Case, "case"), (Branch, "branch")):
        closed = Case.status == CaseStatus.CLOSED if model is Case else Branch.status == BranchStatus.CLOSED
        for row in db.session.execute(select(model.id, model.wf_state, model.process_version_id).where(closed)):
            try:
                get_engine().restore(row.wf_state, spec_for(row.process_version_id))
            except Exception as exc:  # noqa: BLE001
                report.problems.append(f"{label} {row.id}: the stored workflow does not load ({exc})")
    late = now - TIMER_GRACE
    for model, label in ((Case, "case"), (Branch, "branch")) if timers else ():
        for row in db.session.execute(select(model.id, model.next_timer_due_at)
                                      .where(model.next_timer_due_at.is_not(None), model.next_timer_due_at < late)):
            report.problems.append(f"{label} {row.id}: a timer due at {row.next_timer_due_at:%Y-%m-%d %H:%M} UTC "
                                   "has not fired")
    unaudited = select(WorkItem.id, WorkItem.case_id, WorkItem.name).where(
        WorkItem.status == WorkItemStatus.DONE, WorkItem.completed_by_id.is_not(None),
        ~exists().where(and_(AuditEvent.work_item_id == WorkItem.id)))
    for item_id, case_id, name in db.session.execute(unaudited):
        report.problems.append(f"case {case_id}: completed work item {item_id} ({name}) has no audit entry")
    return report
