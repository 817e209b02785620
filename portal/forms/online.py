"""Staff forms of online handling: a party's consent, serving a document electronically, recording
the paper service, scheduling an online session and recording who joined it."""
from __future__ import annotations

from flask_appbuilder.fieldwidgets import BS3TextAreaFieldWidget, BS3TextFieldWidget, Select2Widget
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, DateTimeLocalField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional
from wtforms.widgets import DateInput

from portal.forms.aid.common import CheckboxList
from portal.models import MediationKind, SessionResult


def _party_label(party) -> str:
    return f"{party.kind.label}：{party.name}"


class ConsentForm(FlaskForm):
    party_id = SelectField(_l("Party"), [InputRequired()], coerce=int, widget=Select2Widget())
    online_handling = BooleanField(_l("Agrees to online handling (filing, mediation by video)"))
    e_service = BooleanField(_l("Agrees to electronic service of documents (送达地址确认书 signed)"))

    def set_parties(self, parties) -> None:
        self.party_id.choices = [(p.id, _party_label(p)) for p in parties]


class ServeForm(FlaskForm):
    key = SelectField(_l("Document"), [InputRequired()], widget=Select2Widget())
    party_id = SelectField(_l("Serve to"), [InputRequired()], coerce=int, widget=Select2Widget(),
                           description=_l("Only parties who agreed to electronic service can be served this way."))

    def set_choices(self, documents, parties) -> None:
        self.key.choices = [(d.key, d.title) for d in documents]
        self.party_id.choices = [(p.id, _party_label(p)) for p in parties]


class PaperDeliveryForm(FlaskForm):
    method = SelectField(_l("How it was served"), [InputRequired()], widget=Select2Widget(),
                         choices=lambda: [("direct", _l("Handed over in person (直接送达)")),
                                          ("post", _l("By post (邮寄送达)")),
                                          ("left", _l("Left at the residence (留置送达)")),
                                          ("entrusted", _l("Through another body (委托送达)"))])
    served_on = DateField(_l("Served on"), [InputRequired()], widget=DateInput())
    recipient = StringField(_l("Received by"), [DataRequired(), Length(max=50)], widget=BS3TextFieldWidget())
    note = TextAreaField(_l("Note"), [Optional(), Length(max=200)], widget=BS3TextAreaFieldWidget())


class ScheduleSessionForm(FlaskForm):
    starts_at = DateTimeLocalField(_l("Starts at"), [InputRequired()], format="%Y-%m-%dT%H:%M")
    meeting_link = StringField(_l("Meeting link"), [DataRequired(), Length(max=300)], widget=BS3TextFieldWidget())
    participant_ids = CheckboxList(_l("Parties to join"), coerce=int,
                                   description=_l("Only parties who agreed to online handling."))
    others = StringField(_l("Mediators and others to join"), [Optional(), Length(max=300)],
                         widget=BS3TextFieldWidget())

    def set_parties(self, parties) -> None:
        self.participant_ids.choices = [(p.id, _party_label(p)) for p in parties]


class SessionOutcomeForm(FlaskForm):
    attended_ids = CheckboxList(_l("Who joined"), coerce=int)
    kind = SelectField(_l("Kind of mediation"), [Optional()], widget=Select2Widget(),
                       choices=lambda: [("", "—")] + [(k.value, k.label) for k in MediationKind],
                       description=_l("Required for mediation in the center."))
    mediators = StringField(_l("Mediators"), [DataRequired()], widget=BS3TextFieldWidget())
    recorder = StringField(_l("Recorder"), [Optional()], widget=BS3TextFieldWidget())
    applicant_statement = TextAreaField(_l("What the applicant said"), [DataRequired()],
                                        widget=BS3TextAreaFieldWidget())
    respondent_statement = TextAreaField(_l("What the respondent said"), [DataRequired()],
                                         widget=BS3TextAreaFieldWidget())
    result = SelectField(_l("Result of the session"), [InputRequired()], widget=Select2Widget(),
                         choices=lambda: [(r.value, r.label) for r in SessionResult])
    notes = TextAreaField(_l("Findings and next steps"), [Optional()], widget=BS3TextAreaFieldWidget())

    def set_parties(self, parties) -> None:
        self.attended_ids.choices = [(p.id, _party_label(p)) for p in parties]
