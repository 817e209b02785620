"""The portal's clock. Every service asks it for the time, so tests and the demo
seeder can run a case through a year in seconds.

Times are stored as naive UTC; pages show them in ``PORTAL_TIMEZONE``.
"""
from __future__ import annotations

from contextlib import contextmanager
from datetime import datetime, timezone
from typing import Iterator

_frozen: datetime | None = None


def utcnow() -> datetime:
    """Now, as a naive UTC datetime (what the database columns hold)."""
    if _frozen is not None:
        return _frozen
    return datetime.now(timezone.utc).replace(tzinfo=None)


@contextmanager
def frozen_at(at: datetime) -> Iterator[None]:
    """Run a block as if it were ``at`` (naive UTC)."""
    global _frozen
    previous, _frozen = _frozen, at
    try:
        yield
    finally:
        _frozen = previous
