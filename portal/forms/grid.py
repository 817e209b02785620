"""The grid member's report from the scene (流动调), as a phone fills it in."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    FieldList,
    FloatField,
    Form,
    FormField,
    IntegerField,
    MultipleFileField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional
from wtforms.widgets import HiddenInput

from portal.forms.validators import IdNumber, Phone, grouped_types
from portal.models import Fulfilment, GridOutcome, PartyKind, PlaceKind, Satisfaction

SIDES = [(PartyKind.APPLICANT.value, _l("Applicant")), (PartyKind.RESPONDENT.value, _l("Respondent"))]


class GridPartyForm(Form):
    kind = SelectField(_l("Side"), choices=SIDES)
    name = StringField(_l("Full name"), [Optional(), Length(max=50)])
    phone = StringField(_l("Phone"), [Optional(), Phone()], render_kw={"type": "tel", "autocomplete": "off"})
    id_number = StringField(_l("ID number (optional)"), [Optional(), IdNumber()], render_kw={"autocomplete": "off"})

    def is_blank(self) -> bool:
        return not any((f.data or "").strip() for f in (self.name, self.phone, self.id_number))


class GridReportForm(FlaskForm):
    outcome = RadioField(_l("What happens next"), [InputRequired()], default=GridOutcome.TO_TOWNSHIP.value,
                         choices=[(GridOutcome.TO_TOWNSHIP.value, _l("Report to the township's window")),
                                  (GridOutcome.ON_THE_SPOT.value, _l("Resolved on the spot"))])
    dispute_type_id = SelectField(_l("Dispute type"), [InputRequired()], coerce=int)
    village_id = SelectField(_l("Village of the scene"), [InputRequired()], coerce=int)
    place_kind = SelectField(_l("Kind of place"), [InputRequired()], choices=PlaceKind.choices(),
                             default=PlaceKind.RESIDENCE.value)
    place_detail = StringField(_l("Where"), [DataRequired(_l("Say where it happened.")), Length(max=200)],
                               description=_l("Street and number, group, landmark"))
    latitude = FloatField(widget=HiddenInput(), validators=[Optional()])
    longitude = FloatField(widget=HiddenInput(), validators=[Optional()])
    accuracy_m = FloatField(widget=HiddenInput(), validators=[Optional()])
    parties = FieldList(FormField(GridPartyForm), label=_l("The people involved"), min_entries=2, max_entries=10)
    facts = TextAreaField(_l("What happened"), [DataRequired(_l("Describe what happened: the facts of the dispute."))],
                          render_kw={"rows": 4})
    requests = TextAreaField(_l("What the parties ask for"), [Optional()], render_kw={"rows": 2})
    people_count = IntegerField(_l("People involved in all"), [Optional(), NumberRange(min=1, max=100000)],
                                render_kw={"inputmode": "numeric"},
                                description=_l("When more people are involved than those named above."))
    photos = MultipleFileField(_l("Photos of the scene"), render_kw={"accept": "image/jpeg,image/png"})
    # resolved on the spot
    applicant_statement = TextAreaField(_l("What the applicant said"), [Optional()], render_kw={"rows": 2})
    respondent_statement = TextAreaField(_l("What the respondent said"), [Optional()], render_kw={"rows": 2})
    how_resolved = TextAreaField(_l("How it was resolved"), [Optional()], render_kw={"rows": 3})
    terms = TextAreaField(_l("What the parties agreed"), [Optional()], render_kw={"rows": 2},
                          description=_l("Recorded as an oral agreement (人民调解法 §28)."))
    fulfilment = RadioField(_l("Performance"), [Optional()], default=Fulfilment.FULFILLED.value,
                            choices=[(Fulfilment.FULFILLED.value, _l("Performed on the spot")),
                                     (Fulfilment.NOT_APPLICABLE.value, _l("Nothing to perform"))])
    both_agreed = BooleanField(_l("Both parties agreed to this settlement"))
    applicant_satisfaction = SelectField(_l("Applicant's satisfaction"), [Optional()], choices=Satisfaction.choices())
    respondent_satisfaction = SelectField(_l("Respondent's satisfaction"), [Optional()], choices=Satisfaction.choices())

    def set_choices(self, dispute_types, villages, own_village_id: int | None) -> None:
        self.dispute_type_id.choices = grouped_types(dispute_types)
        self.village_id.choices = [(v.id, v.name) for v in villages]
        if self.village_id.data is None and own_village_id:
            self.village_id.data = own_village_id

    def named_parties(self) -> list[GridPartyForm]:
        return [entry.form for entry in self.parties if not entry.form.is_blank()]
