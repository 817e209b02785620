"""Forms of the public pages (no login, on a phone): filing a dispute, following it, adding material,
rating it. Plain WTForms inputs (the public pages have their own small layout, not FAB's)."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, IntegerField, MultipleFileField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, Regexp

from portal.forms.validators import IdNumber, Phone, grouped_types, int_or_none, villages_by_township
from portal.models import PlaceKind

MOBILE = r"^\s*1[3-9]\d{9}\s*$"
ACCEPT = {"accept": ".png,.jpg,.jpeg,.pdf,image/png,image/jpeg,application/pdf"}


class FilingForm(FlaskForm):
    """网上申请调解."""

    applicant_name = StringField(_l("Your full name"), [DataRequired(), Length(max=50)],
                                 render_kw={"autocomplete": "name"})
    applicant_id_number = StringField(_l("Your ID number"), [DataRequired(), IdNumber()],
                                      render_kw={"autocomplete": "off", "maxlength": 18})
    applicant_phone = StringField(_l("Your mobile number"), [DataRequired(), Regexp(
        MOBILE, message=_l("Give an 11-digit mobile number (it is how you follow the case)."))],
        render_kw={"type": "tel", "autocomplete": "tel", "inputmode": "numeric", "maxlength": 11},
        description=_l("You follow the case with its code and the last four digits of this number."))
    applicant_address = StringField(_l("Your address"), [Optional(), Length(max=200)])
    respondent_name = StringField(_l("The other side: name (person or organisation)"),
                                  [DataRequired(), Length(max=50)])
    respondent_phone = StringField(_l("The other side: phone"), [Optional(), Phone()],
                                   render_kw={"type": "tel", "inputmode": "numeric"})
    respondent_address = StringField(_l("The other side: address"), [Optional(), Length(max=200)])
    dispute_type_id = SelectField(_l("Kind of dispute"), [InputRequired()], coerce=int)
    township_id = SelectField(_l("Township (town)"), [InputRequired()], coerce=int)
    village_id = SelectField(_l("Village or community"), [Optional()], coerce=int_or_none)
    place_kind = SelectField(_l("Where it happened"), [InputRequired()], choices=PlaceKind.choices(),
                             default=PlaceKind.RESIDENCE.value)
    place_detail = StringField(_l("Place details"), [Optional(), Length(max=200)])
    facts = TextAreaField(_l("What happened"), [DataRequired(), Length(max=5000)], render_kw={"rows": 5})
    requests = TextAreaField(_l("What you ask for"), [DataRequired(), Length(max=2000)], render_kw={"rows": 3})
    files = MultipleFileField(_l("Photos or papers (optional)"), render_kw=ACCEPT,
                              description=_l("Photos (PNG or JPEG) or PDF files."))
    consent_online = BooleanField(_l("I agree that my dispute is handled online (filing, mediation by video)."))
    consent_e_service = BooleanField(_l("I agree to receive the documents of my case electronically "
                                        "(a link to my mobile number), with the same effect as on paper."))

    def set_choices(self, dispute_types, townships, villages) -> None:
        self.dispute_type_id.choices = grouped_types(dispute_types)
        self.township_id.choices = [(t.id, t.name) for t in townships]
        self.village_id.choices = villages_by_township(townships, villages, ("", _l("Not sure / none")))


class TrackForm(FlaskForm):
    """进度查询."""

    code = StringField(_l("Case code"), [DataRequired(), Length(max=32)],
                       render_kw={"autocomplete": "off", "autocapitalize": "characters"})
    phone_tail = StringField(_l("Last four digits of your phone"), [DataRequired(), Length(min=4, max=4)],
                             render_kw={"inputmode": "numeric", "maxlength": 4, "autocomplete": "off"})


class MaterialForm(FlaskForm):
    files = MultipleFileField(_l("Photos or papers"), render_kw=ACCEPT,
                              description=_l("Photos (PNG or JPEG) or PDF files."))


class RatingForm(FlaskForm):
    stars = IntegerField(_l("Stars"), [InputRequired(), NumberRange(min=1, max=5)])
    comment = TextAreaField(_l("Your words (optional)"), [Optional(), Length(max=1000)], render_kw={"rows": 3})
