"""One service call = one transaction."""
from __future__ import annotations

import functools
from typing import Callable, TypeVar

from portal.extensions import db

T = TypeVar("T")


def transaction(fn: Callable[..., T]) -> Callable[..., T]:
    """Commit once when ``fn`` returns; roll back if it raises anything."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            result = fn(*args, **kwargs)
            db.session.commit()
        except BaseException:
            db.session.rollback()
            raise
        return result

    return wrapper
