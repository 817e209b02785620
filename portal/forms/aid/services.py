"""The form of a social work or volunteer service given to a person of a case."""
from __future__ import annotations

from flask_appbuilder.fieldwidgets import BS3TextAreaFieldWidget, BS3TextFieldWidget, Select2Widget
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateTimeLocalField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from portal.forms.validators import int_or_none
from portal.models import ProviderKind, ServiceType
from portal.models.assistance import MAX_MINUTES


class ServiceForm(FlaskForm):
    party_id = SelectField(_l("Person served"), [Optional()], coerce=int_or_none, choices=[], validate_choice=False)
    person_name = StringField(_l("Name of the person served"), [Optional(), Length(max=50)],
                              widget=BS3TextFieldWidget(),
                              description=_l("Only when the person served is not a party, e.g. a family member."))
    service_type = SelectField(_l("Kind of service"), [InputRequired()], choices=ServiceType.choices(),
                               widget=Select2Widget())
    provider_kind = SelectField(_l("Provided by"), [InputRequired()], choices=ProviderKind.choices(),
                                widget=Select2Widget())
    provider = StringField(_l("Organisation or team"), [DataRequired(), Length(max=200)],
                           widget=BS3TextFieldWidget(), description=_l("e.g. 县阳光社会工作服务中心, 城关镇志愿服务队"))
    worker = StringField(_l("Social workers or volunteers"), [DataRequired(), Length(max=200)],
                         widget=BS3TextFieldWidget())
    served_at = DateTimeLocalField(_l("Service given at"), [InputRequired()], format="%Y-%m-%dT%H:%M")
    duration_minutes = IntegerField(_l("Duration (minutes)"), [InputRequired()], widget=BS3TextFieldWidget(),
                                    render_kw={"type": "number", "min": 1, "max": MAX_MINUTES})
    persons = IntegerField(_l("Person-times"), [InputRequired()], default=1, widget=BS3TextFieldWidget(),
                           render_kw={"type": "number", "min": 1},
                           description=_l("How many person-times the service counts, e.g. 2 when it served two "
                                          "people together."))
    result = TextAreaField(_l("Result of the service"), [DataRequired()], widget=BS3TextAreaFieldWidget())

    def set_parties(self, parties) -> None:
        self.party_id.choices = [("", _l("Another person (give the name below)"))] + \
            [(p.id, f"{p.name}（{p.kind.label}）") for p in parties]
