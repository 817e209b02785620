"""The one-window intake form (一窗受理)."""
from __future__ import annotations

from flask_appbuilder.fieldwidgets import BS3TextAreaFieldWidget, BS3TextFieldWidget, Select2Widget
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.i18n import translations
from wtforms import DecimalField, FieldList, Form, FormField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from portal.forms.validators import Finite, IdNumber, Phone, grouped_types, int_or_none, villages_by_township
from portal.models import LawfulChannel, PlaceKind, SourceChannel


class _PersonForm(Form):
    """A person's boxes (a sub-form): its messages in the user's language, as the page's own form's are."""

    class Meta:
        def get_translations(self, form):
            return translations


class ApplicantForm(_PersonForm):
    name = StringField(_l("Full name"), [DataRequired(), Length(max=50)], widget=BS3TextFieldWidget())
    id_number = StringField(_l("ID number"), [DataRequired(), IdNumber()], widget=BS3TextFieldWidget())
    phone = StringField(_l("Phone"), [DataRequired(), Phone()], widget=BS3TextFieldWidget())
    address = StringField(_l("Address"), [Optional(), Length(max=200)], widget=BS3TextFieldWidget())
    ethnicity = StringField(_l("Ethnicity"), [Optional(), Length(max=20)], widget=BS3TextFieldWidget())
    occupation = StringField(_l("Occupation or post, employer"), [Optional(), Length(max=100)],
                             widget=BS3TextFieldWidget())


class RespondentForm(_PersonForm):
    name = StringField(_l("Full name"), [DataRequired(), Length(max=50)], widget=BS3TextFieldWidget())
    id_number = StringField(_l("ID number"), [Optional(), IdNumber()], widget=BS3TextFieldWidget())
    phone = StringField(_l("Phone"), [Optional(), Phone()], widget=BS3TextFieldWidget())
    address = StringField(_l("Address"), [Optional(), Length(max=200)], widget=BS3TextFieldWidget())
    ethnicity = StringField(_l("Ethnicity"), [Optional(), Length(max=20)], widget=BS3TextFieldWidget())
    occupation = StringField(_l("Occupation or post, employer"), [Optional(), Length(max=100)],
                             widget=BS3TextFieldWidget())


class IntakeForm(FlaskForm):
    """Who, what, where and how the dispute came in."""

    applicants = FieldList(FormField(ApplicantForm), label=_l("Applicants"), min_entries=1, max_entries=10)
    respondents = FieldList(FormField(RespondentForm), label=_l("Respondents"), min_entries=1, max_entries=10)
    title = StringField(_l("Subject"), [DataRequired(), Length(max=200)], widget=BS3TextFieldWidget(),
                        description=_l("One line naming the dispute, e.g. 张某与李某宅基地边界纠纷"))
    dispute_type_id = SelectField(_l("Dispute type"), [InputRequired()], coerce=int, widget=Select2Widget())
    township_id = SelectField(_l("Township"), [InputRequired()], coerce=int, widget=Select2Widget())
    village_id = SelectField(_l("Village"), [Optional()], coerce=int, widget=Select2Widget())
    place_kind = SelectField(_l("Place"), [InputRequired()], choices=PlaceKind.choices(), widget=Select2Widget())
    place_detail = StringField(_l("Place details"), [Optional(), Length(max=200)], widget=BS3TextFieldWidget())
    facts = TextAreaField(_l("Facts"), [DataRequired()], widget=BS3TextAreaFieldWidget())
    requests = TextAreaField(_l("Requests"), [DataRequired()], widget=BS3TextAreaFieldWidget())
    amount = DecimalField(_l("Amount involved (yuan)"), [Optional(), Finite(), NumberRange(min=0)], places=2,
                          widget=BS3TextFieldWidget())
    people_count = IntegerField(_l("People involved"), [InputRequired(), NumberRange(min=1, max=100000)],
                                default=2, widget=BS3TextFieldWidget())
    source_channel = SelectField(_l("Source channel"), [InputRequired()], choices=SourceChannel.choices(),
                                 widget=Select2Widget())
    route = SelectField(_l("Lawful channel"), [InputRequired()], choices=LawfulChannel.choices(),
                        default=LawfulChannel.MEDIATION.value, widget=Select2Widget(),
                        description=_l("Matters the law gives to a court, arbitration, administrative review "
                                       "or the petition procedure go there first; the rest to mediation."))
    accused_unit_id = SelectField(_l("Unit accused (检举控告)"), [Optional()], coerce=int_or_none,
                                  widget=Select2Widget(),
                                  description=_l("When the matter accuses a public body, name it: it will never "
                                                 "see this case."))

    def set_choices(self, dispute_types, townships, villages, accusable=()) -> None:
        """Fill the select boxes from the county's data (grouped, as the staff read them)."""
        self.dispute_type_id.choices = grouped_types(dispute_types)
        self.township_id.choices = [(t.id, t.name) for t in townships]
        self.village_id.choices = villages_by_township(townships, villages, (0, "—"))
        self.accused_unit_id.choices = [("", "—")] + [(u.id, u.name) for u in accusable]
