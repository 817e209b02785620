"""The figures summed by local day: each case's part in them, and the day sums a request reads.

A case's part (``facts``) is worked out from the figures' own definitions (``kpi_defs``): for every
figure a case's count is fixed by the case alone (``Kpi.per_day``), a 0 or 1 per count, a rate's rows and
hits, an average's rows and what it adds up; the registration figure falls on the local day the case
was registered, the closing figures on the day it was closed. The worker keeps those parts summed per
day (``figure_day``: in total, per township, per dispute type, per source channel, per assigned unit)
and remembers what it counted for each case (``case_figures``). A request reads the day sums and
corrects them, in the same statement, by the cases changed since the worker last looked (their part
now, less the part the sums hold): the figures are those of the cases as they are at the request. Which
cases those are is read once per request (``changed_cases``), before the statements that correct by them.
"""
from __future__ import annotations

import functools
import json
from datetime import date, datetime
from typing import Any

from flask import current_app
from sqlalchemy import (
    Boolean,
    Date,
    Integer,
    String,
    TypeDecorator,
    and_,
    bindparam,
    case,
    func,
    literal,
    literal_column,
    select,
    true,
    type_coerce,
    union_all,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import aliased

from portal.extensions import db
from portal.models import Case, CaseFigures, CaseStatus, DisputeType, FigureDay, OrgUnit, RollupMark
from portal.models.rollup import MEASURES, SUMS
from portal.request_cache import request_cache
from portal.services.kpi_defs import AGREED, CLOSED, KPIS, REGISTERED, Window
from portal.services.queries import visible_cases_filter
from portal.services.sql_functions import dialect_function

FAR_PAST = datetime(1900, 1, 1)
GRAINS = {"": None, "t": "township_id", "y": "dispute_type_id", "c": "source_channel", "u": "unit_id"}
DIMENSIONS = ("township_id", "dispute_type_id", "source_channel", "unit_id")
ROLLED = [k for k in KPIS if k.per_day and not k.now and k.source in (REGISTERED, CLOSED)]
ALL_MEASURES = MEASURES + SUMS


# the county's calendar day of a stored (naive UTC) moment, in ``PORTAL_TIMEZONE`` (SQLite: the function
# the connection registers, portal._tune_sqlite)
local_day = dialect_function("local_day", Date(), "The county's calendar day of a stored moment.",
                             postgresql="CAST(timezone({1}, timezone('UTC', {0})) AS DATE)",
                             sqlite="portal_local_day({0}, {1})")


class IdList(TypeDecorator):
    """A list of ids as one parameter: an integer array on PostgreSQL, a JSON array on SQLite."""

    impl = String
    cache_ok = True

    def load_dialect_impl(self, dialect):
        return dialect.type_descriptor(ARRAY(Integer) if dialect.name == "postgresql" else String())

    def process_bind_param(self, value, dialect):
        return value if dialect.name == "postgresql" else json.dumps(value)


# ``column`` is one of the ids a parameter (``IdList``) holds: one statement however many there are, and
# the database knows how many when it plans (a subquery there, the changed cases, it could only guess: it
# took thousands for a few hundred and read every case's figures to join them)
among = dialect_function("among", Boolean(), "A column is one of the ids of a list parameter.",
                         postgresql="{0} = ANY({1})", sqlite="{0} IN (SELECT value FROM json_each({1}))")


def day_of(column):
    return local_day(column, literal(current_app.config["PORTAL_TIMEZONE"], String))


@functools.cache  # the figures' definitions are the code's: built once, not for every statement
def _measure_expressions() -> dict[str, Any]:
    """Each measure as SQL over a case (joined as the closing figures join it): its part in the sum."""
    everywhere = Window(FAR_PAST, FAR_PAST, FAR_PAST)  # a per-day figure's conditions ignore the period
    parts: dict[str, Any] = {}
    for k in ROLLED:
        rows = and_(k.source.base(), k.rows(everywhere))
        parts[k.key] = case((rows, 1), else_=0)
        if k.hits is not None:
            parts[f"{k.key}_hits"] = case((and_(rows, k.hits(everywhere)), 1), else_=0)
        if k.measure == "avg":
            parts[f"{k.key}_sum"] = case((rows, k.value), else_=0.0)
    parts["agreed"] = case((and_(CLOSED.base(), Case.handling_result.in_(AGREED)), 1), else_=0)  # the charts
    if set(parts) != set(ALL_MEASURES):
        raise RuntimeError(f"figure_day's measures differ from the figures': {sorted(set(parts) ^ set(ALL_MEASURES))}")
    return parts


ON_REGISTRATION = {k.key for k in ROLLED if k.source is REGISTERED}  # the rest fall on the closing day


def facts(*where):
    """The cases' parts in the figures (``case_figures``' columns), as they are now."""
    parts = _measure_expressions()
    columns = [Case.id.label("case_id"), day_of(Case.registered_at).label("registered_day"),
               case((Case.status == CaseStatus.CLOSED, day_of(Case.closed_at))).label("closed_day"),
               Case.township_id.label("township_id"), Case.dispute_type_id.label("dispute_type_id"),
               type_coerce(Case.source_channel, String).label("source_channel"),
               func.coalesce(Case.assigned_unit_id, 0).label("unit_id"),
               *(parts[m].label(m) for m in ALL_MEASURES), Case.updated_at.label("case_updated_at")]
    return CLOSED.joins(select(*columns).select_from(Case)).where(*where)


def as_counted(since):
    """Whether the day sums hold a case changed since ``since`` as it is: counted at the updated_at it still
    has (its part now is the part counted). A change that committed after the worker read the case has
    moved its updated_at. Such a count is itself since ``since``: said outright, the database looks among
    the few cases counted since then (an index), not at the county's every count."""
    return select(CaseFigures.case_id).where(CaseFigures.case_id == Case.id,
                                             CaseFigures.case_updated_at == Case.updated_at,
                                             CaseFigures.case_updated_at >= since).exists()


def events(parts, negate: bool = False) -> list:
    """Rows (day, dimensions, measures) of cases' parts (a selectable with ``facts``' columns): one on
    the registration day, one on the closing day; ``negate``: to take them out of a sum."""
    def value(name, on_registration):
        if (name in ON_REGISTRATION) != on_registration:
            return literal_column("0").label(name)
        return (-parts.c[name] if negate else parts.c[name]).label(name)
    dims = [parts.c[d] for d in DIMENSIONS]
    registered = select(parts.c.registered_day.label("day"), *dims, *(value(m, True) for m in ALL_MEASURES))
    closed = select(parts.c.closed_day.label("day"), *dims, *(value(m, False) for m in ALL_MEASURES)) \
        .where(parts.c.closed_day.is_not(None))
    return [registered, closed]


def changed_since() -> datetime:
    """The moment from which cases are taken as they are now (none rolled up yet: all of them)."""
    return db.session.scalar(select(RollupMark.until).where(RollupMark.name == "cases")) or FAR_PAST


def changed_cases() -> list[int]:
    """The cases the day sums do not hold as they are: changed since the worker's mark and not counted as
    they are since (``as_counted``). Read once per request, before the statements that correct the sums
    by them; each of those reads the sums, the cases' parts now and the parts counted for them at one moment,
    so a case the worker counts or a step changes in between is still corrected by its own two parts (their
    difference is nothing once counted), and a case changed after this read is corrected from the next."""
    kept = request_cache("figures")
    if "changed" not in kept:
        since = changed_since()
        kept["changed"] = list(db.session.scalars(select(Case.id).where(Case.updated_at >= since,
                                                                        ~as_counted(since))))
    return kept["changed"]


def day_rows(grain: str):
    """The figures' day sums of one grain from ``rows_first`` to ``rows_last`` (local days, parameters),
    corrected by the cases the worker has not taken as they are: a subquery (day, dimensions, measures) to
    sum up, and the condition that keeps its days. Built once per grain (and time zone): a statement
    on it is executed with ``rows_params``."""
    return _day_rows(grain, current_app.config["PORTAL_TIMEZONE"])


def rows_params(first: date, last: date) -> dict[str, Any]:
    """The parameters of ``day_rows``: its days, and the cases to correct the sums by."""
    return {"rows_first": first, "rows_last": last, "rows_changed": changed_cases()}


@functools.cache
def _day_rows(grain: str, zone: str):
    first, last = bindparam("rows_first", type_=Date()), bindparam("rows_last", type_=Date())
    changed = bindparam("rows_changed", type_=IdList())
    counted = CaseFigures.__table__
    table = FigureDay.__table__
    rolled = select(table.c.day, *(table.c[d] for d in DIMENSIONS), *(table.c[m] for m in ALL_MEASURES)) \
        .where(table.c.grain == grain, table.c.day >= first, table.c.day <= last)
    now = facts(among(Case.id, changed)).cte("now_parts")
    before = select(counted).where(among(counted.c.case_id, changed)).cte("counted_parts")  # the same cases
    rows = union_all(rolled, *events(now), *events(before, negate=True)).subquery("day_rows")
    return rows, and_(rows.c.day >= first, rows.c.day <= last)


def span_params(name: str, first: date, last: date) -> dict[str, date]:
    """The parameters of a span of days that a statement of ``summed`` sums over (``<name>_first``, ``<name>_last``)."""
    return {f"{name}_first": first, f"{name}_last": last}


def summed(key: tuple, build):
    """A statement on ``day_rows``, built by ``build()`` once per ``key`` (which must name all it depends on:
    the grain, the filters it narrows by, the time zone) and kept: the dashboard's statements sum some
    fifty columns over five unions, and building them took most of its 120 ms."""
    statement = _SUMMED.get(key)
    if statement is None:
        statement = _SUMMED[key] = build()
    return statement


_SUMMED: dict[tuple, Any] = {}


# --- which day sums answer a request ---

def dimensions(filters) -> dict[str, Any]:
    """The dashboard's filters (``kpis.KpiFilters``) as the grains that can narrow by them."""
    picked = {"t": filters.township_id, "y": filters.dispute_type_id, "c": filters.source_channel,
              "u": filters.unit_id}
    return {g: v for g, v in picked.items() if v}


def grain_for(user, filters, by: str = "") -> str | None:
    """The grain whose day sums answer a request narrowed by ``filters`` and broken down ``by`` a
    dimension, or None when none does (more than one dimension, or a user who sees only part of the
    county: the figures are then counted over the cases themselves)."""
    if not current_app.config["PORTAL_FIGURES_FROM_DAY_SUMS"] or visible_cases_filter(user) is not True:
        return None
    wanted = set(dimensions(filters)) | ({by} if by else set())
    if len(wanted) > 1:
        return None
    return next(iter(wanted), "")


def narrowed(rows, filters) -> list:
    """Conditions on ``day_rows`` for the filters (only ever those of the grain read), on the parameters
    ``narrow_params`` gives."""
    conditions = []
    for grain in dimensions(filters):
        column, value = rows.c[GRAINS[grain]], bindparam(f"narrow_{grain}")
        if grain == "y":
            conditions.append(column.in_(select(DisputeType.id).where(
                (DisputeType.id == value) | (DisputeType.parent_id == value))))
        elif grain == "u":
            chosen = aliased(OrgUnit)
            path = select(chosen.path).where(chosen.id == value).scalar_subquery()
            conditions.append(column.in_(select(OrgUnit.id).where(OrgUnit.path.like(path + "%"))))
        else:
            conditions.append(column == value)
    return conditions or [true()]


def narrow_params(filters) -> dict[str, Any]:
    return {f"narrow_{grain}": value for grain, value in dimensions(filters).items()}


def summed_key(name: str, grain: str, filters) -> tuple:
    """The key of a statement of ``summed``: what it is, its grain, the dimensions it narrows by, the zone."""
    return name, grain, tuple(sorted(dimensions(filters))), current_app.config["PORTAL_TIMEZONE"]
