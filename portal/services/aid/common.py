"""What every branch's steps share: reading the form's values, the person helped, the materials
checklist, the branch's number, amounts, and the supervision of a missed deadline."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any, Callable

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from portal.extensions import db
from portal.models import Branch, Party
from portal.services.deadlines import local_to_utc, local_today
from portal.services.errors import ValidationFailed, required_text
from portal.services.locks import lock_number_series

Step = Callable[[Branch, dict, Any], dict]  # (branch, cleaned form data, user) -> routing data
TRUE = (True, "yes", "y", "1", "true", "on")


def yes(data: dict, field: str) -> bool:
    return data.get(field) in TRUE


def text(data: dict, field: str) -> str:
    return required_text(data.get(field), field)


def optional_text(data: dict, field: str) -> str:
    return (data.get(field) or "").strip()


def money(data: dict, field: str, required: bool = True) -> Decimal | None:
    """A yuan amount with at most two decimals, above zero (None when optional and empty)."""
    value = data.get(field)
    if value in (None, ""):
        if required:
            raise ValidationFailed(_l("Give the amount in yuan."), field=field)
        return None
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        raise ValidationFailed(_l("The amount is not a number."), field=field) from None
    if not amount.is_finite() or amount >= Decimal("1e12"):  # NaN, Infinity, or more than the columns hold
        raise ValidationFailed(_l("The amount is not a number."), field=field)
    if amount <= 0 or amount != amount.quantize(Decimal("0.01")):
        raise ValidationFailed(_l("The amount must be above zero, in yuan with at most two decimals."),
                               field=field)
    return amount


def number(data: dict, field: str, low: int = 0, high: int = 10_000) -> int:
    try:
        value = int(data.get(field))
    except (TypeError, ValueError):
        raise ValidationFailed(_l("Give a whole number."), field=field) from None
    if not low <= value <= high:
        raise ValidationFailed(_l("Give a number from %(low)s to %(high)s."), field=field, low=low, high=high)
    return value


def past_date(data: dict, field: str, not_before: date | None = None) -> date:
    """A date that has come (not in the future), and not before ``not_before``."""
    value = data.get(field)
    if isinstance(value, datetime):
        value = value.date()
    if isinstance(value, str) and value:
        try:
            value = date.fromisoformat(value)
        except ValueError:
            value = None
    if not isinstance(value, date) or value > local_today():
        raise ValidationFailed(_l("Give the date (not a future date)."), field=field)
    if not_before is not None and value < not_before:
        raise ValidationFailed(_l("The date cannot be before %(day)s."), field=field, day=not_before.isoformat())
    return value


def local_to_utc_day(day: date) -> datetime:
    """A day as a moment (noon, local) to store in a naive-UTC column (when money was paid)."""
    return local_to_utc(datetime.combine(day, time(12, 0)))


def party_of(branch: Branch, data: dict, field: str = "party_id") -> Party:
    """The person helped: a party of the branch's case."""
    try:
        party_id = int(data.get(field) or 0)
    except (TypeError, ValueError):
        party_id = 0
    party = db.session.get(Party, party_id) if party_id else None
    if party is None or party.case_id != branch.case_id:
        raise ValidationFailed(_l("Choose the person from the parties of the case."), field=field)
    data[f"{field[:-3]}_name"] = party.name  # kept in the step's record for the history
    return party


def set_person(branch: Branch, party: Party) -> None:
    branch.party_id = party.id
    branch.party = party
    branch.person_key = party.id_number or f"party:{party.id}"


def check_materials(data: dict, required: list[tuple[str, Any]], field: str = "materials") -> list[str]:
    """Every required material must be ticked; otherwise one message lists everything missing."""
    given = set(data.get(field) or [])
    missing = [str(label) for key, label in required if key not in given]
    if missing:
        raise ValidationFailed(_l("The application lacks these materials: %(items)s. Nothing was saved; "
                                  "ask the applicant for all of them at once."), field=field,
                               items="、".join(missing))
    return sorted(given)


def assign_number(branch: Branch, series: str, pattern: str, year: int) -> str:
    """Draw the next number of a series in a year, e.g. pattern "（{year}）援申字第{n}号"."""
    lock_number_series(f"{series}:{year}")
    prefix = pattern.split("{n")[0].format(year=year)
    count = db.session.scalar(select(func.count(Branch.id)).where(Branch.number.like(f"{prefix}%")))
    branch.number = pattern.format(year=year, n=(count or 0) + 1)
    return branch.number


def within_year(day: datetime) -> datetime:
    return day - timedelta(days=365)


def supervise(branch: Branch, data: dict, user=None) -> dict:
    """超期督办: a step of a branch passed its deadline; the director records what was urged."""
    text(data, "note")
    return {}


STEPS: dict[str, Step] = {"aid_supervise": supervise}
