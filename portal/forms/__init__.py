"""WTForms classes, and the registry that maps a BPMN form key to its form."""
from __future__ import annotations

from flask_babel import get_locale
from flask_babel import gettext as _
from flask_wtf import FlaskForm

from portal.forms.aid import FORMS as BRANCH_FORMS
from portal.forms.aid import ServiceForm
from portal.forms.departments import handle_form_for
from portal.forms.dynamic import stored_form
from portal.forms.intake import IntakeForm
from portal.forms.online import PaperDeliveryForm
from portal.forms.steps import (
    AcceptForm,
    AttachmentForm,
    CloseForm,
    ConfirmationApplyForm,
    ConfirmationDecisionForm,
    ConsultForm,
    CourtFilingForm,
    DispatchForm,
    EscalateForm,
    ExtensionDecisionForm,
    ExtensionRequestForm,
    FeedbackForm,
    FollowupForm,
    HandleForm,
    InvestigationForm,
    PauseForm,
    PreSuitForm,
    RaiseCardForm,
    ReferFollowupForm,
    ReferForm,
    SessionForm,
    SuperviseAcceptForm,
    SupervisionCardForm,
    TriageForm,
    VerifyForm,
)
from portal.services.departments import spec_for_unit

FORMS: dict[str, type[FlaskForm]] = {
    "intake": IntakeForm, "refer": ReferForm, "refer_followup": ReferFollowupForm, "triage": TriageForm,
    "dispatch": DispatchForm, "consult": ConsultForm, "accept": AcceptForm,
    "supervise_accept": SuperviseAcceptForm, "handle": HandleForm,
    "feedback": FeedbackForm, "followup": FollowupForm, "verify": VerifyForm, "close": CloseForm,
    "escalate": EscalateForm, "pre_suit": PreSuitForm, "court_filing": CourtFilingForm,
    **BRANCH_FORMS,
}
# Forms of work items that live beside the workflow (not BPMN user tasks).
SIDE_FORMS: dict[str, type[FlaskForm]] = {"supervision_card": SupervisionCardForm,
                                           "extension_decision": ExtensionDecisionForm,
                                           "paper_delivery": PaperDeliveryForm}


# The one step whose form depends on the case: handling takes the form of the unit that handles it.
UNIT_FORM_KEY = "handle"


def form_class(form_key: str, unit=None) -> type[FlaskForm] | None:
    """The form of a step; handling (``UNIT_FORM_KEY``) takes the form of the unit that handles the case. A
    key the portal does not ship is looked up among the forms administrators defined."""
    if form_key == UNIT_FORM_KEY:
        return handle_form_for(spec_for_unit(unit))
    return FORMS.get(form_key) or SIDE_FORMS.get(form_key) or stored_form(form_key)


def describe(form_key: str, data: dict, unit=None) -> list[tuple[str, str]]:
    """(label, shown value) pairs of a completed step's recorded data, for the case history
    (``unit``: the unit the step was assigned to, whose handling form has its own fields)."""
    form_cls = form_class(form_key, unit)
    if form_cls is None:
        return []
    fields = _fields_of(form_cls)
    rows = []
    for name, value in data.items():
        field = fields.get(name)
        if field is None or value in (None, ""):
            continue
        if name.endswith("_id") and data.get(f"{name[:-3]}_name"):
            value = data[f"{name[:-3]}_name"]
        elif data.get(f"{name}_name"):  # a unit chosen by id (the case organ, the sector department)
            value = data[f"{name}_name"]
        elif name.endswith("_ids"):
            value = data.get(f"{name[:-4]}_names") or ""
            if not value:
                continue
        if isinstance(value, bool):
            value = _("Yes") if value else _("No")
        label, labels = field
        if labels is not None:
            values = value if isinstance(value, list) else [value]
            if isinstance(value, list) and not value:
                continue
            value = "、".join(labels.get(str(v), str(v)) for v in values)
        elif isinstance(value, list):
            value = "、".join(str(v) for v in value)
        rows.append((label, str(value)))
    return rows


_FIELDS_KEPT_MAX = 500  # forms x languages; administrators' forms are classes made afresh when changed
_fields: dict[tuple, dict[str, tuple[str, dict[str, str] | None]]] = {}


def _fields_of(form_cls: type[FlaskForm]) -> dict[str, tuple[str, dict[str, str] | None]]:
    """Each field's label and, for a field of fixed choices, the label of each value, in the reader's
    language: read once per form class and language, not by building the form for every step shown."""
    key = (form_cls, str(get_locale()))
    fields = _fields.get(key)
    if fields is None:
        form = form_cls(meta={"csrf": False}, formdata=None)
        fields = {field.name: (str(field.label.text),
                               {str(value): str(label) for value, label in field.choices}
                               if isinstance(getattr(field, "choices", None), list) else None)
                  for field in form}
        if len(_fields) >= _FIELDS_KEPT_MAX:
            _fields.clear()
        _fields[key] = fields
    return fields


__all__ = ["FORMS", "SIDE_FORMS", "UNIT_FORM_KEY", "describe", "form_class", "IntakeForm", "RaiseCardForm",
           "ExtensionRequestForm", "PauseForm", "ConfirmationApplyForm", "ConfirmationDecisionForm", "SessionForm",
           "InvestigationForm", "AttachmentForm", "ServiceForm"]
