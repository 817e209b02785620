"""The restricted expression environment every BPMN expression and script runs in.

SpiffWorkflow's default environment is plain ``eval``/``exec`` with full builtins:
anyone who can upload a diagram could run code on the server. Here every
expression is compiled by RestrictedPython (no imports, no dunder attributes,
guarded item and attribute access) and runs with a short list of builtins.
"""
from __future__ import annotations

import ast
import builtins
import datetime as _dt
from typing import Any, Callable

from RestrictedPython import (
    compile_restricted_eval,
    compile_restricted_exec,
    limited_builtins,
    safe_builtins,
)
from RestrictedPython.Eval import default_guarded_getitem, default_guarded_getiter
from RestrictedPython.Guards import (
    full_write_guard,
    guarded_iter_unpack_sequence,
    safer_getattr,
)
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine, TaskDataEnvironment

from portal.bpmn import clock
from portal.bpmn.errors import UnsafeExpressionError

# (start, days, working) -> the end of the period; aware UTC datetimes in and out.
Deadline = Callable[[_dt.datetime, int, bool], _dt.datetime]


def plain_deadline(start: _dt.datetime, days: int, working: bool) -> _dt.datetime:
    """Without the county's calendar: Monday to Friday are working days, days end at 24:00 UTC."""
    day, left = start.date(), days
    if not working:
        day += _dt.timedelta(days=days)
    while left and working:
        day += _dt.timedelta(days=1)
        left -= day.weekday() < 5
    return _dt.datetime.combine(day, _dt.time(23, 59, 59), tzinfo=_dt.timezone.utc)


def _period_helpers(deadline: Deadline) -> dict[str, Any]:
    """``workdays_after(n)`` and ``days_after(n)``: the end of a statutory period counted from the
    engine's now, as the ISO text a timer's ``timeDate`` takes (e.g. a 10-working-day review)."""
    def _end(days, working):
        if not isinstance(days, int) or isinstance(days, bool) or not 0 <= days <= 3660:
            raise ValueError(f"a period must be a whole number of days, not {days!r}")
        return deadline(clock.engine_now(), days, working).isoformat()

    def workdays_after(days):
        return _end(days, True)

    def days_after(days):
        return _end(days, False)

    return {"workdays_after": workdays_after, "days_after": days_after}

_EXTRA_BUILTINS = {f.__name__: f for f in (sorted, min, max, sum, any, all, enumerate, dict, zip, abs, round, len)}
# Names diagrams may use besides task data; nothing that reaches the system.
_HELPERS = {"date": _dt.date, "timedelta": _dt.timedelta}


def _globals(deadline: Deadline = plain_deadline) -> dict[str, Any]:
    return {
        "__builtins__": {**safe_builtins, **limited_builtins, **_EXTRA_BUILTINS},
        "_getattr_": safer_getattr,
        "_getitem_": default_guarded_getitem,
        "_getiter_": default_guarded_getiter,
        "_iter_unpack_sequence_": guarded_iter_unpack_sequence,
        "_write_": full_write_guard,
        **_HELPERS,
        **_period_helpers(deadline),
    }


_ALLOWED_BUILTINS = set(_globals()["__builtins__"]) | set(_HELPERS) | {"workdays_after", "days_after"}
_PYTHON_BUILTINS = set(dir(builtins))


def forbidden_calls(source: str, mode: str) -> list[str]:
    """Builtins the expression calls that the sandbox does not offer (open, eval, getattr …)."""
    tree = ast.parse(source, mode=mode)
    return sorted({node.func.id for node in ast.walk(tree)
                   if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                   and node.func.id in _PYTHON_BUILTINS and node.func.id not in _ALLOWED_BUILTINS})


def _check(source: str, mode: str) -> None:
    compiler = compile_restricted_eval if mode == "eval" else compile_restricted_exec
    result = compiler(source)
    if result.errors:
        raise UnsafeExpressionError(source, "; ".join(result.errors))
    if any(isinstance(node, (ast.Import, ast.ImportFrom)) for node in ast.walk(ast.parse(source, mode=mode))):
        raise UnsafeExpressionError(source, "imports modules, which diagrams may not do")
    forbidden = forbidden_calls(source, mode)
    if forbidden:
        raise UnsafeExpressionError(source, f"calls {', '.join(forbidden)}, which diagrams may not use")


def check_expression(source: str) -> None:
    """Raise UnsafeExpressionError when an expression is refused by the sandbox's rules."""
    _check(source, "eval")


def check_script(source: str) -> None:
    """Raise UnsafeExpressionError when a script body is refused by the sandbox's rules."""
    _check(source, "exec")


class RestrictedEnvironment(TaskDataEnvironment):
    """A TaskDataEnvironment that compiles with RestrictedPython before running."""

    def __init__(self, deadline: Deadline = plain_deadline) -> None:
        super().__init__(_globals(deadline))
        self._compiled: dict[tuple[str, str], Any] = {}

    def _compile(self, kind: str, source: str) -> Any:
        key = (kind, source)
        code = self._compiled.get(key)
        if code is None:
            compiler = compile_restricted_eval if kind == "eval" else compile_restricted_exec
            result = compiler(source)
            if result.errors:
                raise UnsafeExpressionError(source, "; ".join(result.errors))
            code = self._compiled[key] = result.code
        return code

    def evaluate(self, expression, context, external_context=None):
        code = self._compile("eval", expression)
        scope = dict(self.globals)
        scope.update(external_context or {})
        scope.update(context)
        return eval(code, scope)  # noqa: S307 - compiled by RestrictedPython above

    def execute(self, script, context, external_context=None):
        code = self._compile("exec", script)
        self.check_for_overwrite(context, external_context or {})
        context.update(self.globals)
        context.update(external_context or {})
        try:
            exec(code, context)  # noqa: S102 - compiled by RestrictedPython above
        finally:
            self._remove_globals_and_functions_from_context(context, external_context)
        return True


def restricted_script_engine(deadline: Deadline = plain_deadline) -> PythonScriptEngine:
    """A script engine whose every evaluation goes through RestrictedEnvironment."""
    return PythonScriptEngine(environment=RestrictedEnvironment(deadline))
