"""One service call = one transaction."""
from __future__ import annotations

import functools
import re
from typing import Any, Callable, TypeVar

from portal.extensions import db

T = TypeVar("T")
_UNDO = "portal_undo_on_rollback"
_WROTE = "portal_transaction_wrote"
_WITH = re.compile(r"\s*WITH\b", re.IGNORECASE)
_WRITING_WORD = re.compile(r"\b(?:INSERT|UPDATE|DELETE|MERGE)\b", re.IGNORECASE)
_LOCKING_READ = re.compile(r"\bFOR\s+(?:NO\s+KEY\s+UPDATE|UPDATE|KEY\s+SHARE|SHARE)\b", re.IGNORECASE)


def on_rollback(undo: Callable[[], None]) -> None:
    """Have ``undo`` run if the current service's transaction does not commit: what the service did
    outside the database (a file it wrote) must not outlive the rows that would have named it."""
    db.session.info.setdefault(_UNDO, []).append(undo)


def transaction(fn: Callable[..., T] | None = None, *, keep_loaded: bool = False):
    """Commit once when ``fn`` returns; roll back if it raises anything (undoing what ``on_rollback``
    was given, while the transaction's locks are still held).

    ``keep_loaded``: the commit leaves what the session has loaded as it was read or written, instead of
    having it read again on its next use -- for a service that only adds a row of its own (the audit of a
    page being read) while the page goes on showing what it read, or whose page goes on with what it wrote
    (a case just registered: its code, its parties)."""
    if fn is None:
        return functools.partial(transaction, keep_loaded=keep_loaded)

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        db.session.info.pop(_UNDO, None)
        try:
            result = fn(*args, **kwargs)
            _commit(keep_loaded)
        except BaseException:
            for undo in reversed(db.session.info.pop(_UNDO, [])):
                undo()
            db.session.rollback()
            raise
        db.session.info.pop(_UNDO, None)
        return result

    return wrapper


def _commit(keep_loaded: bool) -> None:
    if not keep_loaded:
        db.session.commit()
        return
    session = db.session()
    previous, session.expire_on_commit = session.expire_on_commit, False
    try:
        db.session.commit()
    finally:
        session.expire_on_commit = previous


def note_writes(engine) -> None:
    """Have each of ``engine``'s connections know whether its transaction has run anything but a plain
    SELECT (a write, a row lock, a savepoint): ``end_reading`` asks it instead of the database."""
    from sqlalchemy import event

    @event.listens_for(engine, "begin")
    def _begin(conn) -> None:
        conn.info.pop(_WROTE, None)

    @event.listens_for(engine, "before_cursor_execute")
    def _note(conn, _cursor, statement: str, _parameters, _context, _executemany) -> None:
        if _WROTE not in conn.info and _writes(statement):
            conn.info[_WROTE] = True


@functools.lru_cache(maxsize=4096)
def _writes(statement: str) -> bool:
    """Whether the statement may write or lock (a page runs the same few statements again and again).
    A statement with common table expressions (``WITH ...``: the figures' day sums) only reads unless it
    names a writing command anywhere (a data-modifying CTE); a word in a name or a literal only makes
    a read count as a write, which is rolled back: the safe side."""
    if _WITH.match(statement):
        return _WRITING_WORD.search(statement) is not None or _LOCKING_READ.search(statement) is not None
    return statement.lstrip()[:6].upper() != "SELECT" or _LOCKING_READ.search(statement) is not None


def read_apart(read: Callable[[Any], T]) -> T:
    """``read(session)`` in a session of its own, on the request's database, whose objects come out
    detached with what was loaded (the security snapshot keeps them across requests). It ends with
    COMMIT, as ``end_reading`` does: the ROLLBACK of closing it would make the driver forget the
    connection's prepared statements."""
    from sqlalchemy.orm import Session
    with Session(db.session.get_bind(), expire_on_commit=False) as session:
        found = read(session)
        session.commit()
        return found


def end_reading(session) -> None:
    """End a request's transaction that only read (its services, if any, have committed): on PostgreSQL
    with COMMIT rather than the ROLLBACK of closing the session, because the driver forgets the
    connection's prepared statements on every ROLLBACK, so pages that only read had every query parsed
    and planned again, each time. A transaction that wrote (a service that failed without undoing,
    changes not flushed; ``note_writes`` saw the statement) is left to the ROLLBACK, and so is any that
    this fails on (a connection the database dropped): closing the session deals with those. The commit
    leaves what was loaded as it is: the session is closed right after, and marking each of a page's
    hundred rows to be read again would be work for nothing."""
    from sqlalchemy.exc import SQLAlchemyError
    if not session.in_transaction() or session.get_bind().dialect.name != "postgresql":
        return
    if session.new or session.dirty or session.deleted:
        return
    try:
        if not session.connection().info.get(_WROTE, False):
            _commit(keep_loaded=True)
    except SQLAlchemyError:
        pass
