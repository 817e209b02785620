"""The handling form of each unit: the common HandleForm plus the fields of the unit's spec."""
from __future__ import annotations

from flask_appbuilder.fieldwidgets import BS3TextFieldWidget, Select2Widget
from flask_babel import lazy_gettext as _l
from wtforms import DateField, DecimalField, IntegerField, SelectField, StringField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, StopValidation
from wtforms.widgets import DateInput

from portal.forms.steps import HandleForm
from portal.forms.validators import Finite
from portal.services.departments import DeptField, DeptSpec, FieldType

_FORMS: dict[str, type[HandleForm]] = {}


class RequiredForResults:
    """Required only when the form's handling result is one of ``results`` (e.g. a written agreement)."""

    def __init__(self, results):
        self.results = {r.value for r in results}

    def __call__(self, form, field):
        if field.raw_data and "".join(str(v) for v in field.raw_data).strip():
            return
        field.errors[:] = []
        if form.result.data in self.results:
            raise StopValidation(_l("This field is required."))
        raise StopValidation()  # empty and not needed: like Optional()


def _validators(f: DeptField) -> list:
    if f.required:
        first = [DataRequired()] if f.type == FieldType.TEXT else [InputRequired()]
    elif f.required_for:
        first = [RequiredForResults(f.required_for)]
    else:
        first = [Optional()]
    if f.type == FieldType.TEXT:
        return [*first, Length(max=f.max or 200)]
    if f.type in (FieldType.INT, FieldType.MONEY):
        return [*first, NumberRange(min=f.min, max=f.max)]
    return first


def _field(f: DeptField):
    kwargs = {"description": f.help} if f.help else {}
    validators = _validators(f)
    if f.type == FieldType.INT:
        return IntegerField(f.label, validators, widget=BS3TextFieldWidget(), **kwargs)
    if f.type == FieldType.MONEY:
        return DecimalField(f.label, [validators[0], Finite(), *validators[1:]], places=2, widget=BS3TextFieldWidget(),
                            **kwargs)
    if f.type == FieldType.DATE:
        return DateField(f.label, validators, widget=DateInput(), **kwargs)
    if f.type == FieldType.CHOICE:
        return SelectField(f.label, validators, choices=[("", "—"), *f.choices], widget=Select2Widget(), **kwargs)
    return StringField(f.label, validators, widget=BS3TextFieldWidget(), **kwargs)


def handle_form_for(spec: DeptSpec) -> type[HandleForm]:
    """HandleForm with the spec's fields after the common ones (built once per spec)."""
    if not spec.fields:
        return HandleForm
    form_cls = _FORMS.get(spec.key)
    if form_cls is None:
        attrs = {f.name: _field(f) for f in spec.fields}
        form_cls = _FORMS[spec.key] = type(f"HandleForm_{spec.key}", (HandleForm,), attrs)
    return form_cls
