"""The dashboard's charts, computed in SQL with the dashboard's own scope and filters: cases received
and resolved month by month, by dispute category, by township, and how many were resolved on time.

Each chart is one aggregate query. Months are the county's calendar months: their bounds are worked
out in Python as UTC moments and each month is a conditional count, which reads the same on SQLite and
PostgreSQL and lets the registration and closing indexes narrow the rows.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timezone
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import Date, and_, bindparam, case, func, select
from sqlalchemy.orm import aliased

from portal.extensions import db
from portal.models import Case, CaseStatus, DisputeType, OrgKind, OrgUnit
from portal.services import daily
from portal.services.kpi_defs import AGREED
from portal.services.kpis import KpiFilters, case_scope


@dataclass
class Chart:
    categories: list[str]
    series: dict[str, list[float]] = field(default_factory=dict)  # series key -> one value per category


def _utc(day: date) -> datetime:
    zone = ZoneInfo(current_app.config["PORTAL_TIMEZONE"])
    return datetime.combine(day, time(0, 0), tzinfo=zone).astimezone(timezone.utc).replace(tzinfo=None)


def _months(end: date, count: int = 12) -> list[tuple[str, datetime, datetime]]:
    """The ``count`` calendar months up to the one holding ``end``: (label, start, end) in UTC."""
    months = []
    year, month = end.year, end.month
    for _ in range(count):
        first = date(year, month, 1)
        nxt = date(year + (month == 12), month % 12 + 1, 1)
        months.append((f"{year}-{month:02d}", _utc(first), _utc(nxt)))
        year, month = (year - 1, 12) if month == 1 else (year, month - 1)
    return months[::-1]


def _successful():
    """Mediated successfully, as the dashboard's success rate counts it: an agreement (written or oral)."""
    return Case.handling_result.in_(AGREED)


def _month_days(end: date, count: int = 12) -> list[tuple[date, date]]:
    """The first and last local day of each of the ``count`` calendar months up to the one holding ``end``."""
    spans = []
    year, month = end.year, end.month
    for _ in range(count):
        nxt = date(year + (month == 12), month % 12 + 1, 1)
        spans.append((date(year, month, 1), date.fromordinal(nxt.toordinal() - 1)))
        year, month = (year - 1, 12) if month == 1 else (year, month - 1)
    return spans[::-1]


def _rolled_monthly(grain: str, filters: KpiFilters) -> Chart:
    spans = _month_days(filters.period()[1])
    statement = daily.summed(daily.summed_key("monthly", grain, filters),
                             lambda: _rolled_monthly_statement(grain, filters, len(spans)))
    params = {**daily.rows_params(spans[0][0], spans[-1][1]), **daily.narrow_params(filters),
              **{k: v for i, span in enumerate(spans) for k, v in daily.span_params(f"m{i}", *span).items()}}
    row = db.session.execute(statement, params).one()
    chart = Chart([f"{first:%Y-%m}" for first, _ in spans], {"received": [], "resolved": [], "on_time": [], "late": []})
    for i in range(len(spans)):
        for j, key in enumerate(("received", "resolved", "on_time", "late")):
            chart.series[key].append(int(row[4 * i + j]))
    return chart


def _rolled_monthly_statement(grain: str, filters: KpiFilters, months: int):
    rows, within = daily.day_rows(grain)

    def total(name, i):
        first, last = bindparam(f"m{i}_first", type_=Date()), bindparam(f"m{i}_last", type_=Date())
        return func.coalesce(func.sum(case((and_(rows.c.day >= first, rows.c.day <= last), rows.c[name]),
                                           else_=0)), 0)
    columns = []
    for i in range(months):
        columns += [total("received", i), total("resolved", i), total("on_time_hits", i),
                    total("on_time", i) - total("on_time_hits", i)]
    return select(*columns).where(within, *daily.narrowed(rows, filters))


def monthly(user, filters: KpiFilters) -> Chart:
    """Received and resolved per month (the 12 months ending with the period's end), and of the
    resolved, how many on time (closed by their deadline) and late."""
    grain = daily.grain_for(user, filters)
    if grain is not None:
        return _rolled_monthly(grain, filters)
    months = _months(filters.period()[1])
    closed = Case.status == CaseStatus.CLOSED
    on_time = and_(closed, Case.due_at.is_not(None), Case.closed_at <= Case.due_at)
    late = and_(closed, Case.due_at.is_not(None), Case.closed_at > Case.due_at)
    columns = []
    for _label, start, end in months:
        received = and_(Case.registered_at >= start, Case.registered_at < end)
        resolved = and_(closed, Case.closed_at >= start, Case.closed_at < end)
        columns += [func.count(case((received, 1))), func.count(case((resolved, 1))),
                    func.count(case((and_(resolved, on_time), 1))), func.count(case((and_(resolved, late), 1)))]
    first, last = months[0][1], months[-1][2]
    window = (Case.registered_at >= first) & (Case.registered_at < last) | \
        (Case.closed_at >= first) & (Case.closed_at < last)
    row = db.session.execute(select(*columns).where(window, *case_scope(user, filters))).one()
    chart = Chart([m[0] for m in months], {"received": [], "resolved": [], "on_time": [], "late": []})
    for i in range(len(months)):
        for j, key in enumerate(("received", "resolved", "on_time", "late")):
            chart.series[key].append(int(row[4 * i + j] or 0))
    return chart


def _period_conditions(filters: KpiFilters):
    start, end = filters.period()
    return _utc(start), _utc(date.fromordinal(end.toordinal() + 1))


def _rolled_by_category(filters: KpiFilters) -> Chart:
    statement = daily.summed(daily.summed_key("by_category", "y", filters),
                             lambda: _rolled_by_category_statement(filters))
    params = {**daily.rows_params(*filters.period()), **daily.narrow_params(filters)}
    result = db.session.execute(statement, params).all()
    return Chart([r[0] for r in result], {"received": [int(r[1]) for r in result],
                                          "resolved": [int(r[2]) for r in result],
                                          "success": [int(r[3]) for r in result]})


def _rolled_by_category_statement(filters: KpiFilters):
    rows, within = daily.day_rows("y")
    parent = aliased(DisputeType)
    received, resolved, agreed = (func.sum(rows.c[name]) for name in ("received", "resolved", "agreed"))
    return select(parent.name, received, resolved, agreed) \
        .join(DisputeType, DisputeType.id == rows.c.dispute_type_id).join(parent, parent.id == DisputeType.parent_id) \
        .where(within, *daily.narrowed(rows, filters)).group_by(parent.code, parent.name) \
        .having(received + resolved > 0).order_by(parent.code)


def by_category(user, filters: KpiFilters) -> Chart:
    """Received, resolved and mediated successfully in the period, by level-1 dispute category."""
    if daily.grain_for(user, filters, by="y") is not None:
        return _rolled_by_category(filters)
    start, end = _period_conditions(filters)
    parent = aliased(DisputeType)
    received = and_(Case.registered_at >= start, Case.registered_at < end)
    resolved = and_(Case.status == CaseStatus.CLOSED, Case.closed_at >= start, Case.closed_at < end)
    rows = db.session.execute(
        select(parent.code, parent.name, func.count(case((received, 1))), func.count(case((resolved, 1))),
               func.count(case((and_(resolved, _successful()), 1))))
        .select_from(Case).join(DisputeType, DisputeType.id == Case.dispute_type_id)
        .join(parent, parent.id == DisputeType.parent_id)
        .where(received | resolved, *case_scope(user, filters))
        .group_by(parent.code, parent.name).order_by(parent.code)).all()
    return Chart([r[1] for r in rows], {"received": [r[2] for r in rows], "resolved": [r[3] for r in rows],
                                        "success": [r[4] for r in rows]})


def by_township(user, filters: KpiFilters) -> Chart:
    """Received and resolved in the period by township (every township, in code order)."""
    counts = _township_counts(user, filters)
    towns = db.session.execute(select(OrgUnit.id, OrgUnit.name).where(OrgUnit.kind == OrgKind.TOWNSHIP)
                               .order_by(OrgUnit.code)).all()
    if filters.township_id:
        towns = [t for t in towns if t[0] == filters.township_id]
    return Chart([t[1] for t in towns], {"received": [int(counts.get(t[0], (0, 0))[0]) for t in towns],
                                         "resolved": [int(counts.get(t[0], (0, 0))[1]) for t in towns]})


def _township_counts(user, filters: KpiFilters) -> dict[int, tuple[int, int]]:
    """township id -> (received, resolved) in the period."""
    if daily.grain_for(user, filters, by="t") is not None:
        def build():
            rows, within = daily.day_rows("t")
            return select(rows.c.township_id, func.sum(rows.c.received), func.sum(rows.c.resolved)) \
                .where(within, *daily.narrowed(rows, filters)).group_by(rows.c.township_id)
        statement = daily.summed(daily.summed_key("by_township", "t", filters), build)
        params = {**daily.rows_params(*filters.period()), **daily.narrow_params(filters)}
        return {r[0]: (int(r[1]), int(r[2])) for r in db.session.execute(statement, params)}
    start, end = _period_conditions(filters)
    received = and_(Case.registered_at >= start, Case.registered_at < end)
    resolved = and_(Case.status == CaseStatus.CLOSED, Case.closed_at >= start, Case.closed_at < end)
    return {r[0]: r[1:] for r in db.session.execute(
        select(Case.township_id, func.count(case((received, 1))), func.count(case((resolved, 1))))
        .where(received | resolved, *case_scope(user, filters)).group_by(Case.township_id))}


def charts(user, filters: KpiFilters) -> dict[str, dict]:
    """All the dashboard's charts, as JSON-ready data."""
    return {name: {"categories": c.categories, "series": c.series}
            for name, c in (("monthly", monthly(user, filters)), ("category", by_category(user, filters)),
                            ("township", by_township(user, filters)))}
