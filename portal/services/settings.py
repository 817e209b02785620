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


def _points(text: str) -> Decimal:
    """A weight or a deduction of the unit scorecards: 0 to 100 points, at most two decimals."""
    value = Decimal(text)
    if not 0 <= value <= 100 or value != value.quantize(Decimal("0.01")):
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
    check: Callable[[str, Any], None] | None = None  # (key, value): a rule over several settings


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

# 考核: the points each rate of a unit's scorecard is worth (a rate of 100% earns them all), and the
# points deducted for each returned case and each supervision card (portal.services.scorecards).
SCORE_RATE_KEYS = ("score_weight_closed", "score_weight_on_time", "score_weight_success",
                   "score_weight_satisfaction")
FORMULA_HELP = _l("Score = closure rate × closure weight + on-time rate × on-time weight + success rate × success "
                  "weight + satisfaction rate × satisfaction weight (each rate from 0 to 1; a rate without cases "
                  "to count is left out and the other weights scaled up to the same total), minus the deductions "
                  "for each returned case and each supervision card.")


def _some_rate_counts(key: str, value: Decimal) -> None:
    others = sum(get_setting(k) for k in SCORE_RATE_KEYS if k != key)
    if value + others <= 0:
        raise ValidationFailed(_l("At least one rate of the scorecards must carry a weight."), field="value")


SETTINGS += [
    SettingDef("score_weight_closed", _l("Scorecards: points for the closure rate"), _points, "10",
               FORMULA_HELP, _some_rate_counts),
    SettingDef("score_weight_on_time", _l("Scorecards: points for the on-time rate"), _points, "40",
               _l("Cases closed by their deadline ÷ cases closed. The four rate weights normally add up to 100."),
               _some_rate_counts),
    SettingDef("score_weight_success", _l("Scorecards: points for the mediation success rate"), _points, "30",
               _l("Cases mediated successfully (written or oral agreement, or settled and withdrawn) ÷ cases "
                  "closed."), _some_rate_counts),
    SettingDef("score_weight_satisfaction", _l("Scorecards: points for the satisfaction rate"), _points, "20",
               _l("Cases whose applicant said at the follow-up visit they were satisfied or basically satisfied "
                  "÷ cases rated (a party who could not be reached is not counted)."),
               _some_rate_counts),
    SettingDef("score_deduct_return", _l("Scorecards: points deducted per returned case"), _points, "2",
               _l("Each time the verifier sent a case back, and each case the unit refused to accept.")),
    SettingDef("score_deduct_card_normal", _l("Scorecards: points deducted per ordinary supervision card"),
               _points, "1"),
    SettingDef("score_deduct_card_yellow", _l("Scorecards: points deducted per yellow card"), _points, "3"),
    SettingDef("score_deduct_card_red", _l("Scorecards: points deducted per red card"), _points, "5"),
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
    """Store one setting's value, checked by its definition; refused (and nothing saved) when it is not valid."""
    definition = SETTING_BY_KEY.get(key)
    if definition is None:
        raise ValidationFailed(_l("Unknown setting."), field="key")
    text = (value or "").strip()
    try:
        parsed = definition.parse(text)
    except (ValueError, InvalidOperation):
        raise ValidationFailed(_l("“%(value)s” is not a valid value for “%(setting)s”."), field="value",
                               value=text, setting=definition.label) from None
    if definition.check is not None:
        definition.check(key, parsed)
    row = db.session.get(PortalSetting, key) or PortalSetting(key=key)
    old = row.value
    row.value, row.updated_at, row.updated_by_id = text, utcnow(), getattr(user, "id", None)
    db.session.add(row)
    audit("setting.change", user=user, key=key, old=old, new=text)
