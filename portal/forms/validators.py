"""Field validators (with messages in the user's language) and input coercions."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms.validators import ValidationError

from portal.idcard import is_valid_id_number, is_valid_phone


class IdNumber:
    """A GB 11643 resident ID number: 18 characters, real birth date, right check digit."""

    def __call__(self, form, field):
        value = (field.data or "").strip().upper()
        if value and not is_valid_id_number(value):
            raise ValidationError(_l("Not a valid ID number: check the 18 characters and the last (check) digit."))


class Phone:
    """A mainland mobile (11 digits) or a landline with area code."""

    def __call__(self, form, field):
        value = (field.data or "").strip()
        if value and not is_valid_phone(value):
            raise ValidationError(_l("Not a valid phone number: 11-digit mobile or area code plus number."))


def int_or_none(value):
    """Coerce of an optional select of ids: empty means none chosen."""
    return int(value) if value not in (None, "", "None") else None


class Finite:
    """A number the columns can hold: not NaN or infinite, less than a trillion (checked before any
    range check, which a NaN would break)."""

    def __call__(self, form, field):
        from decimal import Decimal

        from wtforms.validators import StopValidation
        value = field.data
        if isinstance(value, Decimal) and (not value.is_finite() or abs(value) >= Decimal("1e12")):
            field.errors[:] = []
            raise StopValidation(_l("Not a number."))


def grouped_types(dispute_types) -> dict[str, list]:
    """Second-level dispute types under their first-level name (a grouped select)."""
    groups: dict[str, list] = {}
    for t in dispute_types:
        if t.parent is not None:
            groups.setdefault(t.parent.name, []).append((t.id, t.name))
    return groups


def villages_by_township(townships, villages, none_choice) -> dict[str, list]:
    """Villages under their township's name, after ``none_choice`` (the "no village" option)."""
    names = {t.id: t.name for t in townships}
    by_town: dict[str, list] = {}
    for v in villages:
        by_town.setdefault(names.get(v.parent_id, "-"), []).append((v.id, v.name))
    return {"": [none_choice], **by_town}
