"""What goes in and out of the REST API: a JSON body becomes the form data the web page would post (so the
same WTForms classes validate it), form errors become field messages, and cases become JSON."""
from __future__ import annotations

import json
from datetime import datetime, timezone
from decimal import Decimal, InvalidOperation

from flask import request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.datastructures import MultiDict
from wtforms import BooleanField, DecimalField, FieldList, IntegerField, SelectMultipleField
from wtforms.fields.choices import SelectFieldBase

from portal.services.errors import ValidationFailed

LARGEST_NUMBER = Decimal(10) ** 12  # amounts and counts: anything larger is a typing (or a fuzzing) error
PARTY_FIELDS = ("name", "id_number", "phone", "address", "ethnicity", "occupation")
MOST_PARTIES = 10
# intake form field -> the API's name for it (units and types are given by code)
INTAKE_NAMES = {"dispute_type_id": "dispute_type_code", "township_id": "township_code", "village_id": "village_code",
                "accused_unit_id": "accused_unit_code", "parties": "applicants"}
INTAKE_FIELDS = ("title", "dispute_type_code", "township_code", "village_code", "place_kind", "place_detail",
                 "facts", "requests", "amount", "people_count", "source_channel", "route", "accused_unit_code",
                 "applicants", "respondents")

UNKNOWN_FIELD = _l("Not a field of this form.")
WRONG_TYPE = _l("Give text, a number, true or false, or a list of these.")
NOT_A_NUMBER = _l("Give a number smaller than one trillion.")
BAD_TEXT = _l("The text holds characters that cannot be stored (NUL or invalid Unicode).")


class InvalidInputError(ValidationFailed):
    """The request's data breaks the form's rules; ``fields`` maps each field to its messages."""

    message = _l("Please correct the marked fields; nothing was saved.")

    def __init__(self, fields: dict[str, list[str]]):
        self.fields = fields
        super().__init__(self.message)


class BadRequestError(ValidationFailed):
    """The request cannot be read at all (not JSON, not an object, a bad parameter)."""


def json_object() -> dict:
    """The request body as a JSON object, or BadRequestError. Numbers must be finite, text storable."""
    if not request.is_json:
        raise BadRequestError(_l("Send the data as a JSON object (Content-Type: application/json)."))
    try:
        body = json.loads(request.get_data(cache=True) or b"null", parse_constant=_no_constant)
    except (ValueError, RecursionError):
        raise BadRequestError(_l("The request body is not valid JSON.")) from None
    if not isinstance(body, dict):
        raise BadRequestError(_l("The request body must be a JSON object."))
    if not _storable(body):
        raise BadRequestError(BAD_TEXT)
    return body


def _no_constant(name: str):
    raise ValueError(name)  # NaN and Infinity are not JSON


def _storable(body: dict) -> bool:
    """No NUL and no lone surrogate in any text of the body, keys included (walked without recursion: a
    deeply nested body must not exhaust the stack)."""
    stack: list = [body]
    while stack:
        value = stack.pop()
        if isinstance(value, dict):
            stack.extend(value.keys())
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)
        elif isinstance(value, str):
            if "\x00" in value or not value.isascii() and _has_surrogate(value):
                return False
    return True


def _has_surrogate(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _values(value) -> list[str] | None:
    """The form values a JSON value (not null, not false) stands for (None: a type no form field takes)."""
    if value is True:
        return ["y"]
    if isinstance(value, (int, float, str)):
        return [str(value)]
    if isinstance(value, list) and all(isinstance(v, (int, float, str)) and not isinstance(v, bool) for v in value):
        return [str(v) for v in value]
    return None


def _blank(field) -> list[str]:
    """What the page posts for a field left empty: nothing for a box or a list of boxes, else empty text."""
    return [] if isinstance(field, (BooleanField, SelectMultipleField)) else [""]


def _put(field, name: str, value, formdata: MultiDict, errors: dict) -> None:
    """One JSON value into the form data of ``field`` (posted as ``name``), or its error."""
    if value is None or value is False:
        formdata.setlist(name, _blank(field))
        return
    values = _values(value)
    if values is None or (len(values) > 1 and not isinstance(field, SelectMultipleField)):
        errors[name] = [str(WRONG_TYPE)]
    elif not _number_ok(field, values):
        errors[name] = [str(NOT_A_NUMBER)]
    else:
        formdata.setlist(name, values)


def _number_ok(field, values: list[str]) -> bool:
    return not isinstance(field, (IntegerField, DecimalField)) or _finite(values)


def _finite(values: list[str]) -> bool:
    """No number too large to store, nor a non-finite one (a form would take "inf" or fail on "sNaN")."""
    if not values or not values[0].strip():
        return True
    try:
        number = Decimal(values[0].strip())
    except (InvalidOperation, ValueError):
        return True  # not a number at all: the field says so itself
    return number.is_finite() and abs(number) < LARGEST_NUMBER


def formdata_for(form, data: dict) -> tuple[MultiDict, dict[str, list[str]]]:
    """The JSON object's values as the browser would post them to ``form`` (a blank instance of the step's
    form), and the errors of type and unknown fields by field; the form's own rules are checked when the
    form is built on the form data and validated."""
    fields = {f.name: f for f in form if f.name != "csrf_token"}
    errors: dict[str, list[str]] = {}
    formdata = MultiDict()
    for name, value in data.items():
        if name in fields:
            _put(fields[name], name, value, formdata, errors)
        else:
            errors[name] = [str(UNKNOWN_FIELD)]
    return formdata, errors


def with_defaults(formdata: MultiDict, blank) -> MultiDict:
    """Add what the page would post for the fields the request leaves out: the values the form opens with
    (its defaults, the rules' proposals), as a browser posts them unchanged. A field given as null is blank."""
    for field in blank:
        if field.name != "csrf_token" and field.name not in formdata and not isinstance(field, FieldList):
            formdata.setlist(field.name, _shown(field))
    return formdata


def _shown(field) -> list[str]:
    data = field.data
    if isinstance(field, SelectMultipleField):
        return [str(v) for v in data or []]
    if isinstance(field, BooleanField):
        return ["y"] if data else []
    if data is None or data == "":
        return [""]
    if isinstance(field, SelectFieldBase) or not hasattr(field, "_value"):
        return [str(data)]
    return [field._value()]


def merged(form_errors: dict[str, list[str]], errors: dict[str, list[str]]) -> dict[str, list[str]]:
    """The form's errors and those found in reading the request; a field refused on reading (its type, its
    code) is not also reported by the form, nor are the persons of a list refused as a whole."""
    kept = {k: v for k, v in form_errors.items()
            if not any(k == e or k.startswith((f"{e}[", f"{e}.")) for e in errors)}
    return {**kept, **errors}


def form_errors(form, rename: dict[str, str] | None = None) -> dict[str, list[str]]:
    """The form's errors by field, as plain text; entries of a list of sub-forms as ``name[i].field``."""
    rename = rename or {}
    flat: dict[str, list[str]] = {}
    for name, messages in form.errors.items():
        if isinstance(messages, dict):  # a sub-form
            for sub, sub_messages in messages.items():
                flat[f"{name}.{sub}"] = [str(m) for m in sub_messages]
            continue
        for i, entry in enumerate(messages):
            if isinstance(entry, dict):
                for sub, sub_messages in entry.items():
                    flat[f"{name}[{i}].{sub}"] = [str(m) for m in sub_messages]
            elif isinstance(entry, (list, tuple)):
                flat.setdefault(f"{name}[{i}]", []).extend(str(m) for m in entry)
            else:
                flat.setdefault(rename.get(name, name), []).append(str(entry))
    return flat


def intake_formdata(data: dict, codes: dict[str, int | None], blank) -> tuple[MultiDict, dict[str, list[str]]]:
    """The intake form's posted data for a JSON case; ``codes``: each code field -> the id it names
    (None: no such code); ``blank``: the intake form. Returns (form data, errors found on the way)."""
    fields = {f.name: f for f in blank}
    errors: dict[str, list[str]] = {}
    formdata = MultiDict()
    for name, value in data.items():
        if name not in INTAKE_FIELDS:
            errors[name] = [str(UNKNOWN_FIELD)]
        elif name in ("applicants", "respondents"):
            _parties(name, value, formdata, errors)
        elif name.endswith("_code"):
            _code(name, value, codes, formdata, errors)
        else:
            _put(fields[name], name, value, formdata, errors)
    return formdata, errors


def _code(name: str, value, codes: dict[str, int | None], formdata: MultiDict, errors: dict) -> None:
    if value in (None, ""):
        return
    if not isinstance(value, str):
        errors[name] = [str(WRONG_TYPE)]
    elif codes.get(name) is None:
        errors[name] = [_("No such code.")]
    else:
        form_name = next(k for k, v in INTAKE_NAMES.items() if v == name)
        formdata[form_name] = str(codes[name])


def _parties(name: str, value, formdata: MultiDict, errors: dict) -> None:
    if not isinstance(value, list) or not all(isinstance(p, dict) for p in value):
        errors[name] = [_("Give a list of persons, each an object.")]
        return
    if len(value) > MOST_PARTIES:
        errors[name] = [_("At most %(n)s persons.", n=MOST_PARTIES)]
        return
    for i, person in enumerate(value):
        for key in PARTY_FIELDS:  # the page posts every box of a person, empty or not
            formdata.setlist(f"{name}-{i}-{key}", [""])
        for key, item in person.items():
            values = [""] if item is None or item is False else _values(item)
            if key not in PARTY_FIELDS:
                errors[f"{name}[{i}].{key}"] = [str(UNKNOWN_FIELD)]
            elif values is None or len(values) > 1:
                errors[f"{name}[{i}].{key}"] = [str(WRONG_TYPE)]
            else:
                formdata.setlist(f"{name}-{i}-{key}", values)


def codes_of(data: dict) -> dict[str, str]:
    """The code fields of a JSON case that are given as text."""
    return {k: v for k, v in data.items() if k.endswith("_code") and k in INTAKE_FIELDS and isinstance(v, str) and v}


def iso(moment: datetime | None) -> str | None:
    """A stored (naive UTC) time as ISO 8601 with its offset."""
    return moment.replace(tzinfo=timezone.utc).isoformat().replace("+00:00", "Z") if moment else None


def parse_time(text: str) -> datetime:
    """An ISO 8601 time (with an offset; without one it is UTC) as naive UTC, or BadRequestError."""
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise BadRequestError(_l("changed_since is not an ISO 8601 time, e.g. 2026-05-01T08:00:00+08:00.")) \
            from None
    if moment.tzinfo is not None:
        try:
            moment = moment.astimezone(timezone.utc).replace(tzinfo=None)
        except OverflowError:
            raise BadRequestError(_l("changed_since is not an ISO 8601 time, e.g. 2026-05-01T08:00:00+08:00.")) \
                from None
    return moment


def unit_json(unit) -> dict | None:
    return {"code": unit.code, "name": unit.name} if unit is not None else None


def task_json(item, can_complete: bool) -> dict:
    return {"id": item.id, "name": item.name, "step": item.bpmn_id, "form_key": item.form_key,
            "kind": item.kind.value, "unit": unit_json(item.org_unit), "created_at": iso(item.created_at),
            "due_at": iso(item.due_at), "claimed": item.claimed_by_id is not None, "can_complete": can_complete}


def case_summary(case) -> dict:
    return {"code": case.code, "title": case.title, "status": case.status.value, "status_label": str(case.status.label),
            "current_step": case.current_step, "township": unit_json(case.township),
            "assigned_unit": unit_json(case.assigned_unit), "due_at": iso(case.due_at),
            "registered_at": iso(case.registered_at), "updated_at": iso(case.updated_at),
            "closed_at": iso(case.closed_at)}


def case_json(case, tasks: list[dict], documents) -> dict:
    return {**case_summary(case),
            "dispute_type": {"code": case.dispute_type.code, "name": case.dispute_type.name},
            "village": unit_json(case.village), "source_channel": case.source_channel.value,
            "route": case.route.value, "paused": case.paused_since is not None, "open_tasks": tasks,
            "documents": [{"key": d.spec.key, "title": d.spec.title, "available": d.applies} for d in documents]}


def field_json(field) -> dict:
    """One field of a step's form, for a client that fills it in."""
    choices = getattr(field, "choices", None)
    if callable(choices):
        choices = choices()
    listed = None
    if isinstance(choices, dict):  # grouped choices
        listed = [{"value": str(v), "label": str(label), "group": str(group)}
                  for group, options in choices.items() for v, label, *_rest in options]
    elif choices is not None:
        listed = [{"value": str(v), "label": str(label)} for v, label, *_rest in choices]
    required = any(getattr(v, "field_flags", {}).get("required") for v in field.validators)
    return {"name": field.name, "label": str(field.label.text), "type": field.type, "required": bool(required),
            "multiple": isinstance(field, SelectMultipleField), "description": str(field.description or ""),
            "choices": listed}
