"""What must hold after a fault, beyond ``check_invariants``: each completed step is in the case's
history once, with one audit entry, and the case row says what its open steps say."""
from __future__ import annotations

from collections import Counter

from sqlalchemy import func, select

from portal.extensions import db
from portal.models import AuditEvent, Case, WorkItem, WorkItemKind, WorkItemStatus
from portal.services.invariants import check_invariants


def assert_consistent() -> None:
    db.session.remove()
    report = check_invariants()
    assert report.ok, report.problems


STEP_ACTIONS = ("case.register", "case.step", "branch.step", "case.card_answer")


def assert_each_step_once(case_ids: list[int]) -> None:
    """Every done step of these cases (and of their branches): one work item per workflow task (no step
    projected or done twice), exactly one audit row naming it, and the case's current step is its open
    steps."""
    items = db.session.scalars(select(WorkItem).where(WorkItem.case_id.in_(case_ids))).all()
    done = [w for w in items if w.status == WorkItemStatus.DONE]
    tasks = Counter((w.case_id, w.branch_id, w.task_id) for w in done if w.kind == WorkItemKind.TASK)
    assert [t for t, n in tasks.items() if n > 1] == [], "a step is in a history twice"
    audited = dict(db.session.execute(select(AuditEvent.work_item_id, func.count()).where(
        AuditEvent.action.in_(STEP_ACTIONS), AuditEvent.case_id.in_(case_ids))
        .group_by(AuditEvent.work_item_id)).all())
    assert {w.id: audited.get(w.id, 0) for w in done} == {w.id: 1 for w in done}
    assert set(audited) <= {w.id for w in done}, "an audit row names a step that is not done"
    for case in db.session.scalars(select(Case).where(Case.id.in_(case_ids))):
        open_names = {w.name for w in items if w.case_id == case.id and w.status == WorkItemStatus.OPEN
                      and w.kind == WorkItemKind.TASK and w.branch_id is None}
        shown = set(case.current_step.split("、")) if case.current_step else set()
        assert shown == open_names, (case.code, case.current_step, open_names)
