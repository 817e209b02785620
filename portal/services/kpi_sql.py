"""SQL the figures need that SQLAlchemy does not spell the same on SQLite and PostgreSQL."""
from __future__ import annotations

from sqlalchemy import Float
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement


class days_between(FunctionElement):  # noqa: N801 (used like a SQL function)
    """``end - start`` of two timestamp columns, in days (a fraction)."""

    type = Float()
    name = "days_between"
    inherit_cache = True


@compiles(days_between)
def _days_postgresql(element, compiler, **kw):
    start, end = (compiler.process(c, **kw) for c in element.clauses)
    return f"(EXTRACT(EPOCH FROM ({end} - {start})) / 86400.0)"


@compiles(days_between, "sqlite")
def _days_sqlite(element, compiler, **kw):
    start, end = (compiler.process(c, **kw) for c in element.clauses)
    return f"(julianday({end}) - julianday({start}))"
