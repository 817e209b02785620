"""The time the engine sees.

SpiffWorkflow reads ``datetime.now`` inside its timer module when a timer
starts waiting and when it checks whether it is due; it takes no clock
argument. The facade replaces that module's ``datetime`` with a subclass whose
``now`` answers the time the caller passed for the current engine call (kept
in a context variable, so threads do not see each other's time), and the real
time otherwise. Services pass the portal's clock, so tests and the demo seeder
can move a case through days in a second.
"""
from __future__ import annotations

import contextvars
from contextlib import contextmanager
from datetime import datetime, timezone
from typing import Iterator

import SpiffWorkflow.bpmn.specs.event_definitions.timer as _timer_module

_now: contextvars.ContextVar[datetime | None] = contextvars.ContextVar("engine_now", default=None)


class EngineDatetime(datetime):
    """``datetime`` whose ``now`` is the engine call's time when one is set."""

    @classmethod
    def now(cls, tz=None):
        value = _now.get()
        if value is None:
            return super().now(tz)
        return value if tz is None else value.astimezone(tz)


def install() -> None:
    """Point the library's timer module at EngineDatetime (idempotent)."""
    _timer_module.datetime = EngineDatetime


def engine_now() -> datetime:
    """The engine call's time (aware UTC), or the real time outside one."""
    value = _now.get()
    return value if value is not None else datetime.now(timezone.utc)


@contextmanager
def engine_time(now: datetime | None) -> Iterator[None]:
    """Run engine code as if it were ``now`` (naive values are taken as UTC)."""
    if now is not None and now.tzinfo is None:
        now = now.replace(tzinfo=timezone.utc)
    token = _now.set(now)
    try:
        yield
    finally:
        _now.reset(token)
