"""The county's figures (分析汇总, domain.md §5), computed in the database.

Each figure is defined once (``kpi_defs``), as SQL conditions over one source: the cases registered, the cases
closed, the cases open now, the supervision cards, the aid paid, the services given. ``figures``
aggregates all the figures of a source in one query (COUNT/SUM/AVG over CASE), for the period and for
the same dates a year earlier; ``cases_behind`` lists the cases the very same conditions select. Every
query is scoped by ``visible_cases_filter`` (a township sees its own territory) and narrowed by the
dashboard's filters. Nothing is loaded or counted in Python.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import Date, and_, bindparam, case, false, func, not_, or_, select, true
from sqlalchemy.orm import aliased, joinedload
from sqlalchemy.sql.elements import True_

from portal.clock import utcnow
from portal.extensions import db
from portal.models import Case, DisputeType, OrgKind, OrgUnit, SourceChannel
from portal.roles import COUNTY_WIDE_ROLES
from portal.services import daily, queries
from portal.services.deadlines import local_to_utc, local_today
from portal.services.kpi_defs import KPIS, PARTS, YUAN, Kpi, Source, UnknownFigureError, Window, kpi
from portal.services.queries import visible_cases_filter

__all__ = ["KPIS", "PARTS", "Figure", "KpiFilters", "UnknownFigureError", "cases_behind", "figures",
           "filter_choices", "kpi"]


@dataclass(frozen=True)
class KpiFilters:
    """What the dashboard is narrowed to. The period is in local calendar days, both ends included
    (default: this year to date); ``dispute_type_id`` may be of level 1 (with its level-2 types);
    ``unit_id``: the unit the case was assigned to, or a unit within it (a township: its villages)."""

    date_from: date | None = None
    date_to: date | None = None
    township_id: int | None = None
    dispute_type_id: int | None = None
    source_channel: str = ""
    unit_id: int | None = None

    def period(self) -> tuple[date, date]:
        today = local_today()
        return self.date_from or today.replace(month=1, day=1), self.date_to or today

    def args(self) -> dict[str, str]:
        """The filters as query parameters (the period always explicit: a list opened tomorrow
        still shows what today's figure counted)."""
        start, end = self.period()
        values = {"date_from": start.isoformat(), "date_to": end.isoformat(), "township_id": self.township_id,
                  "dispute_type_id": self.dispute_type_id, "source_channel": self.source_channel,
                  "unit_id": self.unit_id}
        return {k: str(v) for k, v in values.items() if v}


def _window(start: date, end: date, now: datetime) -> Window:
    return Window(local_to_utc(datetime.combine(start, time.min)),
                  local_to_utc(datetime.combine(end + timedelta(days=1), time.min)), now)


def _year_before(day: date) -> date:
    """The same date a year earlier (29 February: the 28th)."""
    try:
        return day.replace(year=day.year - 1)
    except ValueError:
        return day.replace(year=day.year - 1, day=28)


@dataclass
class Figure:
    """One figure as the dashboard shows it. Rates are fractions (0.987); ``change`` is the
    year-on-year change: percentage points for a rate, per cent for anything else."""

    key: str
    label: Any
    value: Any
    display: str
    unit: Any
    formula: Any
    measure: str
    numerator: int | None = None
    denominator: int | None = None
    previous: Any = None
    previous_display: str = ""
    change: float | None = None
    change_display: str = ""
    trend: str | None = None      # up / down / flat, against a year earlier
    good: bool | None = None      # whether that way is the better one (None: neither)
    now: bool = False             # a state now: no period, no year earlier
    link: dict[str, str] = field(default_factory=dict)


# --- the queries ---

def case_scope(user, filters: KpiFilters) -> list:
    """The cases this user may see, narrowed by the filters (conditions on Case)."""
    visible = visible_cases_filter(user)
    conds = [true() if visible is True else false() if visible is False else visible]
    if filters.township_id:
        conds.append(Case.township_id == filters.township_id)
    if filters.dispute_type_id:
        conds.append(or_(Case.dispute_type_id == filters.dispute_type_id, Case.dispute_type_id.in_(
            select(DisputeType.id).where(DisputeType.parent_id == filters.dispute_type_id))))
    if filters.source_channel:
        conds.append(Case.source_channel == SourceChannel(filters.source_channel))
    if filters.unit_id:
        chosen = aliased(OrgUnit)
        path = select(chosen.path).where(chosen.id == filters.unit_id).scalar_subquery()
        conds.append(Case.assigned_unit_id.in_(select(OrgUnit.id).where(OrgUnit.path.like(path + "%"))))
    return conds


def _selected(k: Kpi, w: Window):
    """The rows ``k`` counts in window ``w`` (its denominator, for a rate)."""
    return k.rows(w) if k.now else and_(k.source.moment >= w.start, k.source.moment < w.end, k.rows(w))


def _aggregates(k: Kpi, w: Window, tag: str) -> list:
    rows = _selected(k, w)
    if k.measure == "avg":
        return [func.avg(case((rows, k.value))).label(f"{k.key}_{tag}")]
    if k.measure == "sum":
        return [func.sum(case((rows, k.value))).label(f"{k.key}_{tag}")]
    columns = [func.count(case((rows, 1))).label(f"{k.key}_{tag}")]
    if k.hits is not None:
        columns.append(func.count(case((and_(rows, k.hits(w)), 1))).label(f"{k.key}_{tag}_hits"))
    return columns


def _source_query(source: Source, kpis: list[Kpi], scope: list, windows: dict[str, Window]):
    """One query: every figure of one source, for each window (the states now: once)."""
    columns, reach = [], []
    for k in kpis:
        for tag, w in windows.items():
            if k.now and tag != "cur":
                continue
            columns += _aggregates(k, w, tag)
            if k.now:
                reach.append(k.rows(w))
    if source.moment is not None:  # every row a period figure counts lies in one of the windows
        reach += [and_(source.moment >= w.start, source.moment < w.end) for w in windows.values()]
    query = select(*columns).select_from(source.table)
    if source.table is not Case:
        query = query.join(Case, Case.id == source.table.case_id)
    return source.joins(query).where(source.base(), *scope, or_(*reach))


def _figure_query(source: Source, kpis: list[Kpi], scope: list, windows: dict[str, Window]):
    """The figures of one source that are few rows in a large table (repeat petitions, cards, the
    cases overdue now): each figure in each window by its own subquery, which an index answers."""
    joined = not all(isinstance(c, True_) for c in scope)  # the cases' conditions, if any

    def one(aggregate, *conditions):
        query = select(aggregate).select_from(source.table)
        if source.table is not Case and joined:
            query = query.join(Case, Case.id == source.table.case_id)
        return source.joins(query).where(source.base(), *scope, *conditions).scalar_subquery()
    columns = []
    for k in kpis:
        for tag, w in windows.items():
            if k.now and tag != "cur":
                continue
            rows = _selected(k, w)
            if k.measure in ("avg", "sum"):
                total = func.avg(k.value) if k.measure == "avg" else func.sum(k.value)
                columns.append(one(total, rows).label(f"{k.key}_{tag}"))
                continue
            columns.append(one(func.count(), rows).label(f"{k.key}_{tag}"))
            if k.hits is not None:
                columns.append(one(func.count(), rows, k.hits(w)).label(f"{k.key}_{tag}_hits"))
    return select(*columns)


def _rolled_figures(grain: str, filters: KpiFilters) -> dict[str, Any]:
    """The per-day figures from the day sums of ``grain`` (``portal.services.daily``), for the period
    and the same days a year earlier, labelled as ``_source_query`` labels them."""
    start, end = filters.period()
    spans = {"cur": (start, end), "prev": (_year_before(start), _year_before(end))}
    statement = daily.summed(daily.summed_key("figures", grain, filters), lambda: _rolled_statement(grain, filters))
    params = {**daily.rows_params(spans["prev"][0], end), **daily.narrow_params(filters),
              **{k: v for tag, span in spans.items() for k, v in daily.span_params(tag, *span).items()}}
    return dict(db.session.execute(statement, params).mappings().one())


def _rolled_statement(grain: str, filters: KpiFilters):
    rows, within = daily.day_rows(grain)

    def total(name, tag):
        first, last = bindparam(f"{tag}_first", type_=Date()), bindparam(f"{tag}_last", type_=Date())
        return func.coalesce(func.sum(case((and_(rows.c.day >= first, rows.c.day <= last), rows.c[name]),
                                           else_=0)), 0)
    columns = []
    for k in daily.ROLLED:
        for tag in ("cur", "prev"):
            if k.measure == "avg":
                columns.append((total(f"{k.key}_sum", tag) / func.nullif(total(k.key, tag), 0)).label(f"{k.key}_{tag}"))
                continue
            columns.append(total(k.key, tag).label(f"{k.key}_{tag}"))
            if k.hits is not None:
                columns.append(total(f"{k.key}_hits", tag).label(f"{k.key}_{tag}_hits"))
    return select(*columns).where(within, *daily.narrowed(rows, filters))


def _windows(filters: KpiFilters) -> dict[str, Window]:
    start, end = filters.period()
    now = utcnow()
    return {"cur": _window(start, end, now), "prev": _window(_year_before(start), _year_before(end), now)}


def figures(user, filters: KpiFilters) -> list[Figure]:
    """Every figure of the dashboard for ``user`` (scoped to what they may see) and ``filters``: the
    per-day figures from the day sums when a grain answers the request, the others (and all of them
    otherwise) by one aggregate query per source."""
    windows = _windows(filters)
    scope = case_scope(user, filters)
    grain = daily.grain_for(user, filters)
    rolled = {k.key for k in daily.ROLLED} if grain is not None else set()
    row: dict[str, Any] = _rolled_figures(grain, filters) if grain is not None else {}
    for source in dict.fromkeys(k.source for k in KPIS):
        kpis = [k for k in KPIS if k.source is source and k.key not in rolled]
        if kpis:
            query = (_figure_query if grain is not None else _source_query)(source, kpis, scope, windows)
            row.update(db.session.execute(query).mappings().one())
    return [_figure(k, row, filters) for k in KPIS]


def cases_behind(user, key: str, filters: KpiFilters, limit: int = 500, part: str = "") -> list[Case]:
    """The cases figure ``key`` counts, by the same conditions (for a rate: the cases it divides by;
    ``part="hits"``: those counted above the line, ``"misses"``: the others), latest first."""
    k = kpi(key)
    w = _windows(filters)["cur"]
    rows = _selected(k, w)
    if k.hits is not None and part == "hits":
        rows = and_(rows, k.hits(w))
    elif k.hits is not None and part == "misses":
        rows = and_(rows, not_(k.hits(w)))
    source = k.source
    query = select(Case).options(joinedload(Case.township), joinedload(Case.dispute_type))
    if source.table is Case:
        query = source.joins(query).where(source.base(), rows)
        order = (source.moment if source.moment is not None else Case.registered_at).desc()
    else:
        query = query.where(Case.id.in_(select(source.table.case_id).where(source.base(), rows)))
        order = Case.registered_at.desc()
    query = query.where(*case_scope(user, filters)).order_by(order, Case.id.desc()).limit(limit)
    return list(db.session.scalars(query).unique())


def filter_choices(user) -> dict[str, list]:
    """What the dashboard's filters offer: the townships of the user's territory (a township's or a
    village's staff: their own; the others: all), the dispute types (level 1, then its level-2 types),
    the channels, and the units cases are assigned to above the villages."""
    townships = queries.org_units(OrgKind.TOWNSHIP)  # the county's lists, kept between requests
    own = user.org_unit.path if user.org_unit is not None else ""
    if not COUNTY_WIDE_ROLES & user.role_names and any(own.startswith(t.path) for t in townships):
        townships = [t for t in townships if own.startswith(t.path)]
    county = {u.id for u in queries.org_units(OrgKind.COUNTY)}
    units = [u for u in queries.org_units(OrgKind.TOWNSHIP, OrgKind.DEPARTMENT, OrgKind.STUDIO, OrgKind.COMMITTEE)
             if u.kind != OrgKind.COMMITTEE or u.parent_id in county]
    types = queries.dispute_types()
    return {"townships": townships, "units": list(units), "channels": list(SourceChannel),
            "types": [(t, [c for c in types if c.parent_id == t.id]) for t in types if t.parent_id is None]}


# --- turning the sums into figures ---

def _value(k: Kpi, row: dict, tag: str):
    if k.measure == "rate":
        den, num = row[f"{k.key}_{tag}"], row[f"{k.key}_{tag}_hits"]
        return (num / den if den else None), num, den
    value = row.get(f"{k.key}_{tag}")
    if k.measure == "avg":
        return (round(float(value), 1) if value is not None else None), None, None
    if k.measure == "sum":
        total = value or 0
        money = k.unit is YUAN  # yuan and fen; the others count people
        return (Decimal(str(total)).quantize(Decimal("0.01")) if money else int(total)), None, None
    return value, None, None


def _display(k: Kpi, value) -> str:
    if value is None:
        return "—"
    if k.measure == "rate":
        return f"{value * 100:.1f}%"
    if k.measure == "avg":
        return f"{value:.1f}"
    if isinstance(value, Decimal):
        return f"{value:,.0f}"
    return f"{value:,}"


def _change(k: Kpi, value, previous) -> tuple[float | None, str]:
    if value is None or previous is None:
        return None, ""
    if k.measure == "rate":
        points = round((value - previous) * 100, 1)
        return points, str(_l("%(change)s points", change=f"{points:+.1f}"))
    if not previous:
        return None, ""
    change = round((float(value) - float(previous)) / float(previous) * 100, 1)
    return change, f"{change:+.1f}%"


def _figure(k: Kpi, row: dict, filters: KpiFilters) -> Figure:
    value, num, den = _value(k, row, "cur")
    formula = " ".join(str(text) for text in (k.formula, k.note) if text)
    figure = Figure(k.key, k.label, value, _display(k, value), k.unit, formula, k.measure, num, den,
                    now=k.now, link={"figure": k.key, **filters.args()})
    if k.now:
        return figure
    figure.previous = _value(k, row, "prev")[0]
    figure.previous_display = _display(k, figure.previous)
    figure.change, figure.change_display = _change(k, value, figure.previous)
    if figure.change is not None:
        figure.trend = "up" if figure.change > 0 else "down" if figure.change < 0 else "flat"
        figure.good = None if k.better is None or figure.trend == "flat" else figure.trend == k.better
    return figure
