"""The forms of temporary relief (临时救助申请审批表 and the steps after it)."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, IntegerField
from wtforms.validators import InputRequired, NumberRange

from portal.forms.aid.common import (
    BranchForm,
    CheckboxList,
    choice_field,
    date_field,
    decision_field,
    money_field,
    person_field,
    text_area,
    text_field,
)
from portal.services.aid.relief import HARDSHIPS, MATERIALS, PAY_METHODS


class ReliefApplyForm(BranchForm):
    party_id = person_field()
    hardship = choice_field(_l("Kind of hardship"), HARDSHIPS)
    situation = text_area(_l("The hardship: what happened and how the family lives now"))
    household_size = IntegerField(_l("People in the household"), [InputRequired(), NumberRange(1, 30)],
                                  render_kw={"type": "number", "min": 1, "max": 30})
    monthly_income = money_field(_l("Household income per month (yuan)"), required=False)
    residence = text_field(_l("Where the family lives now"), required=False)
    amount_requested = money_field(_l("Amount applied for (yuan)"))
    by_proxy = BooleanField(_l("Applied for by someone else on the person's behalf"))
    emergency = BooleanField(_l("Emergency: pay first from the reserve fund, paperwork after"))
    emergency_reason = text_area(_l("Why it cannot wait"), required=False)
    materials = CheckboxList(_l("Materials handed in"), choices=list(MATERIALS.items()))


class ReliefEmergencyPayForm(BranchForm):
    amount = money_field(_l("Amount paid first (yuan)"))
    paid_on = date_field(_l("Paid on"))
    method = choice_field(_l("Paid by"), PAY_METHODS)


class ReliefInvestigateForm(BranchForm):
    visited_on = date_field(_l("Home visit on"))
    investigators = text_field(_l("Investigators"))
    findings = text_area(_l("Household economy, members and the hardship as found"))
    hardship_confirmed = decision_field(_l("Is the hardship confirmed?"), _l("Confirmed"), _l("Not confirmed"))
    democratic_review = BooleanField(_l("Hold a democratic review in the village"))
    proposed_amount = money_field(_l("Amount the investigators propose (yuan)"), required=False)


class ReliefReviewForm(BranchForm):
    held_on = date_field(_l("Review held on"))
    participants = IntegerField(_l("Villagers' representatives present"), [InputRequired(), NumberRange(3, 500)],
                                render_kw={"type": "number", "min": 3})
    agreed = decision_field(_l("Do the representatives agree to relief?"), _l("Agree"), _l("Do not agree"))
    opinion = text_area(_l("Opinion of the review"))


class ReliefNoticeForm(BranchForm):
    posted_on = date_field(_l("Notice posted on"))
    place = text_field(_l("Where it is posted"), description=_l("e.g. 村务公开栏"))


class ReliefOpinionForm(BranchForm):
    objections = BooleanField(_l("Objections were raised during the notice"))
    objection_notes = text_area(_l("The objections and how they were checked"), required=False)
    materials_completed = BooleanField(_l("The materials missing at the emergency payment are now in the file"))
    agrees = decision_field(_l("Does the township agree to relief?"), _l("Agrees"), _l("Does not agree"))
    amount = money_field(_l("Amount the township proposes (yuan)"), required=False)
    reason = text_area(_l("The township's opinion and its reasons"))


class ReliefApproveForm(BranchForm):
    approved = decision_field(_l("Decision"), _l("Approve relief"), _l("Refuse relief"))
    amount = money_field(_l("Amount approved (yuan)"), required=False)
    reason = text_area(_l("Opinion of the civil-affairs bureau and its reasons"))


class ReliefPayForm(BranchForm):
    amount = money_field(_l("Amount paid now (yuan)"), required=False,
                         description=_l("Leave empty when everything granted was already paid first."))
    paid_on = date_field(_l("Paid on"))
    method = choice_field(_l("Paid by"), PAY_METHODS)
    note = text_area(_l("Why less than granted was paid"), required=False)


FORMS = {"relief_apply": ReliefApplyForm, "relief_emergency_pay": ReliefEmergencyPayForm,
         "relief_investigate": ReliefInvestigateForm, "relief_review": ReliefReviewForm,
         "relief_notice": ReliefNoticeForm, "relief_opinion": ReliefOpinionForm,
         "relief_approve": ReliefApproveForm, "relief_pay": ReliefPayForm}
