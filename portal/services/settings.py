"""Values administrators set, each with its type, its default and what it means.

Kept as rows of ``portal_setting``; a key without a row has its default. The offices of the
assistance processes are org units, named by their code.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, Callable

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from portal.clock import utcnow
from portal.extensions import db
from portal.models import OrgUnit, PortalSetting
from portal.services._tx import transaction
from portal.services.audit import audit
from portal.services.errors import ValidationFailed


def _money(text: str) -> Decimal:
    value = Decimal(text)
    if value < 0 or value != value.quantize(Decimal("0.01")):
        raise ValueError(text)
    return value


def _months(text: str) -> int:
    value = int(text)
    if not 1 <= value <= 120:
        raise ValueError(text)
    return value


def _unit_code(text: str) -> str:
    if text and db.session.scalar(select(OrgUnit.id).where(OrgUnit.code == text)) is None:
        raise ValueError(text)
    return text


@dataclass(frozen=True)
class SettingDef:
    key: str
    label: Any
    parse: Callable[[str], Any]
    default: str
    help: Any = ""


SETTINGS = [
    SettingDef("judicial_aid_monthly_wage", _l("Province's average monthly wage of last year (yuan)"), _money,
               "7500.00", _l("The base of state judicial aid: an award is generally at most the number of months "
                             "below times this wage.")),
    SettingDef("judicial_aid_cap_months", _l("Judicial aid cap in months of the average wage"), _months, "36"),
    SettingDef("relief_township_limit", _l("Temporary relief a township may approve alone (yuan)"), _money,
               "1000.00", _l("Relief up to this amount is approved by the township (社会救助暂行办法 §48); "
                             "more goes to the county civil-affairs bureau.")),
    SettingDef("relief_emergency_limit", _l("Emergency relief paid first from the reserve fund, at most (yuan)"),
               _money, "3000.00"),
    SettingDef("relief_office", _l("Unit that approves temporary relief (code)"), _unit_code, "",
               _l("The county civil-affairs bureau.")),
    SettingDef("legal_aid_office", _l("Legal aid office (unit code)"), _unit_code, "",
               _l("The legal aid center that reviews applications and assigns lawyers; its justice bureau "
                 "decides objections.")),
    SettingDef("judicial_aid_office", _l("Judicial aid review group (unit code)"), _unit_code, "",
               _l("The political-legal committee's review group (with finance, court, procuratorate, police, "
                 "justice).")),
]
SETTING_BY_KEY = {s.key: s for s in SETTINGS}


def get_setting(key: str) -> Any:
    """The value of a setting, parsed, or its default."""
    definition = SETTING_BY_KEY[key]
    row = db.session.get(PortalSetting, key)
    return definition.parse(row.value if row is not None else definition.default)


def setting_rows() -> list[tuple[SettingDef, str]]:
    stored = dict(db.session.execute(select(PortalSetting.key, PortalSetting.value)).all())
    return [(s, stored.get(s.key, s.default)) for s in SETTINGS]


def office_unit(key: str) -> OrgUnit:
    """The unit a setting names; refused with the setting's name when it is not set."""
    code = get_setting(key)
    unit = db.session.scalar(select(OrgUnit).where(OrgUnit.code == code)) if code else None
    if unit is None:
        raise ValidationFailed(_l("An administrator must first set “%(setting)s” in the settings."),
                               setting=SETTING_BY_KEY[key].label)
    return unit


@transaction
def set_setting(user, key: str, value: str) -> None:
    definition = SETTING_BY_KEY.get(key)
    if definition is None:
        raise ValidationFailed(_l("Unknown setting."), field="key")
    text = (value or "").strip()
    try:
        definition.parse(text)
    except (ValueError, InvalidOperation):
        raise ValidationFailed(_l("“%(value)s” is not a valid value for “%(setting)s”."), field="value",
                               value=text, setting=definition.label) from None
    row = db.session.get(PortalSetting, key) or PortalSetting(key=key)
    old = row.value
    row.value, row.updated_at, row.updated_by_id = text, utcnow(), getattr(user, "id", None)
    db.session.add(row)
    audit("setting.change", user=user, key=key, old=old, new=text)
