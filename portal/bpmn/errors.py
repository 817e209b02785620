"""Errors raised by the engine facade. They carry what a user needs to see."""
from __future__ import annotations


class EngineError(Exception):
    """Base class of every error the engine facade raises."""


class DiagramInvalidError(EngineError):
    """A diagram failed validation; ``problems`` lists (file, line, element, message)."""

    def __init__(self, problems: list[tuple[str, int | None, str, str]]):
        self.problems = problems
        super().__init__("; ".join(f"{f}:{line or '?'} {el}: {msg}" for f, line, el, msg in problems))


class UnsafeExpressionError(EngineError):
    """An expression or script is refused by the restricted compiler."""

    def __init__(self, source: str, reason: str):
        self.source, self.reason = source, reason
        super().__init__(f"unsafe expression {source!r}: {reason}")


class TaskNotReadyError(EngineError):
    """The task does not exist in this workflow, is not a user task, or is not READY."""

    def __init__(self, task_id: str, state: str | None = None):
        self.task_id, self.state = task_id, state
        super().__init__(f"task {task_id} is not ready (state {state})")
