"""The forms of risk control (风险研判, 风险管控提示函, 稳控责任, 动态跟进, 确认化解)."""
from __future__ import annotations

from flask_appbuilder.fieldwidgets import Select2Widget
from flask_babel import lazy_gettext as _l
from wtforms import SelectField
from wtforms.validators import InputRequired

from portal.forms.aid.common import (
    BranchForm,
    choice_field,
    date_field,
    decision_field,
    person_field,
    text_area,
    text_field,
)
from portal.forms.validators import int_or_none
from portal.models import OrgKind
from portal.services.aid.risk import BASES, LEVELS, METHODS, STATES
from portal.services.queries import org_units


class RiskAssessForm(BranchForm):
    party_id = person_field(_l("Person under risk control"))
    basis = choice_field(_l("Basis of risk control"), BASES)
    basis_other = text_field(_l("The other basis"), required=False)
    basis_document = text_field(_l("Number of the document that ended the procedure"),
                                description=_l("e.g. the 复核意见书 or the final judgment's case number"))
    basis_date = date_field(_l("Date of that document"))
    demands = text_area(_l("What the person still demands"))
    risk_level = choice_field(_l("Risk level"), LEVELS)
    risk_reasons = text_area(_l("Reasons for the risk level"),
                             description=_l("Hidden dangers found: extreme words, repeated visits, people gathering …"))
    sector_unit = SelectField(_l("Sector department"), [InputRequired()], coerce=int_or_none, choices=[],
                              validate_choice=False, widget=Select2Widget())

    def prepare(self, case, branch) -> None:
        super().prepare(case, branch)
        self.sector_unit.choices = [(u.id, u.name) for u in org_units(OrgKind.DEPARTMENT)]


class RiskLetterForm(BranchForm):
    issued_on = date_field(_l("Letter issued on"))
    measures = text_area(_l("Control measures required of the township and the sector department"))


class RiskAssignForm(BranchForm):
    stability_name = text_field(_l("Person responsible for stability: name"))
    stability_post = text_field(_l("Person responsible for stability: post"))
    stability_phone = text_field(_l("Person responsible for stability: telephone"))
    resolution_name = text_field(_l("Person responsible for resolution: name"))
    resolution_post = text_field(_l("Person responsible for resolution: post"))
    resolution_phone = text_field(_l("Person responsible for resolution: telephone"))
    measures = text_area(_l("Measures taken"))


class RiskFollowupForm(BranchForm):
    contacted_on = date_field(_l("Contacted on"))
    method = choice_field(_l("Contacted by"), METHODS)
    state = choice_field(_l("The person's state"), STATES)
    new_level = choice_field(_l("Raise the risk level to"), LEVELS, required=False)
    notes = text_area(_l("What was found and done"))


class RiskCloseForm(BranchForm):
    confirmed = decision_field(_l("Is the matter resolved?"), _l("Confirm resolved, end risk control"),
                               _l("Not resolved, keep following up"))
    opinion = text_area(_l("Opinion"))


FORMS = {"risk_assess": RiskAssessForm, "risk_letter": RiskLetterForm, "risk_assign": RiskAssignForm,
         "risk_followup": RiskFollowupForm, "risk_close": RiskCloseForm}
