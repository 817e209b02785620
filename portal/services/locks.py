"""Serialising writers on one case: the row lock every service that changes a case takes first.

PostgreSQL locks the case row (``SELECT … FOR NO KEY UPDATE``: writers of the case wait for each other,
while rows that only refer to the case, such as the worker's notifications, are still written). SQLite
has no row locks: a write that matches nothing takes the database's write lock for the rest of the
transaction, so the next writer waits instead of racing. The ORM's version check on ``lock_version`` backs both.
"""
from __future__ import annotations

import functools

from sqlalchemy import bindparam, inspect, text, update
from sqlalchemy.orm import ColumnProperty, undefer
from sqlalchemy.orm.base import NO_VALUE

from portal.clock import utcnow
from portal.extensions import db
from portal.models import Case
from portal.services.errors import CaseNotFoundError, StaleCaseError

# A plain statement on the table: the ORM's bulk-update machinery would only add work to a write
# that matches nothing.
_CASES = Case.__table__
WRITE_LOCK = update(_CASES).where(_CASES.c.id == -1).values(id=_CASES.c.id)


def take_sqlite_write_lock() -> None:
    """On SQLite, take the database's write lock now (on PostgreSQL rows are locked one by one)."""
    if db.session.get_bind().dialect.name == "sqlite":
        db.session.connection().execute(WRITE_LOCK)


def lock_case(case_id: int) -> Case:
    """Take the case row's write lock, then load the case fresh, with its workflow state."""
    take_sqlite_write_lock()
    case = db.session.get(Case, case_id, with_for_update={"key_share": True}, populate_existing=True,
                          options=[undefer(Case.wf_state)])
    if case is None:
        raise CaseNotFoundError()
    return case


def lock_name(name: str) -> None:
    """Serialise the writers of one named thing for the rest of the transaction: a transaction-scoped
    advisory lock on PostgreSQL, the write lock on SQLite."""
    bind = db.session.get_bind()
    if bind.dialect.name == "postgresql":
        db.session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:name))"), {"name": f"portal:{name}"})
    else:
        take_sqlite_write_lock()


def lock_number_series(name: str) -> None:
    """Serialise writers drawing the next number of a series (agreement or dossier numbers)."""
    lock_name(name)


@functools.lru_cache(maxsize=256)
def _case_update(columns: tuple[str, ...]):
    """The UPDATE of these columns of a case, under the version check (built once per set of columns: building
    a statement costs several times running it)."""
    return update(_CASES).where(_CASES.c.id == bindparam("case_id"), _CASES.c.lock_version == bindparam("version")) \
        .values({column: bindparam(f"new_{column}") for column in columns})


def write_case(case: Case) -> None:
    """Write what changed on the loaded case by one UPDATE of its row, with the version check the ORM
    makes (``StaleCaseError`` when another writer moved the case since it was read), and leave the
    loaded case as written. A step writes its case each time, and the unit of work's flush cost about
    three times the statement. A change of a collection (the case's parties) is left to the flush."""
    state = inspect(case)
    changed = {}
    for key, old in state.committed_state.items():
        prop = state.mapper.attrs[key]
        if not isinstance(prop, ColumnProperty) or prop.columns[0].table is not _CASES:
            return
        new = state.dict.get(key, NO_VALUE)
        if old is NO_VALUE or old != new:
            changed[prop.columns[0].key] = new
    if not changed:
        return
    changed.setdefault("updated_at", utcnow())  # as every change of a case does (``Case``'s update hook)
    version = case.lock_version
    changed["lock_version"] = version + 1
    statement = _case_update(tuple(sorted(changed)))
    written = db.session.connection().execute(
        statement, {"case_id": case.id, "version": version, **{f"new_{k}": v for k, v in changed.items()}})
    if written.rowcount != 1:
        raise StaleCaseError()
    state.dict.update(changed)
    state._commit_all(state.dict, db.session.identity_map)  # as a flush leaves it: nothing left to write
