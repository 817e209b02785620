"""Moving running cases (and branches) to a newer version of their process, and back.

A running case stays on the process version it started on. An administrator
publishes a new version, asks which running cases could move to it (a dry run:
a case cannot when a step the new version changes or removes is already done
or under way), then moves the chosen ones. Each case moves in a transaction of
its own, under its lock: a case that cannot move is reported and the others
still move. Every move is kept (the workflow before and after), so it can be
undone while the case has not moved on.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from portal.bpmn import MAIN_PROCESS_ID, MigrationCheck, MigrationRefusedError
from portal.clock import utcnow
from portal.extensions import db
from portal.models import (
    Branch,
    BranchStatus,
    Case,
    CaseMigration,
    CaseStatus,
    ProcessStatus,
    ProcessVersion,
)
from portal.services._tx import transaction
from portal.services.audit import audit
from portal.services.branches import sync_branch
from portal.services.cases import sync_case
from portal.services.engine import get_engine, spec_for
from portal.services.errors import DomainError, ValidationFailed
from portal.services.locks import lock_case


class CannotMigrateError(DomainError):
    status_code = 409
    message = _l("This case cannot move to the new version: %(reasons)s")


class MigrationNotFoundError(DomainError):
    status_code = 404
    message = _l("No such migration was found.")


class CannotRevertError(DomainError):
    status_code = 409


BLOCKED = {  # (how, state) -> why a step keeps the case on its version
    ("changed", "COMPLETED"): _l("“%(name)s” (%(element)s) is already done, and the new version changes it."),
    ("changed", "STARTED"): _l("“%(name)s” (%(element)s) is under way, and the new version changes it."),
    ("removed", "COMPLETED"): _l("“%(name)s” (%(element)s) is already done, and the new version removes it."),
}
BLOCKED_OPEN = _l("“%(name)s” (%(element)s) is open or waiting, and the new version removes it.")
MISSING_PROCESS = _l("The new version does not call the process %(name)s any more.")


@dataclass
class CaseCheck:
    """One running case (or branch) on an older version: whether it can move, and why not."""

    case_id: int
    branch_id: int | None
    code: str
    title: str
    current_step: str | None
    from_version: int
    can_migrate: bool
    reasons: list[str] = field(default_factory=list)


@dataclass
class CaseResult:
    """What happened to one case (or branch) asked to move."""

    case_id: int
    branch_id: int | None
    code: str
    migrated: bool
    message: str = ""
    migration_id: int | None = None


def why_not(check: MigrationCheck) -> list[str]:
    """The reasons of a check, in the user's language."""
    reasons = [str(MISSING_PROCESS % {"name": name}) for name in check.missing]
    for b in check.blocked:
        message = BLOCKED.get((b.how, b.state), BLOCKED_OPEN)
        reasons.append(str(message % {"name": b.name, "element": b.bpmn_id}))
    return reasons


def _target(to_version_id: int, process_id: str | None = None) -> ProcessVersion:
    target = db.session.get(ProcessVersion, to_version_id)
    if target is None or target.status != ProcessStatus.PUBLISHED or \
            (process_id is not None and target.process_id != process_id):
        raise ValidationFailed(_l("Choose a published version of the process."), field="to_version_id")
    return target


def _running_cases(target: ProcessVersion) -> list[Case]:
    return list(db.session.scalars(
        select(Case).join(ProcessVersion, Case.process_version_id == ProcessVersion.id)
        .where(ProcessVersion.process_id == target.process_id, ProcessVersion.version < target.version,
               Case.status != CaseStatus.CLOSED)
        .options(joinedload(Case.process_version)).order_by(Case.id)))


def _running_branches(target: ProcessVersion) -> list[Branch]:
    return list(db.session.scalars(
        select(Branch).join(ProcessVersion, Branch.process_version_id == ProcessVersion.id)
        .where(ProcessVersion.process_id == target.process_id, ProcessVersion.version < target.version,
               Branch.status == BranchStatus.OPEN)
        .options(joinedload(Branch.case), joinedload(Branch.process_version)).order_by(Branch.id)))


def _label(case: Case, branch: Branch | None) -> tuple[str, str]:
    """Code and title of a row: the case's, or the case's with the branch's kind and number."""
    if branch is None:
        return case.code or str(case.id), case.title
    return f"{case.code} · {branch.number or branch.kind.label}", f"{case.title}（{branch.kind.label}）"


def dry_run(process_id: str, to_version_id: int) -> list[CaseCheck]:
    """Every running case (for a branch process: every running branch) on an older version of the
    process, with whether it can move to ``to_version_id`` and, if not, why. Changes nothing."""
    target = _target(to_version_id, process_id)
    engine, new_spec = get_engine(), spec_for(target.id)
    rows = [(b.case, b) for b in _running_branches(target)] if process_id != MAIN_PROCESS_ID \
        else [(c, None) for c in _running_cases(target)]
    checks = []
    for case, branch in rows:
        subject = branch or case
        check = engine.diff(subject.wf_state, spec_for(subject.process_version_id), new_spec)
        code, title = _label(case, branch)
        checks.append(CaseCheck(case.id, branch.id if branch else None, code, title, subject.current_step,
                                subject.process_version.version, check.can_migrate, why_not(check)))
    return checks


def migrate(user, to_version_id: int, case_ids: list[int] = (), branch_ids: list[int] = ()) -> list[CaseResult]:
    """Move the chosen cases (of the main process) or branches (of a branch process) to the version,
    each in a transaction of its own: one that cannot move is reported, and the others still move."""
    _target(to_version_id)
    results = [_attempt(_migrate_case, user, to_version_id, case_id=case_id) for case_id in case_ids]
    results += [_attempt(_migrate_branch, user, to_version_id, branch_id=branch_id) for branch_id in branch_ids]
    return results


def _attempt(move: Callable[..., CaseMigration], user, to_version_id: int, case_id: int | None = None,
             branch_id: int | None = None) -> CaseResult:
    try:
        record = move(user, to_version_id, case_id or branch_id)
    except DomainError as exc:  # that case's transaction is rolled back; the next one goes on
        branch = db.session.get(Branch, branch_id) if branch_id else None
        case = branch.case if branch else db.session.get(Case, case_id)
        code = _label(case, branch)[0] if case else str(case_id or branch_id)
        return CaseResult(case.id if case else 0, branch_id, code, False, str(exc))
    code = _label(record.case, record.branch)[0]
    return CaseResult(record.case_id, record.branch_id, code, True, migration_id=record.id)


@transaction
def _migrate_case(user, to_version_id: int, case_id: int) -> CaseMigration:
    """Move one case's workflow to the version and project it anew (its work items, status, timers)."""
    case = lock_case(case_id)
    target = _target(to_version_id)
    if case.status == CaseStatus.CLOSED:
        raise CannotMigrateError(_l("The case is closed: it stays on the version it ran on."))
    return _move(user, case, None, target, sync_case)


@transaction
def _migrate_branch(user, to_version_id: int, branch_id: int) -> CaseMigration:
    """Move one branch's workflow to the version (under its case's lock)."""
    branch = db.session.get(Branch, branch_id)
    if branch is None:
        raise MigrationNotFoundError(_l("No such branch was found."))
    case = lock_case(branch.case_id)
    db.session.refresh(branch)
    target = _target(to_version_id)
    if branch.status != BranchStatus.OPEN:
        raise CannotMigrateError(_l("The branch is finished: it stays on the version it ran on."))
    return _move(user, case, branch, target, sync_branch)


def _move(user, case: Case, branch: Branch | None, target: ProcessVersion, sync) -> CaseMigration:
    """Move the branch, or else the case (locked), to ``target``, project it anew and keep the move."""
    subject = branch or case
    source = subject.process_version
    if source.process_id != target.process_id:
        raise CannotMigrateError(_l("It runs another process."))
    if source.version >= target.version:
        raise CannotMigrateError(_l("It is already on version %(v)s."), v=source.version)
    engine, now, old_state = get_engine(), utcnow(), subject.wf_state
    try:
        new_state = engine.migrate(old_state, spec_for(source.id), spec_for(target.id), now=now)
    except MigrationRefusedError as exc:
        raise CannotMigrateError(reasons=" ".join(why_not(exc.check))) from None
    subject.process_version, subject.process_version_id = target, target.id
    sync(subject, engine.restore(new_state, spec_for(target.id)), now)
    record = CaseMigration(case_id=case.id, branch_id=branch.id if branch else None, from_version_id=source.id,
                           to_version_id=target.id, old_state=old_state, new_state=subject.wf_state,
                           migrated_by_id=getattr(user, "id", None), migrated_at=now)
    db.session.add(record)
    db.session.flush()
    audit("case.migrate", user=user, case=case, migration=record.id, branch=record.branch_id,
          process_id=target.process_id, from_version=source.version, to_version=target.version)
    return record


@transaction
def revert(user, migration_id: int) -> CaseMigration:
    """Put a migrated case (or branch) back on its old version and state. Refused when it has moved
    on since (a step completed, a timer fired, another move): what was done on the new version
    would be lost."""
    record = db.session.get(CaseMigration, migration_id)
    if record is None:
        raise MigrationNotFoundError()
    case = lock_case(record.case_id)
    db.session.refresh(record)
    subject = case
    if record.branch_id is not None:
        subject = db.session.get(Branch, record.branch_id, populate_existing=True)
    if record.reverted_at is not None:
        raise CannotRevertError(_l("This migration was already undone."))
    if subject.process_version_id != record.to_version_id or subject.wf_state != record.new_state:
        raise CannotRevertError(_l("The case has moved on since it was migrated (a step was completed or a "
                                   "timer fired): it cannot be put back on its old version."))
    engine, now = get_engine(), utcnow()
    subject.process_version, subject.process_version_id = record.from_version, record.from_version_id
    wf = engine.restore(record.old_state, spec_for(record.from_version_id))
    (sync_branch if record.branch_id is not None else sync_case)(subject, wf, now)
    record.reverted_at, record.reverted_by_id = now, getattr(user, "id", None)
    audit("case.migrate_revert", user=user, case=case, migration=record.id, branch=record.branch_id,
          process_id=subject.process_version.process_id, from_version=record.to_version.version,
          to_version=subject.process_version.version)
    return record


def recent_migrations(process_id: str | None = None, limit: int = 50) -> list[CaseMigration]:
    """The latest moves, newest first (of one process, when given)."""
    query = select(CaseMigration).options(
        joinedload(CaseMigration.case), joinedload(CaseMigration.branch), joinedload(CaseMigration.from_version),
        joinedload(CaseMigration.to_version), joinedload(CaseMigration.migrated_by),
        joinedload(CaseMigration.reverted_by))
    if process_id:
        query = query.join(ProcessVersion, CaseMigration.to_version_id == ProcessVersion.id) \
            .where(ProcessVersion.process_id == process_id)
    return list(db.session.scalars(query.order_by(CaseMigration.id.desc()).limit(limit)))


@dataclass
class MigrationOverview:
    """What the migration page shows: the versions to choose from, the dry run for the chosen one,
    and the latest moves."""

    versions: list[ProcessVersion]
    target: ProcessVersion | None
    checks: list[CaseCheck]
    recent: list[CaseMigration]

    @property
    def of_branches(self) -> bool:
        return self.target is not None and self.target.process_id != MAIN_PROCESS_ID


def overview(to_version_id: int | None = None) -> MigrationOverview:
    """The page's data; with ``to_version_id``, the dry run of moving to that version."""
    versions = list(db.session.scalars(
        select(ProcessVersion).where(ProcessVersion.status == ProcessStatus.PUBLISHED)
        .order_by(ProcessVersion.process_id, ProcessVersion.version.desc())))
    target = _target(to_version_id) if to_version_id is not None else None
    checks = dry_run(target.process_id, target.id) if target is not None else []
    return MigrationOverview(versions, target, checks, recent_migrations())
