"""The county's figures (分析汇总, domain.md §5), computed in the database.

Each figure is defined once, as SQL conditions over one source: the cases registered, the cases
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
from typing import Any, Callable

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, case, exists, false, func, not_, or_, select, true
from sqlalchemy.orm import aliased, joinedload

from portal.clock import utcnow
from portal.extensions import db
from portal.models import (
    Branch,
    BranchKind,
    Case,
    CaseStatus,
    DisputeType,
    HandlingResult,
    OrgKind,
    OrgUnit,
    Party,
    PartyKind,
    ResolutionMode,
    Satisfaction,
    ServiceReferral,
    SourceChannel,
    WorkItem,
    WorkItemKind,
    WorkItemStatus,
)
from portal.roles import COUNTY_WIDE_ROLES
from portal.services.deadlines import local_to_utc, local_today
from portal.services.errors import DomainError
from portal.services.kpi_sql import days_between
from portal.services.queries import visible_cases_filter


class UnknownFigureError(DomainError):
    status_code = 404
    message = _l("There is no such figure.")


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


@dataclass(frozen=True)
class Window:
    """A period as naive UTC moments, ``start`` included, ``end`` excluded; ``now`` for the states now."""

    start: datetime
    end: datetime
    now: datetime


def _window(start: date, end: date, now: datetime) -> Window:
    return Window(local_to_utc(datetime.combine(start, time.min)),
                  local_to_utc(datetime.combine(end + timedelta(days=1), time.min)), now)


def _year_before(day: date) -> date:
    return day.replace(year=day.year - 1) if (day.month, day.day) != (2, 29) else day.replace(year=day.year - 1,
                                                                                              day=28)


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


# --- sources: what the rows are, which moment the period applies to, how they reach the case ---

@dataclass(frozen=True)
class Source:
    name: str
    table: Any                     # Case, or a table with case_id
    moment: Any                    # the column the period applies to
    base: Callable[[], Any]        # the rows of the source at all
    joins: Callable[[Any], Any] = lambda query: query


UNIT = aliased(OrgUnit, name="kpi_unit")              # the unit the case was assigned to
UNIT_PARENT = aliased(OrgUnit, name="kpi_unit_parent")


def _with_units(query):
    return query.outerjoin(UNIT, UNIT.id == Case.assigned_unit_id) \
        .outerjoin(UNIT_PARENT, UNIT_PARENT.id == UNIT.parent_id)


REGISTERED = Source("registered", Case, Case.registered_at, true)
CLOSED = Source("closed", Case, Case.closed_at, lambda: Case.status == CaseStatus.CLOSED, _with_units)
OPEN = Source("open", Case, None, lambda: Case.status != CaseStatus.CLOSED)
CARDS = Source("cards", WorkItem, WorkItem.created_at, lambda: WorkItem.kind == WorkItemKind.CARD)
AID = Source("aid", Branch, Branch.paid_at, lambda: and_(
    Branch.kind.in_([k for k in BranchKind if k.pays_money]), Branch.amount_paid.is_not(None)))
SERVICES = Source("services", ServiceReferral, ServiceReferral.served_at, true)


# --- the conditions the figures share with their lists ---

AGREED = [HandlingResult.WRITTEN_AGREEMENT.value, HandlingResult.ORAL_AGREEMENT.value]
MEDIATED = [*AGREED, HandlingResult.TERMINATED.value]
PRE_SUIT_SETTLED = [*AGREED, HandlingResult.WITHDRAWN.value]
RATED = [Satisfaction.SATISFIED.value, Satisfaction.BASICALLY.value, Satisfaction.DISSATISFIED.value]
CONTENT = [Satisfaction.SATISFIED.value, Satisfaction.BASICALLY.value]
PRE_SUIT = Case.resolution_mode == ResolutionMode.LITIGATION.value

# The level of the unit that resolved a case: a village (its committee, its grid), a township (a
# studio of the township), else the county (stationed departments, county committees and studios).
LEVEL = case((or_(UNIT.kind.in_([OrgKind.VILLAGE, OrgKind.GRID]), UNIT_PARENT.kind == OrgKind.VILLAGE), "village"),
             (or_(UNIT.kind == OrgKind.TOWNSHIP, UNIT_PARENT.kind == OrgKind.TOWNSHIP), "township"),
             else_="county")


_MINE, _THEIRS, _EARLIER = aliased(Party, name="kpi_mine"), aliased(Party, name="kpi_theirs"), \
    aliased(Case, name="kpi_earlier")


def repeat_petition(w: Window):
    """An applicant of the case is, by ID number, an applicant of an earlier case (anywhere in the
    county, of any type) registered within the same period."""
    mine, theirs, earlier = _MINE, _THEIRS, _EARLIER
    return exists().where(
        mine.case_id == Case.id, mine.kind == PartyKind.APPLICANT, mine.id_number.is_not(None),
        theirs.id_number == mine.id_number, theirs.kind == PartyKind.APPLICANT, theirs.case_id == earlier.id,
        earlier.id != Case.id, earlier.registered_at >= w.start,
        or_(earlier.registered_at < Case.registered_at,
            and_(earlier.registered_at == Case.registered_at, earlier.id < Case.id)))


def _overdue(w: Window):
    return and_(Case.due_at < w.now, Case.paused_since.is_(None))


def _all(w: Window):
    return true()


@dataclass(frozen=True)
class Kpi:
    """A figure's definition. ``rows``: what is counted (a rate's denominator); ``hits``: a rate's
    numerator among ``rows``; ``value``: what ``avg``/``sum`` add up; ``now``: a state now, without
    a period or a year earlier."""

    key: str
    label: Any
    formula: Any
    source: Source
    measure: str                  # count | rate | avg | sum
    unit: Any
    rows: Callable[[Window], Any] = _all
    hits: Callable[[Window], Any] | None = None
    value: Any = None
    better: str | None = None     # up / down
    now: bool = False
    note: Any = None              # said after the formula


CASES, DAYS, YUAN, PERSONS, CARD_UNIT = _l("cases"), _l("days"), _l("yuan"), _l("person-times"), _l("cards")


LEVEL_RULE = _l("The level is that of the unit the case was assigned to: a village (its mediation committee, "
                "its grids), a township (its studios), or the county (stationed departments, county committees "
                "and studios). Cases referred to their lawful channel at intake have no unit and are not counted.")


def _level(name: str, label, formula):
    return Kpi(f"resolved_{name}", label, formula, CLOSED, "rate", "%",
               rows=lambda w: Case.assigned_unit_id.is_not(None), hits=lambda w: LEVEL == name, note=LEVEL_RULE)


KPIS = [
    Kpi("received", _l("Cases received"), _l("Cases registered in the period."), REGISTERED, "count", CASES),
    Kpi("resolved", _l("Cases resolved"), _l("Cases closed in the period, whenever they were registered."),
        CLOSED, "count", CASES),
    Kpi("mediation_success", _l("Mediation success rate"), _l(
        "Cases closed in the period whose mediation ended in an agreement (written or oral), divided by the "
        "cases closed in the period whose mediation ended (an agreement, or mediation terminated without "
        "one). Cases sent to their lawful channel and pre-filing mediations (their own rate) are not counted."),
        CLOSED, "rate", "%", rows=lambda w: and_(Case.handling_result.in_(MEDIATED), not_(PRE_SUIT)),
        hits=lambda w: Case.handling_result.in_(AGREED), better="up"),
    Kpi("pre_suit_success", _l("Pre-filing mediation success rate"), _l(
        "Cases closed in the period that went to pre-filing mediation (triaged for arbitration or "
        "litigation) and settled there: by an agreement, or withdrawn after the parties settled themselves; "
        "divided by all cases closed in the period that went to pre-filing mediation (the others were "
        "registered by the court)."),
        CLOSED, "rate", "%", rows=lambda w: PRE_SUIT, hits=lambda w: Case.handling_result.in_(PRE_SUIT_SETTLED),
        better="up"),
    _level("village", _l("Resolved in the village"), _l(
        "Cases closed in the period by a unit of a village, divided by all cases closed in the period by a unit.")),
    _level("township", _l("Resolved in the township"), _l(
        "Cases closed in the period by a unit of a township, divided by all cases closed in the period by a unit.")),
    _level("county", _l("Resolved at the county"), _l(
        "Cases closed in the period by a unit of the county, divided by all cases closed in the period by a unit.")),
    Kpi("days_to_resolve", _l("Average days to resolve"), _l(
        "For the cases closed in the period: the time from registration to closing, in days, averaged."),
        CLOSED, "avg", DAYS, value=days_between(Case.registered_at, Case.closed_at), better="down"),
    Kpi("on_time", _l("On-time rate"), _l(
        "Cases closed in the period no later than their deadline (as extended), divided by the cases closed "
        "in the period that had a deadline."),
        CLOSED, "rate", "%", rows=lambda w: Case.due_at.is_not(None), hits=lambda w: Case.closed_at <= Case.due_at,
        better="up"),
    Kpi("satisfaction", _l("Satisfaction rate"), _l(
        "Cases closed in the period whose applicant said at the follow-up visit they were satisfied or "
        "basically satisfied, divided by those whose applicant gave an answer (not reached: not counted)."),
        CLOSED, "rate", "%", rows=lambda w: Case.satisfaction.in_(RATED), hits=lambda w: Case.satisfaction.in_(CONTENT),
        better="up"),
    Kpi("overdue_now", _l("Cases overdue now"), _l(
        "Open cases whose deadline has passed (cases whose deadline clock is paused are not counted). "
        "A state now: the period does not apply."), OPEN, "count", CASES, rows=_overdue, better="down", now=True),
    Kpi("cards_issued", _l("Supervision cards issued"), _l(
        "Supervision cards raised in the period, automatically or by hand."), CARDS, "count", CARD_UNIT),
    Kpi("cards_open", _l("Supervision cards open now"), _l(
        "Supervision cards not yet answered (a card is withdrawn when its case closes). A state now: the "
        "period does not apply."), CARDS, "count", CARD_UNIT, rows=lambda w: WorkItem.status == WorkItemStatus.OPEN,
        better="down", now=True),
    Kpi("aid_paid", _l("Relief and judicial aid paid"), _l(
        "Temporary relief and state judicial aid paid, in yuan, by the date of payment in the period."),
        AID, "sum", YUAN, value=Branch.amount_paid),
    Kpi("service_persons", _l("Social services (person-times)"), _l(
        "Person-times of social work and volunteer services given in the period."),
        SERVICES, "sum", PERSONS, value=ServiceReferral.persons),
    Kpi("repeat_petitions", _l("Repeat petitions"), _l(
        "Cases registered in the period whose applicant (by ID number) had already been the applicant of "
        "an earlier case registered in the same period, anywhere in the county."),
        REGISTERED, "count", CASES, rows=repeat_petition, better="down"),
]
KPI_BY_KEY = {k.key: k for k in KPIS}
PARTS = ("", "hits", "misses")  # a rate's list: all it divides by, the cases counted, the others


def kpi(key: str) -> Kpi:
    try:
        return KPI_BY_KEY[key]
    except KeyError:
        raise UnknownFigureError() from None


# --- the queries ---

def _scope(user, filters: KpiFilters) -> list:
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


def _windows(filters: KpiFilters) -> dict[str, Window]:
    start, end = filters.period()
    now = utcnow()
    return {"cur": _window(start, end, now), "prev": _window(_year_before(start), _year_before(end), now)}


def figures(user, filters: KpiFilters) -> list[Figure]:
    """Every figure of the dashboard for ``user`` (scoped to what they may see) and ``filters``:
    one aggregate query per source."""
    windows = _windows(filters)
    scope = _scope(user, filters)
    row: dict[str, Any] = {}
    for source in dict.fromkeys(k.source for k in KPIS):
        kpis = [k for k in KPIS if k.source is source]
        row.update(db.session.execute(_source_query(source, kpis, scope, windows)).mappings().one())
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
        query = query.where(Case.id.in_(select(source.table.case_id).join(Case, Case.id == source.table.case_id)
                                        .where(source.base(), rows)))
        order = Case.registered_at.desc()
    query = query.where(*_scope(user, filters)).order_by(order, Case.id.desc()).limit(limit)
    return list(db.session.scalars(query).unique())


def filter_choices(user) -> dict[str, list]:
    """What the dashboard's filters offer: the townships of the user's territory (a township's or a
    village's staff: their own; the others: all), the dispute types (level 1, then its level-2 types),
    the channels, and the units cases are assigned to above the villages."""
    townships = list(db.session.scalars(select(OrgUnit).where(OrgUnit.kind == OrgKind.TOWNSHIP)
                                        .order_by(OrgUnit.code)))
    own = user.org_unit.path if user.org_unit is not None else ""
    if not COUNTY_WIDE_ROLES & user.role_names and any(own.startswith(t.path) for t in townships):
        townships = [t for t in townships if own.startswith(t.path)]
    county = select(OrgUnit.id).where(OrgUnit.kind == OrgKind.COUNTY)
    units = db.session.scalars(select(OrgUnit).where(or_(
        OrgUnit.kind.in_([OrgKind.TOWNSHIP, OrgKind.DEPARTMENT, OrgKind.STUDIO]),
        and_(OrgUnit.kind == OrgKind.COMMITTEE, OrgUnit.parent_id.in_(county)))).order_by(OrgUnit.code))
    types = list(db.session.scalars(select(DisputeType).order_by(DisputeType.code)))
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
        return (Decimal(str(total)).quantize(Decimal("0.01")) if k.value is Branch.amount_paid else int(total)), \
            None, None
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
