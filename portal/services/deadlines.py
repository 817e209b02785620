"""Case deadlines from the administrators' rules and the working-day calendar."""
from __future__ import annotations

from datetime import date, datetime, time, timezone
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from portal.models import CalendarDay, Complexity, DeadlineRule, DisputeType
from portal.services.errors import ValidationFailed
from portal.services.queries import reference_list, reference_row
from portal.workdays import DayUnit, deadline

# The speech's local policy (即来即办 / 3 / 10 / 30 days), loaded as the county default rules.
DEFAULT_RULES = {Complexity.SIMPLE: 0, Complexity.GENERAL: 3, Complexity.COMPLEX: 10, Complexity.DIFFICULT: 30}


# Built once: triage and every deadline move read them (kept with the security snapshot, see below).
_CALENDAR = select(CalendarDay.day, CalendarDay.is_workday)
_RULES = select(DeadlineRule.dispute_type_id, DeadlineRule.complexity, DeadlineRule.days, DeadlineRule.unit)


def calendar_overrides() -> dict:
    """Days the center has set by hand (holidays or make-up workdays the package lacks). Kept with the
    request's security snapshot (``queries.reference_list``): every change to the calendar raises the
    security version, so the next request reads it again."""
    return dict(reference_list(("calendar",), lambda session: session.execute(_CALENDAR).all()))


def rule_for(dispute_type_id: int, tier: Complexity):
    """The most specific rule (its ``days`` and ``unit``): the type itself, then its level-1 type, then
    the county default. The rules are kept as the calendar is."""
    kind = reference_row(DisputeType, dispute_type_id)
    covering = (dispute_type_id, kind.parent_id if kind is not None else None, None)
    rules = [rule for rule in reference_list(("deadline_rules",), lambda session: session.execute(_RULES).all())
             if rule.complexity == tier and rule.dispute_type_id in covering]
    if not rules:
        raise ValidationFailed(_l("No deadline rule covers this dispute type and complexity; "
                                  "an administrator must add one."), field="complexity")
    return min(rules, key=lambda r: (r.dispute_type_id != dispute_type_id, r.dispute_type_id is None))


def local_today() -> date:
    """Today in the county's time zone (by the portal's clock)."""
    from portal.clock import utcnow
    return utcnow().replace(tzinfo=timezone.utc).astimezone(ZoneInfo(current_app.config["PORTAL_TIMEZONE"])).date()


def utc_to_local(moment: datetime) -> datetime:
    """A stored (naive UTC) time as the county's wall clock reads it (naive)."""
    zone = ZoneInfo(current_app.config["PORTAL_TIMEZONE"])
    return moment.replace(tzinfo=timezone.utc).astimezone(zone).replace(tzinfo=None)


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


def case_due_at(registered_at: datetime, dispute_type_id: int, tier: Complexity) -> datetime:
    """The end (23:59:59 local) of the last day a case may take, as naive UTC."""
    rule = rule_for(dispute_type_id, tier)
    return legal_due_at(registered_at, rule.days, DayUnit(rule.unit))
