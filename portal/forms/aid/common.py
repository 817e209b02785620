"""Fields and helpers the branch forms share."""
from __future__ import annotations

from flask_appbuilder.fieldwidgets import BS3TextAreaFieldWidget, BS3TextFieldWidget, Select2Widget
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, DecimalField, RadioField, SelectField, SelectMultipleField, TextAreaField, widgets
from wtforms.validators import DataRequired, InputRequired, NumberRange, Optional

from portal.forms.validators import Finite, int_or_none


class CheckboxList(SelectMultipleField):
    """A checklist (the materials handed in): one box per choice."""

    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


def person_field(label=None) -> SelectField:
    return SelectField(label or _l("Person applying"), [InputRequired()], coerce=int_or_none, choices=[],
                       validate_choice=False, widget=Select2Widget())


def money_field(label, required: bool = True, description=None) -> DecimalField:
    checks = [InputRequired() if required else Optional(), Finite(), NumberRange(min=0.01)]
    return DecimalField(label, checks, places=2, widget=BS3TextFieldWidget(), description=description,
                        render_kw={"type": "number", "step": "0.01", "min": "0.01"})


def date_field(label) -> DateField:
    return DateField(label, [InputRequired()], widget=widgets.DateInput())


def text_area(label, required: bool = True, description=None) -> TextAreaField:
    return TextAreaField(label, [DataRequired()] if required else [Optional()], widget=BS3TextAreaFieldWidget(),
                         description=description)


def choice_field(label, choices: dict, required: bool = True) -> SelectField:
    return SelectField(label, [InputRequired()] if required else [Optional()],
                       choices=([] if required else [("", "—")]) + [(k, v) for k, v in choices.items()],
                       widget=Select2Widget())


def text_field(label, required: bool = True, description=None):
    from wtforms import StringField
    from wtforms.validators import Length
    return StringField(label, [DataRequired() if required else Optional(), Length(max=200)],
                       widget=BS3TextFieldWidget(), description=description)


def decision_field(label, yes_label=None, no_label=None) -> RadioField:
    """A yes/no that must be answered (an unticked box must not decide a refusal)."""
    return RadioField(label, [InputRequired()], choices=[("yes", yes_label or _l("Yes")),
                                                         ("no", no_label or _l("No"))])


class BranchForm(FlaskForm):
    """A step of a branch; ``prepare`` fills the choices that depend on the case."""

    def prepare(self, case, branch) -> None:
        if hasattr(self, "party_id"):
            self.party_id.choices = [(p.id, f"{p.name}（{p.kind.label}）") for p in case.parties]


class SuperviseForm(BranchForm):
    note = text_area(_l("Supervision note"), description=_l("Whom you urged, and by when the step will be done."))
