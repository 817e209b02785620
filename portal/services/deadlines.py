"""Case deadlines from the administrators' rules and the working-day calendar."""
from __future__ import annotations

from datetime import date, datetime, time, timezone
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from portal.extensions import db
from portal.models import CalendarDay, Complexity, DeadlineRule, DisputeType
from portal.services.errors import ValidationFailed
from portal.workdays import DayUnit, deadline

# The speech's local policy (即来即办 / 3 / 10 / 30 days), loaded as the county default rules.
DEFAULT_RULES = {Complexity.SIMPLE: 0, Complexity.GENERAL: 3, Complexity.COMPLEX: 10, Complexity.DIFFICULT: 30}


def calendar_overrides() -> dict:
    """Days the center has set by hand (holidays or make-up workdays the package lacks)."""
    return {d.day: d.is_workday for d in db.session.scalars(select(CalendarDay))}


def rule_for(dispute_type: DisputeType, tier: Complexity) -> DeadlineRule:
    """The most specific rule: the type itself, then its level-1 type, then the county default."""
    candidates = [dispute_type.id, dispute_type.parent_id, None]
    rules = {r.dispute_type_id: r for r in db.session.scalars(
        select(DeadlineRule).where(DeadlineRule.complexity == tier))}
    for type_id in candidates:
        if type_id in rules:
            return rules[type_id]
    raise ValidationFailed(_l("No deadline rule covers this dispute type and complexity; "
                              "an administrator must add one."), field="complexity")


def local_today() -> date:
    """Today in the county's time zone (by the portal's clock)."""
    from portal.clock import utcnow
    return utcnow().replace(tzinfo=timezone.utc).astimezone(ZoneInfo(current_app.config["PORTAL_TIMEZONE"])).date()


def local_to_utc(moment: datetime) -> datetime:
    """A wall-clock time in the county (as a form gives it) as naive UTC."""
    zone = ZoneInfo(current_app.config["PORTAL_TIMEZONE"])
    return moment.replace(tzinfo=zone).astimezone(timezone.utc).replace(tzinfo=None)


def legal_due_at(start: datetime, days: int, unit: DayUnit) -> datetime:
    """The end (23:59:59 local) of a statutory period starting on ``start`` (naive UTC in and out)."""
    zone = ZoneInfo(current_app.config["PORTAL_TIMEZONE"])
    first = start.replace(tzinfo=timezone.utc).astimezone(zone).date()
    last_day = deadline(first, days, unit, calendar_overrides())
    return datetime.combine(last_day, time(23, 59, 59), tzinfo=zone).astimezone(timezone.utc).replace(tzinfo=None)


def case_due_at(registered_at: datetime, dispute_type: DisputeType, tier: Complexity) -> datetime:
    """The end (23:59:59 local) of the last day a case may take, as naive UTC."""
    rule = rule_for(dispute_type, tier)
    return legal_due_at(registered_at, rule.days, DayUnit(rule.unit))
