"""The figures' definitions (domain.md §5): where each figure's rows come from, the SQL conditions it
counts by, and its words. ``portal.services.kpis`` aggregates them and lists the cases behind them by the
same conditions, so a figure and its list cannot disagree."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable

from flask_babel import lazy_gettext as _l
from sqlalchemy import Float, and_, case, not_, or_, true
from sqlalchemy.orm import aliased

from portal.models import (
    Branch,
    BranchKind,
    Case,
    CaseStatus,
    HandlingResult,
    OrgKind,
    OrgUnit,
    Party,
    ResolutionMode,
    Satisfaction,
    ServiceReferral,
    WorkItem,
    WorkItemKind,
    WorkItemStatus,
)
from portal.services.errors import DomainError
from portal.services.sql_functions import dialect_function


class UnknownFigureError(DomainError):
    status_code = 404
    message = _l("There is no such figure.")


days_between = dialect_function(
    "days_between", Float(), "``end - start`` of two timestamp columns, in days (a fraction).",
    postgresql="(EXTRACT(EPOCH FROM ({1} - {0})) / 86400.0)", sqlite="(julianday({1}) - julianday({0}))")


@dataclass(frozen=True)
class Window:
    """A period as naive UTC moments, ``start`` included, ``end`` excluded; ``now`` for the states now."""

    start: datetime
    end: datetime
    now: datetime


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


# made once: building an alias costs more than the rest of the query
_MINE, _THEIRS, _EARLIER = aliased(Party, name="kpi_mine"), aliased(Party, name="kpi_theirs"), \
    aliased(Case, name="kpi_earlier")


def repeat_petition(w: Window):
    """An applicant of the case is, by ID number, an applicant of an earlier case (anywhere in the
    county, of any type) registered within the same period: the case's ``previous_visit_at``, kept at
    registration, falls in the period."""
    return and_(Case.previous_visit_at.is_not(None), Case.previous_visit_at >= w.start)


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
    per_day: bool = True          # a case's part in it is fixed by the case alone (summed by day)


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
        REGISTERED, "count", CASES, rows=repeat_petition, better="down", per_day=False),
]
KPI_BY_KEY = {k.key: k for k in KPIS}
PARTS = ("", "hits", "misses")  # a rate's list: all it divides by, the cases counted, the others


def kpi(key: str) -> Kpi:
    try:
        return KPI_BY_KEY[key]
    except KeyError:
        raise UnknownFigureError() from None


