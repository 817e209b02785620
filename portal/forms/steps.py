"""The forms of the chain's steps after intake, one per BPMN form key."""
from __future__ import annotations

from flask_appbuilder.fieldwidgets import (
    BS3TextAreaFieldWidget,
    BS3TextFieldWidget,
    Select2ManyWidget,
    Select2Widget,
)
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    DateField,
    DateTimeLocalField,
    IntegerField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, ValidationError
from wtforms.widgets import DateInput, TextArea

from portal.forms.aid.common import CheckboxList
from portal.forms.validators import int_or_none
from portal.models import (
    AttachmentCategory,
    BranchKind,
    CardLevel,
    ClosingType,
    Complexity,
    Fulfilment,
    HandlingResult,
    MediationKind,
    PauseReason,
    ResolutionMode,
    RiskLevel,
    Satisfaction,
    SessionResult,
)


class TriageForm(FlaskForm):
    complexity = SelectField(_l("Complexity"), [InputRequired()], choices=Complexity.choices(), widget=Select2Widget())
    risk_level = SelectField(_l("Risk level"), [InputRequired()], choices=RiskLevel.choices(), widget=Select2Widget())
    resolution_mode = SelectField(_l("Resolution mode"), [InputRequired()], choices=ResolutionMode.choices(),
                                  widget=Select2Widget())
    opinion = TextAreaField(_l("Triage opinion"), [DataRequired()], widget=BS3TextAreaFieldWidget())


class DispatchForm(FlaskForm):
    escalate = RadioField(_l("Assign or escalate"), [InputRequired()], default="no",
                          choices=[("no", _l("Assign to a unit")),
                                   ("yes", _l("Escalate to the county (beyond the center's powers or a grave risk)"))])
    escalation_reason = TextAreaField(_l("Why escalate"), [Optional()], widget=BS3TextAreaFieldWidget(),
                                      description=_l("Required when escalating."))
    assigned_unit_id = SelectField(_l("Lead unit"), [Optional()], coerce=int_or_none, widget=Select2Widget())
    cooperating_unit_ids = SelectMultipleField(_l("Units consulted in parallel"), [Optional()], coerce=int,
                                               widget=Select2ManyWidget(),
                                               description=_l("Each gives its opinion within 2 days."))
    instructions = TextAreaField(_l("Instructions to the unit"), [Optional()], widget=BS3TextAreaFieldWidget())

    def _assigning(self) -> bool:
        return self.escalate.data != "yes"

    def validate_escalation_reason(self, field):
        if not self._assigning() and not (field.data or "").strip():
            raise ValidationError(_l("Say why the case goes to the county."))

    def validate_assigned_unit_id(self, field):
        if self._assigning() and not field.data:
            raise ValidationError(_l("Choose the unit that will handle the case."))

    def validate_instructions(self, field):
        if self._assigning() and not (field.data or "").strip():
            raise ValidationError(_l("This field is required."))

    def set_choices(self, units) -> None:
        groups: dict[str, list] = {}
        for u in units:
            groups.setdefault(str(u.kind.label), []).append((u.id, u.name))
        self.assigned_unit_id.choices = groups
        self.cooperating_unit_ids.choices = groups


class AcceptForm(FlaskForm):
    accepted = RadioField(_l("Acceptance"), [InputRequired()],
                          choices=[("yes", _l("Accept the case")),
                                   ("no", _l("Object: not this unit's duty, back to triage"))])
    reason = TextAreaField(_l("Reason for the objection"), [Optional()], widget=BS3TextAreaFieldWidget(),
                           description=_l("Required when objecting."))

    def validate_reason(self, field):
        if self.accepted.data == "no" and not (field.data or "").strip():
            raise ValidationError(_l("Say why the case is not this unit's duty."))


class SuperviseAcceptForm(FlaskForm):
    note = TextAreaField(_l("Supervision note"), [DataRequired()], widget=BS3TextAreaFieldWidget(),
                         description=_l("Whom you urged, how, and what they promised."))


class EscalateForm(FlaskForm):
    county_leader = StringField(_l("County leader in charge (包案领导)"), [DataRequired()], widget=BS3TextFieldWidget())
    opinion = TextAreaField(_l("The county's opinion"), [DataRequired()], widget=BS3TextAreaFieldWidget(),
                            description=_l("What the county decided: lead unit, measures, time limits."))


def _handling_results():
    return [(r.value, r.label) for r in HandlingResult if r != HandlingResult.WITHDRAWN]


def _agreement_fields():
    """What a step reporting an agreement records (人民调解法 §28-29), in form order: new fields
    each time, created where the form's class body calls this so they keep their place in it."""
    return (DateField(_l("Agreement took effect on"), [Optional()], widget=DateInput(),
                      description=_l("Required for an agreement.")),
            BooleanField(_l("The applicant signed (or agreed orally)")),
            BooleanField(_l("The respondent signed (or agreed orally)")),
            TextAreaField(_l("Facts, matters in dispute and each side's responsibility"), [Optional()],
                          widget=BS3TextAreaFieldWidget(),
                          description=_l("As the agreement states them. Required for an agreement.")),
            TextAreaField(_l("Terms of the agreement"), [Optional()], widget=BS3TextAreaFieldWidget(),
                          description=_l("Required for an agreement.")),
            TextAreaField(_l("How, where and by when it is performed"), [Optional()],
                          widget=BS3TextAreaFieldWidget(), description=_l("Required for an agreement.")))


class HandleForm(FlaskForm):
    result = SelectField(_l("Result"), [InputRequired()], choices=_handling_results, widget=Select2Widget(),
                         description=_l("An agreement or a termination needs the mediation sessions recorded first."))
    process_notes = TextAreaField(_l("How the case was handled"), [DataRequired()], widget=BS3TextAreaFieldWidget())
    next_channel = TextAreaField(_l("Lawful channel to take next"), [Optional()], widget=BS3TextAreaFieldWidget(),
                                 description=_l("Required when mediation ended without agreement."))
    (agreement_date, applicant_signed, respondent_signed,
     agreement_facts, agreement_terms, performance_terms) = _agreement_fields()
    assistance_needs = CheckboxList(
        _l("The person behind the dispute also needs"), choices=lambda: [
            (k.value, k.label) for k in (BranchKind.RELIEF, BranchKind.LEGAL_AID, BranchKind.JUDICIAL_AID)],
        description=_l("Each one ticked starts its application, which waits at the window for the materials."))

    def validate_next_channel(self, field):
        if self.result.data in (HandlingResult.TERMINATED.value, HandlingResult.REDIRECTED.value) \
                and not (field.data or "").strip():
            raise ValidationError(_l("Say which lawful channel the parties should take next."))


class PreSuitForm(FlaskForm):
    outcome = SelectField(_l("Outcome of the pre-filing mediation"), [InputRequired()], widget=Select2Widget(),
                          choices=[("agreement", _l("Agreement reached")),
                                   ("withdrawn", _l("The parties settled by themselves and withdrew")),
                                   ("unreachable", _l("A party could not be reached")),
                                   ("unwilling", _l("A party clearly refuses to continue")),
                                   ("far_apart", _l("The positions are too far apart")),
                                   ("refused_to_sign", _l("A party refused to sign")),
                                   ("other", _l("Other reason"))])
    process_notes = TextAreaField(_l("How the mediation went, or why it failed"), [DataRequired()],
                                  widget=BS3TextAreaFieldWidget())
    (agreement_date, applicant_signed, respondent_signed,
     agreement_facts, agreement_terms, performance_terms) = _agreement_fields()


class CourtFilingForm(FlaskForm):
    filed = RadioField(_l("The court's decision"), [InputRequired()],
                       choices=[("yes", _l("Registered (立案)")), ("no", _l("Ruled not to accept"))])
    court_case_no = StringField(_l("Case or ruling number"), [DataRequired()], widget=BS3TextFieldWidget(),
                                description=_l("e.g. (2026)示0101民初123号"))
    decided_on = DateField(_l("Decided on"), [InputRequired()], widget=DateInput())


class FeedbackForm(FlaskForm):
    fulfilment = SelectField(_l("Fulfilment"), [InputRequired()], choices=Fulfilment.choices(), widget=Select2Widget())
    summary = TextAreaField(_l("Result reported to the center"), [DataRequired()], widget=BS3TextAreaFieldWidget())
    performance_due = DateField(_l("Parties to perform by"), [Optional()], widget=DateInput(),
                                description=_l("When the agreement gives a later date, the follow-up visit is "
                                               "scheduled for the day after it."))


class FollowupForm(FlaskForm):
    method = SelectField(_l("How"), [InputRequired()], widget=Select2Widget(),
                         choices=[("phone", _l("By phone")), ("visit", _l("In person")),
                                  ("online", _l("Online visit"))])
    applicant_satisfaction = SelectField(_l("Applicant's satisfaction"), [InputRequired()],
                                         choices=Satisfaction.choices(), widget=Select2Widget())
    respondent_satisfaction = SelectField(_l("Respondent's satisfaction"), [InputRequired()],
                                          choices=Satisfaction.choices(), widget=Select2Widget())
    fulfilment = SelectField(_l("Fulfilment"), [InputRequired()], choices=Fulfilment.choices(), widget=Select2Widget())
    notes = TextAreaField(_l("What the parties said"), [DataRequired()], widget=BS3TextAreaFieldWidget())


class VerifyForm(FlaskForm):
    passed = RadioField(_l("Verification"), [InputRequired()],
                        choices=[("yes", _l("Passed")), ("no", _l("Not passed: back to the unit"))])
    opinion = TextAreaField(_l("Verification opinion"), [Optional()], widget=BS3TextAreaFieldWidget(),
                            description=_l("Required when the verification does not pass."))

    def validate_opinion(self, field):
        if self.passed.data == "no" and not (field.data or "").strip():
            raise ValidationError(_l("Say why the result does not pass, so the unit knows what to do."))


class CloseForm(FlaskForm):
    closing_type = SelectField(_l("Closing type"), [InputRequired()], choices=ClosingType.choices(),
                               widget=Select2Widget())
    summary = TextAreaField(_l("Closing summary"), [DataRequired()], widget=BS3TextAreaFieldWidget())


class SupervisionCardForm(FlaskForm):
    answer = TextAreaField(_l("Answer to the supervision"), [DataRequired()], widget=BS3TextAreaFieldWidget(),
                           description=_l("What the unit has done and will do, and by when."))


class RaiseCardForm(FlaskForm):
    level = SelectField(_l("Card"), [InputRequired()], widget=Select2Widget(),
                        choices=lambda: [(level.value, level.label) for level in CardLevel])
    reason = TextAreaField(_l("Reason"), [DataRequired()], widget=BS3TextAreaFieldWidget())


class ReferForm(FlaskForm):
    receiving_body = TextAreaField(_l("Receiving body"), [DataRequired()], widget=BS3TextAreaFieldWidget(),
                                   description=_l("e.g. 县人民法院立案庭, 县劳动人事争议仲裁委员会, 县信访局"))
    notice = TextAreaField(_l("How the parties were told"), [DataRequired()], widget=BS3TextAreaFieldWidget(),
                           description=_l("The channel, the body, what to bring, and the time limits they must keep."))


class ReferFollowupForm(FlaskForm):
    outcome = SelectField(_l("Outcome at the receiving body"), [InputRequired()], widget=Select2Widget(),
                          choices=[("accepted", _l("Accepted")), ("refused", _l("Not accepted")),
                                   ("answered", _l("Answered in writing"))])
    note = TextAreaField(_l("What was learned"), [DataRequired()], widget=BS3TextAreaFieldWidget())


class ExtensionRequestForm(FlaskForm):
    days = IntegerField(_l("Days more"), [InputRequired(), NumberRange(min=1, max=365)], widget=BS3TextFieldWidget())
    reason = TextAreaField(_l("Why the deadline cannot be kept"), [DataRequired()], widget=BS3TextAreaFieldWidget())


class ExtensionDecisionForm(FlaskForm):
    request = StringField(_l("Request"), render_kw={"readonly": True}, widget=BS3TextFieldWidget())
    approve = RadioField(_l("Decision"), [InputRequired()],
                         choices=[("yes", _l("Approve")), ("no", _l("Refuse"))])
    note = TextAreaField(_l("Decision note"), [Optional()], widget=BS3TextAreaFieldWidget(),
                         description=_l("Required when refusing."))


class PauseForm(FlaskForm):
    reason = SelectField(_l("Why the clock stops"), [InputRequired()], widget=Select2Widget(),
                         choices=lambda: [(r.value, r.label) for r in PauseReason])
    note = TextAreaField(_l("Details"), [DataRequired()], widget=BS3TextAreaFieldWidget(),
                         description=_l("e.g. which appraisal, by whom; which party is away and until when."))


class ConsultForm(FlaskForm):
    opinion = TextAreaField(_l("Consultation opinion"), [DataRequired()], widget=BS3TextAreaFieldWidget(),
                            description=_l("Your unit's view of the facts, the law and what it can contribute."))


class ConfirmationApplyForm(FlaskForm):
    court = StringField(_l("Court"), [DataRequired()], widget=BS3TextFieldWidget(),
                        description=_l("The people's court where the mediation body is, e.g. 县人民法院"))
    applied_on = DateField(_l("Applied on"), [InputRequired()], widget=DateInput())
    joint = BooleanField(_l("Both parties apply together"))


class ConfirmationDecisionForm(FlaskForm):
    confirmed = RadioField(_l("Ruling"), [InputRequired()],
                           choices=[("yes", _l("Confirmed valid")), ("no", _l("Application rejected"))])
    ruling_no = StringField(_l("Ruling number"), [DataRequired()], widget=BS3TextFieldWidget(),
                            description=_l("e.g. (2026)示0101民特12号"))
    decided_on = DateField(_l("Ruled on"), [InputRequired()], widget=DateInput())


class SessionForm(FlaskForm):
    held_at = DateTimeLocalField(_l("Held at"), [InputRequired()], format="%Y-%m-%dT%H:%M")
    kind = SelectField(_l("Kind of mediation"), [Optional()], widget=Select2Widget(),
                       choices=lambda: [("", "—")] + [(k.value, k.label) for k in MediationKind],
                       description=_l("Required for mediation in the center."))
    place = StringField(_l("Where it sat"), [Optional()], widget=BS3TextFieldWidget(),
                        description=_l("The residence (at home), the scene (on the scene), the room or the court."))
    meeting_link = StringField(_l("Meeting link"), [Optional()], widget=BS3TextFieldWidget(),
                               description=_l("Required for online mediation."))
    mediators = StringField(_l("Mediators"), [DataRequired()], widget=BS3TextFieldWidget())
    recorder = StringField(_l("Recorder"), [Optional()], widget=BS3TextFieldWidget())
    attendees = StringField(_l("Others present"), [Optional()], widget=BS3TextFieldWidget(),
                            description=_l("Invited helpers; on the scene, the grid member(s) present."))
    applicant_statement = TextAreaField(_l("What the applicant said"), [DataRequired()],
                                        widget=BS3TextAreaFieldWidget())
    respondent_statement = TextAreaField(_l("What the respondent said"), [DataRequired()],
                                         widget=BS3TextAreaFieldWidget())
    result = SelectField(_l("Result of the session"), [InputRequired()], widget=Select2Widget(),
                         choices=lambda: [(r.value, r.label) for r in SessionResult])
    notes = TextAreaField(_l("Findings and next steps"), [Optional()], widget=BS3TextAreaFieldWidget())


class InvestigationForm(FlaskForm):
    held_at = DateTimeLocalField(_l("Investigated at"), [InputRequired()], format="%Y-%m-%dT%H:%M")
    place = StringField(_l("Where the inquiry was held"), [DataRequired(), Length(max=200)],
                        widget=BS3TextFieldWidget())
    investigators = StringField(_l("Investigators"), [DataRequired(), Length(max=200)],
                                widget=BS3TextFieldWidget())
    recorder = StringField(_l("Recorder"), [Optional(), Length(max=50)], widget=BS3TextFieldWidget())
    subject = StringField(_l("Person questioned"), [DataRequired(), Length(max=100)], widget=BS3TextFieldWidget())
    subject_info = StringField(_l("About the person questioned"), [Optional(), Length(max=300)],
                               widget=BS3TextFieldWidget(),
                               description=_l("Age, work, and how the person stands to the parties."))
    present = StringField(_l("Present at the inquiry"), [Optional(), Length(max=200)], widget=BS3TextFieldWidget())
    matter = StringField(_l("Matter investigated"), [DataRequired(), Length(max=200)], widget=BS3TextFieldWidget())
    content = TextAreaField(_l("Questions and answers"), [DataRequired()], widget=TextArea(),
                            render_kw={"rows": 10},  # FAB's text area widget fixes 3 rows
                            description=_l("One line per question (问：) and answer (答：), as they were said."))


class AttachmentForm(FlaskForm):
    category = SelectField(_l("Kind of paper"), [InputRequired()], choices=AttachmentCategory.choices(),
                           widget=Select2Widget())
    title = StringField(_l("Title"), [DataRequired(), Length(max=200)], widget=BS3TextFieldWidget(),
                        description=_l("e.g. 申请人身份证复印件, 收条"))
    file = FileField(_l("File"), [FileRequired()], description=_l("A scan or photo (PNG or JPEG), or a PDF."),
                     render_kw={"accept": ".png,.jpg,.jpeg,.pdf,image/png,image/jpeg,application/pdf"})
