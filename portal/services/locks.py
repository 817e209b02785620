"""Serialising writers on one case: the row lock every service that changes a case takes first.

PostgreSQL locks the case row (``SELECT … FOR NO KEY UPDATE``: writers of the case wait for each other,
while rows that only refer to the case, such as the worker's notifications, are still written). SQLite
has no row locks: a write that matches nothing takes the database's write lock for the rest of the
transaction, so the next writer waits instead of racing. The ORM's version check on ``lock_version`` backs both.
"""
from __future__ import annotations

from sqlalchemy import text, update
from sqlalchemy.orm import undefer

from portal.extensions import db
from portal.models import Case
from portal.services.errors import CaseNotFoundError

# A plain statement on the table: the ORM's bulk-update machinery would only add work to a write
# that matches nothing.
_CASES = Case.__table__
WRITE_LOCK = update(_CASES).where(_CASES.c.id == -1).values(id=_CASES.c.id)


def take_sqlite_write_lock() -> None:
    """On SQLite, take the database's write lock now (on PostgreSQL rows are locked one by one)."""
    if db.session.get_bind().dialect.name == "sqlite":
        db.session.execute(WRITE_LOCK)


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
