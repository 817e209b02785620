"""考核: each unit's scorecard over a period, its score by the weights an administrator sets, a ranking.

The units are the stationed departments, the county's mediation committees and studios, and the
townships, each township with everything below it (its villages, their committees, its grids). A
unit's cases are the cases registered in the period whose lead unit it is (or lies under it); every
figure is about those cases, as they stand now, so a period's scorecard settles as its cases close:

- closed; on time (closed by the deadline); successful (a written or oral agreement, or settled by the
  parties and withdrawn); rated at the follow-up visit, and of those satisfied or basically satisfied;
- returned: each time the verifier sent one of them back, and each one the unit refused to accept
  (the acceptance step completed with anything but "yes": the case went back to the dispatcher);
- supervision cards raised on them and sent to the unit, by level.

Everything is counted in the database (GROUP BY unit) over the cases the user may see.
"""
from __future__ import annotations

import enum
import json
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, exists, func, or_, select
from sqlalchemy import case as when
from sqlalchemy.orm import aliased

from portal.extensions import db
from portal.models import (
    CardLevel,
    Case,
    CaseStatus,
    OrgKind,
    OrgUnit,
    Satisfaction,
    SupervisionCard,
    WorkItem,
    WorkItemStatus,
)
from portal.services.deadlines import local_to_utc, local_today
from portal.services.errors import ValidationFailed
from portal.services.queries import visible_cases_filter
from portal.services.scoring import SUCCESS
from portal.services.settings import get_setting

RATED = (Satisfaction.SATISFIED.value, Satisfaction.BASICALLY.value, Satisfaction.DISSATISFIED.value)
SATISFIED = (Satisfaction.SATISFIED.value, Satisfaction.BASICALLY.value)
# The acceptance step's record, as complete_task stores it, when the unit accepted (steps.accept).
_ACCEPTED = [f"%{json.dumps({'accepted': v})[1:-1]}%" for v in (True, "yes", "1", "true")]
POINTS = Decimal("0.01")


class UnitKind(enum.Enum):
    DEPARTMENT = "department"
    MEDIATION = "mediation"   # the county's mediation committees and named studios
    TOWNSHIP = "township"

    @property
    def label(self):
        return {UnitKind.DEPARTMENT: _l("Stationed departments"),
                UnitKind.MEDIATION: _l("Mediation committees and studios"),
                UnitKind.TOWNSHIP: _l("Townships")}[self]

    @property
    def org_kinds(self) -> tuple[OrgKind, ...]:
        return {UnitKind.DEPARTMENT: (OrgKind.DEPARTMENT,), UnitKind.MEDIATION: (OrgKind.COMMITTEE, OrgKind.STUDIO),
                UnitKind.TOWNSHIP: (OrgKind.TOWNSHIP,)}[self]


@dataclass(frozen=True)
class Period:
    """Local calendar days, ``start`` to ``end`` inclusive."""

    start: date
    end: date

    def bounds(self) -> tuple[datetime, datetime]:
        """[from, to) in stored (naive UTC) time."""
        return (local_to_utc(datetime.combine(self.start, time())),
                local_to_utc(datetime.combine(self.end, time()) + timedelta(days=1)))

    @classmethod
    def month(cls, year: int, month: int) -> "Period":
        following = date(year + month // 12, month % 12 + 1, 1)
        return cls(date(year, month, 1), following - timedelta(days=1))



def parse_period(start: str | None, end: str | None) -> Period:
    """The period a page asks for (ISO dates); this month so far when none is given."""
    today = local_today()
    try:
        first = date.fromisoformat(start) if start else today.replace(day=1)
        last = date.fromisoformat(end) if end else today
    except ValueError:
        raise ValidationFailed(_l("Give the dates as year-month-day."), field="start") from None
    if first > last:
        raise ValidationFailed(_l("The period must not end before it starts."), field="end")
    return Period(first, last)


@dataclass(frozen=True)
class Rate:
    numerator: int
    denominator: int

    @property
    def value(self) -> Decimal | None:
        """From 0 to 1; None when there is nothing to count."""
        return Decimal(self.numerator) / Decimal(self.denominator) if self.denominator else None


@dataclass(frozen=True)
class Weights:
    """Points for each rate at 100%, and points deducted per returned case and per card."""

    closed: Decimal
    on_time: Decimal
    success: Decimal
    satisfaction: Decimal
    per_return: Decimal
    cards: dict[CardLevel, Decimal]

    @classmethod
    def current(cls) -> "Weights":
        """As the administrators set them (``portal.services.settings``)."""
        return cls(get_setting("score_weight_closed"), get_setting("score_weight_on_time"),
                   get_setting("score_weight_success"), get_setting("score_weight_satisfaction"),
                   get_setting("score_deduct_return"),
                   {level: get_setting(f"score_deduct_card_{level.value}") for level in CardLevel})


@dataclass
class Scorecard:
    unit_id: int
    code: str
    name: str
    kind: OrgKind
    cases: int = 0
    closed: int = 0
    on_time: int = 0
    success: int = 0
    rated: int = 0
    satisfied: int = 0
    verify_returns: int = 0
    refusals: int = 0
    cards: dict[CardLevel, int] = field(default_factory=lambda: dict.fromkeys(CardLevel, 0))
    score: Decimal = Decimal("0.00")
    rank: int = 0

    @property
    def closure_rate(self) -> Rate:
        return Rate(self.closed, self.cases)

    @property
    def on_time_rate(self) -> Rate:
        return Rate(self.on_time, self.closed)

    @property
    def success_rate(self) -> Rate:
        return Rate(self.success, self.closed)

    @property
    def satisfaction_rate(self) -> Rate:
        return Rate(self.satisfied, self.rated)

    @property
    def returns(self) -> int:
        return self.verify_returns + self.refusals

    def score_with(self, w: Weights) -> Decimal:
        """Σ weight × rate over the rates with something to count, scaled up to the full weight when a
        rate has nothing to count; minus the deductions. Two decimals, half up."""
        parts = [(w.closed, self.closure_rate), (w.on_time, self.on_time_rate), (w.success, self.success_rate),
                 (w.satisfaction, self.satisfaction_rate)]
        counted = [(weight, rate.value) for weight, rate in parts if rate.value is not None]
        counted_weight = sum((weight for weight, _ in counted), Decimal(0))
        earned = sum((weight * value for weight, value in counted), Decimal(0))
        full = sum((weight for weight, _ in parts), Decimal(0))
        base = earned * full / counted_weight if counted_weight else Decimal(0)
        deducted = w.per_return * self.returns + sum((w.cards[level] * n for level, n in self.cards.items()),
                                                     Decimal(0))
        return (base - deducted).quantize(POINTS, rounding=ROUND_HALF_UP)


def unit_scorecards(user, period: Period, kind: UnitKind | None = None,
                    weights: Weights | None = None) -> list[Scorecard]:
    """The scorecards of the units that had cases, returns or cards in the period, ranked: the highest
    score first; a tie goes to the unit with more cases, then to the lower unit code."""
    weights = weights or Weights.current()
    scored = _scored_units(kind)
    members = _members(scored)
    start, end = period.bounds()
    cohort = and_(Case.registered_at >= start, Case.registered_at < end, visible_cases_filter(user))
    cards: dict[int, Scorecard] = {}

    def card_of(unit_id: int) -> Scorecard:
        if unit_id not in cards:
            cards[unit_id] = Scorecard(unit_id, *units[unit_id])
        return cards[unit_id]

    units = {r.id: (r.code, r.name, r.kind) for r in db.session.execute(select(scored))}
    for row in db.session.execute(_case_figures(cohort, members)):
        card = card_of(row.unit_id)
        card.cases, card.closed, card.on_time, card.success, card.rated, card.satisfied, card.verify_returns = (
            int(v or 0) for v in row[1:])
    for unit_id, refusals in db.session.execute(_refusals(cohort, members)):
        card_of(unit_id).refusals = int(refusals)
    for unit_id, level, count in db.session.execute(_cards(cohort, members)):
        card_of(unit_id).cards[level] = int(count)
    for card in cards.values():
        card.score = card.score_with(weights)
    return ranked(list(cards.values()))


def ranked(cards: list[Scorecard]) -> list[Scorecard]:
    """Highest score first; a tie goes to the unit with more cases, then to the lower unit code. Each
    card gets its place (1, 2, 3, … with no two alike)."""
    order = sorted(cards, key=lambda c: (-c.score, -c.cases, c.code))
    for place, card in enumerate(order, start=1):
        card.rank = place
    return order


def _scored_units(kind: UnitKind | None):
    """The units that get a scorecard: townships, and the departments, committees and studios that lie
    under no township (a village's committee counts with its township)."""
    unit, town = aliased(OrgUnit, name="scored"), aliased(OrgUnit, name="town")
    in_township = exists().where(town.kind == OrgKind.TOWNSHIP, town.id != unit.id, unit.path.startswith(town.path))
    query = select(unit.id, unit.code, unit.name, unit.kind, unit.path).where(
        or_(unit.kind == OrgKind.TOWNSHIP,
            and_(unit.kind.in_((OrgKind.DEPARTMENT, OrgKind.COMMITTEE, OrgKind.STUDIO)), ~in_township)))
    if kind is not None:
        query = query.where(unit.kind.in_(kind.org_kinds))
    return query.subquery("scored_units")


def _members(scored):
    """Each org unit and the scored unit it counts for (itself, or the township above it)."""
    member = aliased(OrgUnit, name="member")
    return select(member.id.label("member_id"), scored.c.id.label("unit_id")) \
        .join(scored, member.path.startswith(scored.c.path)).subquery("members")


def _count(condition):
    return func.sum(when((condition, 1), else_=0))


def _case_figures(cohort, members):
    """Per scored unit: cases, closed, on time, successful, rated, satisfied, verification returns
    (counted per lead unit first, then summed up to the scored unit)."""
    closed = Case.status == CaseStatus.CLOSED
    on_time = and_(closed, or_(Case.due_at.is_(None), Case.closed_at <= Case.due_at))
    per_member = select(
        Case.assigned_unit_id.label("member_id"), func.count().label("cases"), _count(closed).label("closed"),
        _count(on_time).label("on_time"), _count(and_(closed, Case.handling_result.in_(SUCCESS))).label("success"),
        _count(Case.satisfaction.in_(RATED)).label("rated"),
        _count(Case.satisfaction.in_(SATISFIED)).label("satisfied"),
        func.sum(Case.verify_failures).label("verify_returns"),
    ).where(cohort, Case.assigned_unit_id.is_not(None)).group_by(Case.assigned_unit_id).subquery("per_member")
    figures = ("cases", "closed", "on_time", "success", "rated", "satisfied", "verify_returns")
    return select(members.c.unit_id, *(func.sum(per_member.c[f]).label(f) for f in figures)) \
        .join(members, members.c.member_id == per_member.c.member_id).group_by(members.c.unit_id)


def _refusals(cohort, members):
    """Per scored unit: acceptance steps its units completed without accepting."""
    accepted = or_(*(WorkItem.result.like(pattern) for pattern in _ACCEPTED))
    per_member = select(WorkItem.org_unit_id.label("member_id"), func.count().label("n")) \
        .join(Case, Case.id == WorkItem.case_id) \
        .where(WorkItem.form_key == "accept", WorkItem.branch_id.is_(None), WorkItem.status == WorkItemStatus.DONE,
               ~accepted, cohort).group_by(WorkItem.org_unit_id).subquery("refusals")
    return select(members.c.unit_id, func.sum(per_member.c.n)) \
        .join(members, members.c.member_id == per_member.c.member_id).group_by(members.c.unit_id)


def _cards(cohort, members):
    """Per scored unit and level: the supervision cards sent to its units (the card's work item)."""
    per_member = select(WorkItem.org_unit_id.label("member_id"), SupervisionCard.level.label("level"),
                        func.count().label("n")) \
        .join(WorkItem, WorkItem.id == SupervisionCard.work_item_id).join(Case, Case.id == SupervisionCard.case_id) \
        .where(cohort).group_by(WorkItem.org_unit_id, SupervisionCard.level).subquery("cards")
    return select(members.c.unit_id, per_member.c.level, func.sum(per_member.c.n)) \
        .join(members, members.c.member_id == per_member.c.member_id) \
        .group_by(members.c.unit_id, per_member.c.level)
