"""Errors raised by the engine facade. They carry what a user needs to see."""
from __future__ import annotations

from typing import Any


class Message(str):
    """A problem's English text that remembers its msgid and parameters, so the portal can show
    it in the user's language (the facade knows nothing of Flask or Babel). A parameter may itself
    be a Message, or a list of them (shown joined by semicolons)."""

    msgid: str
    params: dict[str, Any]

    def __new__(cls, msgid: str, **params: Any) -> "Message":
        shown = {k: "; ".join(v) if isinstance(v, list) else v for k, v in params.items()}
        self = super().__new__(cls, msgid % shown if params else msgid)
        self.msgid, self.params = msgid, params
        return self


def N_(msgid: str, **params: Any) -> Message:  # noqa: N802 - Babel's marker for text translated later
    """Mark ``msgid`` for the catalog; the text is translated where it is shown."""
    return Message(msgid, **params)


# (file name, line or None, element id, message)
Problem = tuple[str, "int | None", str, str]


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
