"""One service call = one transaction."""
from __future__ import annotations

import functools
from typing import Callable, TypeVar

from portal.extensions import db

T = TypeVar("T")
_UNDO = "portal_undo_on_rollback"


def on_rollback(undo: Callable[[], None]) -> None:
    """Have ``undo`` run if the current service's transaction does not commit: what the service did
    outside the database (a file it wrote) must not outlive the rows that would have named it."""
    db.session.info.setdefault(_UNDO, []).append(undo)


def transaction(fn: Callable[..., T]) -> Callable[..., T]:
    """Commit once when ``fn`` returns; roll back if it raises anything (undoing what ``on_rollback``
    was given, while the transaction's locks are still held)."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        db.session.info.pop(_UNDO, None)
        try:
            result = fn(*args, **kwargs)
            db.session.commit()
        except BaseException:
            for undo in reversed(db.session.info.pop(_UNDO, [])):
                undo()
            db.session.rollback()
            raise
        db.session.info.pop(_UNDO, None)
        return result

    return wrapper
