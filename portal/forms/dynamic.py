"""WTForms classes built from the forms administrators define (``FormDefinition``), with the widgets and
validators of the shipped forms, so both kinds render and validate the same way."""
from __future__ import annotations

import threading

from flask_appbuilder.fieldwidgets import BS3TextAreaFieldWidget, BS3TextFieldWidget, Select2Widget
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    DateTimeLocalField,
    DecimalField,
    IntegerField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional
from wtforms.widgets import DateInput

from portal.forms.aid.common import CheckboxList
from portal.forms.validators import Finite
from portal.models import FormDefinition
from portal.services.formdefs import definition_for, spec_of
from portal.services.formspecs import FieldType, FormField, FormSpec

# (id, key, updated_at, lock_version) -> class; an edit gives a new entry and drops the old one.
_BUILT: dict[tuple, type[FlaskForm]] = {}
_BUILDING = threading.Lock()


def _first(f: FormField, text: bool = False) -> list:
    """Required text must hold more than blanks (DataRequired); a required number, date or choice must be
    given (InputRequired: 0 and "no" are answers); an optional field stops its checks when empty."""
    if not f.required:
        return [Optional()]
    return [DataRequired()] if text else [InputRequired()]


def _bounds(f: FormField) -> list:
    if f.min is None and f.max is None:
        return []
    number = int if f.type == FieldType.INTEGER else float
    return [NumberRange(min=None if f.min is None else number(f.min),
                        max=None if f.max is None else number(f.max))]


def _choices(f: FormField, blank: bool) -> list[tuple[str, str]]:
    return ([("", "—")] if blank else []) + list(f.choices)


def build_field(f: FormField):
    """The WTForms field of one defined field."""
    kwargs = {"description": f.help} if f.help else {}
    if f.type == FieldType.TEXT:
        return StringField(f.label, [*_first(f, text=True), Length(max=f.longest)], widget=BS3TextFieldWidget(),
                           **kwargs)
    if f.type == FieldType.TEXTAREA:
        return TextAreaField(f.label, [*_first(f, text=True), Length(max=f.longest)],
                             widget=BS3TextAreaFieldWidget(), **kwargs)
    if f.type == FieldType.INTEGER:
        return IntegerField(f.label, [*_first(f), *_bounds(f)], widget=BS3TextFieldWidget(), **kwargs)
    if f.type == FieldType.DECIMAL:
        return DecimalField(f.label, [*_first(f), Finite(), *_bounds(f)], widget=BS3TextFieldWidget(), **kwargs)
    if f.type == FieldType.DATE:
        return DateField(f.label, _first(f), widget=DateInput(), **kwargs)
    if f.type == FieldType.DATETIME:
        return DateTimeLocalField(f.label, _first(f), format="%Y-%m-%dT%H:%M", **kwargs)
    if f.type == FieldType.SELECT:   # like the shipped choice fields: an optional list opens empty
        return SelectField(f.label, _first(f), choices=_choices(f, blank=not f.required), widget=Select2Widget(),
                           **kwargs)
    if f.type == FieldType.RADIO:
        return RadioField(f.label, _first(f), choices=_choices(f, blank=False), **kwargs)
    if f.type == FieldType.CHECKBOX:  # required: the box must be ticked (a confirmation)
        return BooleanField(f.label, [DataRequired()] if f.required else [], **kwargs)
    return CheckboxList(f.label, [DataRequired()] if f.required else [Optional()], choices=_choices(f, blank=False),
                        **kwargs)


def form_for_spec(spec: FormSpec, name: str | None = None) -> type[FlaskForm]:
    """A FlaskForm class with one field per defined field, in the definition's order."""
    attrs = {f.name: build_field(f) for f in spec.fields}
    return type(name or f"DefinedForm_{spec.key}", (FlaskForm,), attrs)


def build_form(definition: FormDefinition) -> type[FlaskForm]:
    """The form class of a stored definition, built once per version of it."""
    cache_key = (definition.id, definition.key, definition.updated_at, definition.lock_version)
    form_cls = _BUILT.get(cache_key)
    if form_cls is None:
        with _BUILDING:
            for old in [k for k in _BUILT if k[0] == definition.id or k[1] == definition.key]:
                del _BUILT[old]
            form_cls = _BUILT[cache_key] = form_for_spec(spec_of(definition))
    return form_cls


def stored_form(form_key: str) -> type[FlaskForm] | None:
    """The built class of the stored definition of ``form_key``, or None."""
    definition = definition_for(form_key)
    return build_form(definition) if definition is not None else None
