"""The editor of a defined form: key, title, description, and the fields as JSON (the field table of the
page fills it; the service checks the whole definition)."""
from __future__ import annotations

import json

from flask_appbuilder.fieldwidgets import BS3TextAreaFieldWidget, BS3TextFieldWidget
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, StringField, TextAreaField

from portal.services.formspecs import CHOICE_TYPES, NUMBER_TYPES, TEXT_TYPES, TYPE_LABELS, FieldType


class FormDefinitionForm(FlaskForm):
    key = StringField(_l("Key"), widget=BS3TextFieldWidget(),
                      description=_l("What a user task names as its form key in the diagram: a small letter, then "
                                     "small letters, digits or _, e.g. site_visit. It cannot be changed later."))
    title = StringField(_l("Form title"), widget=BS3TextFieldWidget())
    description = TextAreaField(_l("Description"), widget=BS3TextAreaFieldWidget(),
                                description=_l("What the form is for (shown to administrators)."))
    fields = HiddenField()
    lock_version = HiddenField()


def _choice_lines(choices) -> str:
    lines = []
    for item in choices if isinstance(choices, list) else []:
        if isinstance(item, list | tuple) and item:
            value, label = str(item[0]), str(item[1]) if len(item) > 1 else ""
            lines.append(f"{value}|{label}" if label and label != value else value)
        elif isinstance(item, str):
            lines.append(item)
    return "\n".join(lines)


def editor_rows(fields_json: str | None) -> list[dict]:
    """The rows of the field table, from the fields as stored or as the page sent them."""
    try:
        raw = json.loads(fields_json or "[]")
    except ValueError:
        raw = []
    rows = []
    for f in raw if isinstance(raw, list) else []:
        if isinstance(f, dict):
            rows.append({"name": f.get("name") or "", "label": f.get("label") or "", "type": f.get("type") or "",
                         "required": bool(f.get("required")), "choices": _choice_lines(f.get("choices")),
                         "help": f.get("help") or "", "min": "" if f.get("min") is None else f.get("min"),
                         "max": "" if f.get("max") is None else f.get("max"),
                         "max_length": f.get("max_length") or ""})
    return rows


def type_options() -> list[tuple[str, str, str]]:
    """(value, label, what the type takes: choices, number, text or nothing) for the type selects."""
    def takes(t: FieldType) -> str:
        return "choices" if t in CHOICE_TYPES else "number" if t in NUMBER_TYPES else "text" if t in TEXT_TYPES \
            else ""
    return [(t.value, str(TYPE_LABELS[t]), takes(t)) for t in FieldType]
