"""SQL functions of the portal's own, written once for PostgreSQL and once for SQLite."""
from __future__ import annotations

from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement


def dialect_function(name: str, type_, doc: str, postgresql: str, sqlite: str) -> type[FunctionElement]:
    """A function called like ``func``'s (``name(a, b)``), whose SQL on each database is its template with
    the arguments' SQL put in (``{0}``, ``{1}``, ...)."""
    function = type(name, (FunctionElement,), {"type": type_, "name": name, "inherit_cache": True, "__doc__": doc})

    def template(text: str):
        def render(element, compiler, **kw):
            return text.format(*(compiler.process(c, **kw) for c in element.clauses))
        return render

    compiles(function)(template(postgresql))
    compiles(function, "sqlite")(template(sqlite))
    return function
