"""Branches of a case (assistance and risk control): start one, complete its steps, fire its timers.

A branch runs a workflow of its own (``BranchKind.process_id``), but its steps are the case's work
items, done through ``cases.complete_task`` under the case's lock: one service call writes the
branch, its work items and the audit rows in one transaction. What each step does is in
``portal.services.aid`` (one module per kind), keyed by form key.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, func, select
from sqlalchemy import case as when
from sqlalchemy.orm import joinedload
from sqlalchemy.orm.exc import StaleDataError

from portal.bpmn import TaskNotReadyError
from portal.clock import utcnow
from portal.extensions import db
from portal.models import Branch, BranchKind, BranchOutcome, BranchStatus, Case, WorkItem, WorkItemStatus
from portal.services._tx import transaction
from portal.services.aid import APPLY_KEYS, BRANCH_STEPS, START_LANES, start_data
from portal.services.audit import audit
from portal.services.cases import finish_item, project_tasks
from portal.services.engine import get_engine, spec_for
from portal.services.errors import (
    CaseNotFoundError,
    StaleCaseError,
    StepNotOpenError,
    TaskNotYoursError,
    ValidationFailed,
    choice,
)
from portal.services.formsteps import step_for
from portal.services.locks import lock_case, take_sqlite_write_lock
from portal.services.processes import published_version
from portal.services.queries import check_case_visible, lanes_for, visible_cases_filter

CENT = Decimal("0.01")


def can_start(user, case: Case, kind: BranchKind) -> bool:
    """The user works a lane that takes the kind's applications (the window, the township …)."""
    return bool(START_LANES[kind] & lanes_for(user))


@transaction
def start_branch(user, case_id: int, kind: BranchKind | str, data: dict[str, Any] | None = None) -> Branch:
    """Start a branch of a case; with ``data`` (the application form) its first step is done at once."""
    kind = choice(BranchKind, getattr(kind, "value", kind), "kind")
    check_case_visible(user, case_id)
    case = lock_case(case_id)
    if not can_start(user, case, kind):
        raise TaskNotYoursError()
    now = utcnow()
    branch = _new_branch(user, case, kind, now)
    if data is not None:
        item = next((w for w in branch_items(branch) if w.form_key in APPLY_KEYS), None)
        if item is None:
            raise ValidationFailed(_l("The published process does not begin with an application step."))
        _complete(user, case, branch, item, data, now)
    audit("branch.start", user=user, case=case, kind=kind.value, branch=branch.id)
    return branch


def start_for_needs(user, case: Case, kinds: list[str], now: datetime) -> list[Branch]:
    """The handler ticked what the person needs: start those branches, their application steps
    waiting at the window (same transaction as the handler's step)."""
    started = []
    for value in kinds:
        kind = choice(BranchKind, value, "assistance_needs")
        branch = _new_branch(user, case, kind, now)
        audit("branch.start", user=user, case=case, kind=kind.value, branch=branch.id, by_step=True)
        started.append(branch)
    return started


def _new_branch(user, case: Case, kind: BranchKind, now: datetime) -> Branch:
    version = published_version(kind.process_id)
    branch = Branch(case_id=case.id, kind=kind, status=BranchStatus.OPEN, started_at=now, started_by_id=user.id,
                    process_version_id=version.id, wf_state="{}", updated_at=now)
    branch.case = case
    db.session.add(branch)
    db.session.flush()
    wf = get_engine().start(version.spec_json, now=now, data=start_data(case, kind))
    sync_branch(branch, wf, now, [])
    db.session.flush()
    return branch


def complete_branch_step(user, case: Case, item: WorkItem, data: dict[str, Any], now: datetime,
                         open_items: list[WorkItem]) -> Case:
    """A step of a branch, from ``cases.complete_task`` (the case is locked, the item checked)."""
    branch = db.session.get(Branch, item.branch_id, populate_existing=True)
    _complete(user, case, branch, item, data, now, [w for w in open_items if w.branch_id == branch.id])
    try:
        db.session.flush()
    except StaleDataError:
        raise StaleCaseError() from None
    return case


def _complete(user, case: Case, branch: Branch, item: WorkItem, data: dict[str, Any], now: datetime,
              open_items: list[WorkItem] | None = None) -> None:
    step = step_for(item.form_key, BRANCH_STEPS)
    if step is None:
        raise ValidationFailed(_l("This step has no form in this portal."))
    data = {k: v for k, v in data.items() if k != "csrf_token"}
    with db.session.no_autoflush:
        task_data = step(branch, data, user)
        engine = get_engine()
        wf = engine.restore(branch.wf_state, spec_for(branch.process_version_id))
        try:
            engine.complete(wf, item.task_id, task_data, now=now)
        except TaskNotReadyError:
            raise StepNotOpenError() from None
        finish_item(item, user, now, data)
        sync_branch(branch, wf, now, open_items)
    audit("branch.step", user=user, case=case, work_item=item, kind=branch.kind.value, branch=branch.id,
          step=item.bpmn_id, outcome=branch.outcome.value if branch.outcome else None)


def branch_items(branch: Branch, status: WorkItemStatus = WorkItemStatus.OPEN) -> list[WorkItem]:
    return list(db.session.scalars(select(WorkItem).where(WorkItem.branch_id == branch.id,
                                                          WorkItem.status == status).order_by(WorkItem.id)))


def sync_branch(branch: Branch, wf, now: datetime, open_items: list[WorkItem] | None = None) -> None:
    """Project a branch's workflow onto its row and its work items (same transaction)."""
    engine = get_engine()
    ready = engine.ready_user_tasks(wf)
    if open_items is None:
        with db.session.no_autoflush:
            open_items = branch_items(branch)
    open_items = [w for w in open_items if w.status == WorkItemStatus.OPEN]
    project_tasks(branch.case, ready, open_items, now, branch=branch)
    if engine.is_completed(wf):
        branch.status, branch.closed_at, branch.current_step = BranchStatus.CLOSED, now, None
    else:
        branch.current_step = "、".join(t.name for t in ready) or None
    branch.wf_state = engine.dump(wf)
    due = engine.next_timer_due(wf)
    branch.next_timer_due_at = due.replace(tzinfo=None) if due else None
    branch.updated_at = now


def fire_due_branch_timers(limit: int | None = None) -> int:
    """Fire the timers of due branches (all, or up to ``limit``); how many branches advanced."""
    fired = 0
    while (limit is None or fired < limit) and _fire_next():
        fired += 1
    return fired


_DUE = select(Branch.id, Branch.case_id).where(Branch.next_timer_due_at.is_not(None)) \
    .order_by(Branch.next_timer_due_at).limit(1)


@transaction
def _fire_next() -> bool:
    """One due branch: lock its case first (the order every step takes), then fire and save.
    False when nothing is due."""
    now = utcnow()
    take_sqlite_write_lock()
    row = db.session.execute(_DUE.where(Branch.next_timer_due_at <= now)).first()
    if row is None:
        return False
    case = lock_case(row.case_id)
    branch = db.session.get(Branch, row.id, populate_existing=True)
    if branch.next_timer_due_at is None or branch.next_timer_due_at > now:
        return True  # another worker fired it while this one waited for the case
    engine = get_engine()
    wf = engine.restore(branch.wf_state, spec_for(branch.process_version_id))
    engine.fire_due_timers(wf, now=now)
    sync_branch(branch, wf, now)
    if branch.next_timer_due_at is not None and branch.next_timer_due_at <= now:
        branch.next_timer_due_at = None  # a timer the engine does not fire: park it, never loop on it
    audit("branch.timer", case=case, kind=branch.kind.value, branch=branch.id, step=branch.current_step)
    return True


def branches_of(case_id: int) -> list[Branch]:
    return list(db.session.scalars(select(Branch).where(Branch.case_id == case_id).order_by(Branch.id)))


@dataclass
class BranchFilters:
    kind: str = ""
    status: str = ""
    township_id: int | None = None
    year: int | None = None


def _filtered(query, filters: BranchFilters | None):
    if filters is None:
        return query
    if filters.kind:
        query = query.where(Branch.kind == BranchKind(filters.kind))
    if filters.status:
        query = query.where(Branch.status == BranchStatus(filters.status))
    if filters.township_id:
        query = query.where(Case.township_id == filters.township_id)
    if filters.year:
        query = query.where(Branch.started_at >= datetime(filters.year, 1, 1),
                            Branch.started_at < datetime(filters.year + 1, 1, 1))
    return query


def branch_list(user, filters: BranchFilters | None = None, limit: int = 500) -> list[Branch]:
    """The branches of the cases the user may see, newest first."""
    query = select(Branch).join(Branch.case).options(joinedload(Branch.case).joinedload(Case.township),
                                                     joinedload(Branch.party)) \
        .where(visible_cases_filter(user)).order_by(Branch.started_at.desc(), Branch.id.desc())
    return list(db.session.scalars(_filtered(query, filters).limit(limit)).unique())


@dataclass(frozen=True)
class BranchTotal:
    kind: BranchKind
    started: int
    running: int
    granted: int
    refused: int
    resolved: int
    granted_amount: Decimal
    paid_amount: Decimal


def branch_totals(user, filters: BranchFilters | None = None, case_id: int | None = None) -> list[BranchTotal]:
    """Per kind: how many started, running, granted, refused, resolved, and the money granted and paid
    (summed in the database over the branches the user may see, or of one case)."""
    paid = func.coalesce(func.sum(Branch.amount_paid), 0)
    granted_amount = func.coalesce(func.sum(when((Branch.outcome == BranchOutcome.GRANTED, Branch.amount_granted),
                                                 else_=0)), 0)
    query = select(Branch.kind, func.count(Branch.id),
                   func.sum(when((Branch.status == BranchStatus.OPEN, 1), else_=0)),
                   func.sum(when((Branch.outcome == BranchOutcome.GRANTED, 1), else_=0)),
                   func.sum(when((Branch.outcome == BranchOutcome.REFUSED, 1), else_=0)),
                   func.sum(when((Branch.outcome == BranchOutcome.RESOLVED, 1), else_=0)),
                   granted_amount, paid).join(Branch.case).group_by(Branch.kind)
    query = query.where(Branch.case_id == case_id) if case_id is not None else \
        _filtered(query.where(visible_cases_filter(user)), filters)
    rows = {r[0]: r for r in db.session.execute(query)}
    return [BranchTotal(kind, *(int(v or 0) for v in rows[kind][1:6]), Decimal(rows[kind][6]).quantize(CENT),
                        Decimal(rows[kind][7]).quantize(CENT)) if kind in rows else _none_of(kind)
            for kind in BranchKind]


def no_branch_totals() -> list[BranchTotal]:
    """``branch_totals`` where there are no branches (a case that has none)."""
    return [_none_of(kind) for kind in BranchKind]


def _none_of(kind: BranchKind) -> BranchTotal:
    return BranchTotal(kind, 0, 0, 0, 0, 0, Decimal("0.00"), Decimal("0.00"))


def branch_for(user, branch_id: int) -> Branch:
    branch = db.session.get(Branch, branch_id)
    if branch is None:
        raise CaseNotFoundError()
    check_case_visible(user, branch.case_id)
    return branch


def branch_history(branch_id: int) -> list[WorkItem]:
    return list(db.session.scalars(select(WorkItem).where(WorkItem.branch_id == branch_id)
                                   .options(joinedload(WorkItem.completed_by), joinedload(WorkItem.org_unit))
                                   .order_by(WorkItem.id)))


def ledger_service_totals(user, filters: BranchFilters | None = None) -> tuple[int, int, int]:
    """The social work and volunteer services of the cases the user may see (filtered by township and
    by the year the service was given): count, person-times, minutes."""
    from portal.models import ServiceReferral
    from portal.services.referrals import service_totals
    conditions = [visible_cases_filter(user)]
    if filters is not None and filters.township_id:
        conditions.append(Case.township_id == filters.township_id)
    if filters is not None and filters.year:
        conditions += [ServiceReferral.served_at >= datetime(filters.year, 1, 1),
                       ServiceReferral.served_at < datetime(filters.year + 1, 1, 1)]
    return service_totals(where=and_(*conditions))
