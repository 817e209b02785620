"""Forms as data: the fields of a form an administrator defines, the check of a definition before it is
stored, and the check of a step's values against it.

The browser form is built from the same fields (``portal.forms.dynamic``), but a step never trusts it:
``clean_values`` checks every value again (required, type, choices, bounds) and gives the routing data,
JSON-safe, that the workflow's gateways decide on.
"""
from __future__ import annotations

import builtins
import json
import keyword
import re
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from enum import Enum
from typing import Any

from flask_babel import lazy_gettext as _l

from portal.services.errors import ValidationFailed


class FieldType(Enum):
    TEXT = "text"
    TEXTAREA = "textarea"
    INTEGER = "integer"
    DECIMAL = "decimal"
    DATE = "date"
    DATETIME = "datetime"            # local wall-clock time, to the minute
    SELECT = "select"
    RADIO = "radio"
    CHECKBOX = "checkbox"            # one box: ticked or not (required: must be ticked)
    MULTI_CHECKBOX = "multi_checkbox"


TYPE_LABELS = {
    FieldType.TEXT: _l("Text (one line)"), FieldType.TEXTAREA: _l("Text (several lines)"),
    FieldType.INTEGER: _l("Whole number"), FieldType.DECIMAL: _l("Number with decimals"),
    FieldType.DATE: _l("Date"), FieldType.DATETIME: _l("Date and time"), FieldType.SELECT: _l("List (choose one)"),
    FieldType.RADIO: _l("Buttons (choose one)"), FieldType.CHECKBOX: _l("Tick box"),
    FieldType.MULTI_CHECKBOX: _l("Tick boxes (choose several)"),
}
CHOICE_TYPES = (FieldType.SELECT, FieldType.RADIO, FieldType.MULTI_CHECKBOX)
NUMBER_TYPES = (FieldType.INTEGER, FieldType.DECIMAL)
TEXT_TYPES = (FieldType.TEXT, FieldType.TEXTAREA)
TEXT_MAX = {FieldType.TEXT: 200, FieldType.TEXTAREA: 5000}   # the longest text when the definition gives none
LONGEST_TEXT = 10000
MAX_FIELDS = 60

KEY_PATTERN = re.compile(r"^[a-z][a-z0-9_]{2,40}$")
NAME_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,40}$")
# Variables the shipped processes set or decide on: a field of that name would overwrite them in the
# workflow data (tests/services/test_formspecs.py checks the diagrams name no other).
ROUTING_NAMES = frozenset({
    "dispute_type", "township", "amount", "people_count", "source_channel", "route", "proposed_complexity",
    "proposed_risk", "proposed_lead", "complexity", "risk_level", "resolution_mode", "escalate", "assigned_unit_id",
    "cooperating_unit_ids", "consult_unit", "consult_reply", "consult_replies", "accepted", "handling_result",
    "pre_suit_settled", "court_filed", "fulfilment", "followup_delay", "applicant_satisfaction",
    "respondent_satisfaction", "verify_passed", "closing_type", "township_unit", "center_unit", "relief_office_unit",
    "legal_aid_office_unit", "judicial_aid_office_unit", "case_organ_unit", "approved", "confirmed", "decision",
    "democratic_review", "emergency", "followup_interval", "granted", "hardship_confirmed", "needs_county",
    "notice_until", "organ_supports", "resolved", "township_agrees", "upheld"})
# Names the expressions of a diagram use besides task data (portal.bpmn.sandbox).
EXPRESSION_NAMES = frozenset({"date", "timedelta", "workdays_after", "days_after"})
# Attributes of a WTForms form: a field of that name would hide them (checked in the tests).
FORM_ATTRIBUTES = frozenset({"data", "errors", "form_errors", "meta", "process", "populate_obj", "validate",
                             "validate_on_submit", "is_submitted", "hidden_tag", "csrf_token", "prepare",
                             "post_process", "set_choices", "extra_validators"})
RESERVED_NAMES = (frozenset(keyword.kwlist) | frozenset(n for n in dir(builtins) if n.islower())
                  | ROUTING_NAMES | EXPRESSION_NAMES | FORM_ATTRIBUTES)


@dataclass(frozen=True)
class FormField:
    name: str
    label: str
    type: FieldType
    required: bool = False
    choices: tuple[tuple[str, str], ...] = ()
    help: str = ""
    min: Decimal | None = None
    max: Decimal | None = None
    max_length: int | None = None

    @property
    def longest(self) -> int:
        return self.max_length or TEXT_MAX.get(self.type, 200)

    def as_json(self) -> dict[str, Any]:
        number = int if self.type == FieldType.INTEGER else float
        return {"name": self.name, "label": self.label, "type": self.type.value, "required": self.required,
                "choices": [list(c) for c in self.choices], "help": self.help,
                "min": None if self.min is None else number(self.min),
                "max": None if self.max is None else number(self.max), "max_length": self.max_length}


@dataclass(frozen=True)
class FormSpec:
    key: str
    title: str
    description: str
    fields: tuple[FormField, ...]


class DefinitionInvalidError(ValidationFailed):
    """A form definition that cannot be stored; ``problems``: every problem found, in words."""

    def __init__(self, problems: list):
        self.problems = [str(p) for p in problems]
        super().__init__(_l("The form was not saved: %(problems)s"), problems="；".join(self.problems))


# -- reading and checking a definition ----------------------------------------------------------------

def _text(value) -> str:
    return value.strip() if isinstance(value, str) else ""


def _choices(raw) -> list[tuple[str, str]]:
    """Choices as pairs: from ["value|label", …] or [[value, label], …] (a bare value is its own label)."""
    pairs = []
    for item in raw if isinstance(raw, list) else []:
        if isinstance(item, str):
            value, _sep, label = item.partition("|")
        elif isinstance(item, list | tuple) and item:
            value, label = str(item[0]), str(item[1]) if len(item) > 1 else ""
        else:
            continue
        if value.strip():
            pairs.append((value.strip(), label.strip() or value.strip()))
    return pairs


def _bound(raw, kind: FieldType, label, problems: list) -> Decimal | None:
    if raw in (None, ""):
        return None
    try:
        number = Decimal(str(raw).strip())
        if not number.is_finite() or isinstance(raw, bool):
            raise InvalidOperation
    except (InvalidOperation, ValueError):
        problems.append(_l("Field %(name)s: the lowest and highest values must be numbers.", name=label))
        return None
    if kind == FieldType.INTEGER and number != number.to_integral_value():
        problems.append(_l("Field %(name)s: the lowest and highest values of a whole number must be whole.",
                           name=label))
    return number


def _max_length(raw, label, problems: list) -> int | None:
    if raw in (None, ""):
        return None
    try:
        length = int(str(raw).strip())
    except ValueError:
        length = 0
    if not 1 <= length <= LONGEST_TEXT or isinstance(raw, bool):
        problems.append(_l("Field %(name)s: the longest text must be a whole number from 1 to %(max)s.",
                           name=label, max=LONGEST_TEXT))
        return None
    return length


def _field(raw: dict, row: int, problems: list) -> FormField | None:
    name = _text(raw.get("name"))
    shown = name or str(row)
    if not NAME_PATTERN.match(name):
        problems.append(_l("Field %(row)s: the name must begin with a small letter and hold only small letters, "
                           "digits and _ (at most 41), e.g. visit_date.", row=row))
    elif name in RESERVED_NAMES:
        problems.append(_l("Field %(name)s: the name is reserved (the portal or the process conditions use it); "
                           "choose another.", name=name))
    label = _text(raw.get("label"))
    if not label or len(label) > 200:
        problems.append(_l("Field %(name)s: give a label (at most 200 characters).", name=shown))
    try:
        kind = FieldType(raw.get("type"))
    except ValueError:
        problems.append(_l("Field %(name)s: choose a type.", name=shown))
        return None
    choices = _choices(raw.get("choices")) if kind in CHOICE_TYPES else []
    if kind in CHOICE_TYPES and not choices:
        problems.append(_l("Field %(name)s: a field to choose from needs its choices, one per line as value|label.",
                           name=shown))
    values = [value for value, _label in choices]
    for value in sorted({v for v in values if values.count(v) > 1}):
        problems.append(_l("Field %(name)s: the choice %(value)s is given twice.", name=shown, value=value))
    if any(len(v) > 60 or len(lab) > 200 for v, lab in choices):
        problems.append(_l("Field %(name)s: a choice's value is at most 60 characters and its label at most 200.",
                           name=shown))
    low = _bound(raw.get("min"), kind, shown, problems) if kind in NUMBER_TYPES else None
    high = _bound(raw.get("max"), kind, shown, problems) if kind in NUMBER_TYPES else None
    if low is not None and high is not None and low > high:
        problems.append(_l("Field %(name)s: the lowest value is above the highest.", name=shown))
    length = _max_length(raw.get("max_length"), shown, problems) if kind in TEXT_TYPES else None
    help_text = _text(raw.get("help"))
    if len(help_text) > 500:
        problems.append(_l("Field %(name)s: the help text is at most 500 characters.", name=shown))
    return FormField(name, label, kind, bool(raw.get("required")), tuple(choices), help_text, low, high, length)


def read_fields(fields_json: str | list) -> tuple[list[FormField], list]:
    """The fields of a definition (from its JSON) and the problems found in them."""
    try:
        raw = json.loads(fields_json) if isinstance(fields_json, str) else fields_json
    except ValueError:
        raw = None
    if not isinstance(raw, list) or not all(isinstance(f, dict) for f in raw):
        return [], [_l("The fields could not be read; reload the page and try again.")]
    problems: list = []
    if not raw:
        problems.append(_l("Add at least one field."))
    if len(raw) > MAX_FIELDS:
        problems.append(_l("A form holds at most %(n)s fields.", n=MAX_FIELDS))
    fields = [f for i, r in enumerate(raw, 1) if (f := _field(r, i, problems)) is not None]
    names = [f.name for f in fields if f.name]
    for name in sorted({n for n in names if names.count(n) > 1}):
        problems.append(_l("The field name %(name)s is used twice.", name=name))
    return fields, problems


def check_definition(key: str, title: str, description: str, fields_json: str | list,
                     shipped_keys: set[str]) -> FormSpec:
    """The definition as a FormSpec, or DefinitionInvalidError listing every problem."""
    problems: list = []
    key = _text(key)
    if not KEY_PATTERN.match(key):
        problems.append(_l("The key must be 3 to 41 characters: a small letter, then small letters, digits or _ "
                           "(e.g. site_visit)."))
    elif key in shipped_keys:
        problems.append(_l("The key %(key)s is the key of a form the portal ships; choose another.", key=key))
    title = _text(title)
    if not title or len(title) > 200:
        problems.append(_l("Give the form a title (at most 200 characters)."))
    fields, field_problems = read_fields(fields_json)
    problems.extend(field_problems)
    if problems:
        raise DefinitionInvalidError(problems)
    return FormSpec(key, title, _text(description), tuple(fields))


def spec_from_row(key: str, title: str, description: str | None, fields_json: str) -> FormSpec:
    """A stored definition as a FormSpec (it was checked when saved; a field that no longer reads is left out)."""
    fields, _problems = read_fields(fields_json)
    return FormSpec(key, title, description or "", tuple(fields))


def fields_json(fields) -> str:
    return json.dumps([f.as_json() for f in fields], ensure_ascii=False)


# -- checking a step's values ---------------------------------------------------------------------------

def _failed(message, f: FormField, **params) -> ValidationFailed:
    return ValidationFailed(message, field=f.name, label=f.label, **params)


def _empty(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip()) or \
        (isinstance(value, list | tuple) and not [v for v in value if str(v).strip()])


def _plain(number: Decimal) -> str:
    return format(number.normalize(), "f")


def _number(f: FormField, value):
    try:
        if isinstance(value, bool):
            raise ValueError
        number = Decimal(str(value).strip())
        if not number.is_finite() or (f.type == FieldType.INTEGER and number != number.to_integral_value()):
            raise ValueError
    except (ValueError, InvalidOperation):
        message = _l("%(label)s: give a whole number.") if f.type == FieldType.INTEGER \
            else _l("%(label)s: give a number, e.g. 12.5.")
        raise _failed(message, f) from None
    if f.min is not None and number < f.min:
        raise _failed(_l("%(label)s: must be at least %(min)s."), f, min=_plain(f.min))
    if f.max is not None and number > f.max:
        raise _failed(_l("%(label)s: must be at most %(max)s."), f, max=_plain(f.max))
    return int(number) if f.type == FieldType.INTEGER else float(number)


def _moment(f: FormField, value) -> str:
    try:
        if f.type == FieldType.DATE:
            day = value.date() if isinstance(value, datetime) else value
            return (day if isinstance(day, date) else date.fromisoformat(str(value).strip())).isoformat()
        moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value).strip())
        return moment.replace(second=0, microsecond=0, tzinfo=None).isoformat(timespec="minutes")
    except ValueError:
        message = _l("%(label)s: give a date (YYYY-MM-DD).") if f.type == FieldType.DATE \
            else _l("%(label)s: give a date and time (YYYY-MM-DD HH:MM).")
        raise _failed(message, f) from None


def _value(f: FormField, value) -> Any:
    """One non-empty value as the step records it (JSON-safe), or a ValidationFailed naming the field."""
    if f.type in TEXT_TYPES:
        text = str(value).strip()
        if len(text) > f.longest:
            raise _failed(_l("%(label)s: at most %(max)s characters."), f, max=f.longest)
        return text
    if f.type in NUMBER_TYPES:
        return _number(f, value)
    if f.type in (FieldType.DATE, FieldType.DATETIME):
        return _moment(f, value)
    allowed = {v for v, _label in f.choices}
    if f.type == FieldType.MULTI_CHECKBOX:
        chosen = [str(v) for v in (value if isinstance(value, list | tuple) else [value]) if str(v).strip()]
        if any(v not in allowed for v in chosen):
            raise _failed(_l("%(label)s: choose a valid value."), f)
        return [v for v, _label in f.choices if v in chosen]    # in the form's order, once each
    if str(value) not in allowed:
        raise _failed(_l("%(label)s: choose a valid value."), f)
    return str(value)


_TICKED = (True, "y", "yes", "on", "1", "true")


def clean_values(spec: FormSpec, data: dict[str, Any]) -> dict[str, Any]:
    """Check ``data`` against the form's fields (required, type, choices, bounds): the first problem raises
    ValidationFailed naming the field. Returns every field's value, JSON-safe (dates as ISO text, decimals as
    float; an empty field is None, an unticked box False, no choice []), and puts them in ``data``."""
    values: dict[str, Any] = {}
    for f in spec.fields:
        raw = data.get(f.name)
        if f.type == FieldType.CHECKBOX:
            ticked = raw in _TICKED or (isinstance(raw, str) and raw.strip().lower() in _TICKED)
            if f.required and not ticked:
                raise _failed(_l("%(label)s: this field is required."), f)
            values[f.name] = ticked
        elif _empty(raw):
            if f.required:
                raise _failed(_l("%(label)s: this field is required."), f)
            values[f.name] = [] if f.type == FieldType.MULTI_CHECKBOX else None
        else:
            values[f.name] = _value(f, raw)
    data.update(values)
    return values
