"""The forms of legal aid (法律援助申请表 and the steps after it)."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, DateField, DecimalField, IntegerField, RadioField, widgets
from wtforms.validators import InputRequired, NumberRange, Optional

from portal.forms.aid.common import (
    BranchForm,
    CheckboxList,
    choice_field,
    date_field,
    decision_field,
    person_field,
    text_area,
    text_field,
)
from portal.forms.validators import Finite
from portal.services.aid.legal_aid import (
    AID_FORMS,
    DECISIONS,
    EXEMPTIONS,
    FIRST_REASONS,
    LEGAL_STATUS,
    MATERIALS,
    MATTERS,
    REFUSAL_GROUNDS,
    RESULTS,
    SUPPLEMENT_ITEMS,
    TERMINATION_GROUNDS,
    TOLD_BY,
)


def optional_date(label, description=None) -> DateField:
    return DateField(label, [Optional()], widget=widgets.DateInput(), description=description)


class LegalAidApplyForm(BranchForm):
    party_id = person_field()
    by_proxy = BooleanField(_l("Applied for by the person's legal representative (Art. 40)"))
    matter = choice_field(_l("Matter aid is asked for (Art. 31)"), MATTERS)
    aid_form = choice_field(_l("Form of aid asked for"), AID_FORMS)
    legal_status = choice_field(_l("Where the matter stands"), LEGAL_STATUS)
    summary = text_area(_l("The case and the reasons for asking aid"))
    exemption = choice_field(_l("Exempt from the means test or its check"), EXEMPTIONS, required=False)
    exemption_basis = text_area(_l("Basis of the exemption"), required=False,
                                description=_l("What shows the ground holds, e.g. the certificate of a brave act "
                                               "or the subsistence-allowance card."))
    monthly_income = DecimalField(_l("Household income per month (yuan)"), [Optional(), Finite(), NumberRange(min=0)],
                                  places=2, render_kw={"type": "number", "step": "0.01", "min": "0"},
                                  description=_l("Needed without an exemption; 0 when there is none."))
    household_size = IntegerField(_l("People in the household"), [Optional(), NumberRange(1, 30)],
                                  render_kw={"type": "number", "min": 1, "max": 30})
    pledge = BooleanField(_l("The applicant signed the personal pledge that the hardship is true (Art. 41)"))
    materials = CheckboxList(_l("Materials handed in"), choices=list(MATERIALS.items()))


class LegalAidReviewForm(BranchForm):
    decision = RadioField(_l("Decision of the review"), [InputRequired()], choices=list(DECISIONS.items()))
    missing = CheckboxList(_l("Materials the applicant must still bring"), choices=list(SUPPLEMENT_ITEMS.items()))
    missing_other = text_area(_l("Anything else missing or to be explained"), required=False)
    decided_on = optional_date(_l("Decided on"))
    refusal_ground = choice_field(_l("Ground of the refusal"), REFUSAL_GROUNDS, required=False)
    reason = text_area(_l("Opinion of the review and its reasons"), required=False,
                       description=_l("A refusal is told to the applicant in writing with these reasons."))
    provided_first = BooleanField(_l("Give aid first, the paperwork after (Art. 44)"))
    first_reason = choice_field(_l("Why aid is given first"), FIRST_REASONS, required=False)
    first_note = text_area(_l("Details of the urgency"), required=False)


class LegalAidSupplementForm(BranchForm):
    received_on = date_field(_l("Materials brought on"))
    brought = text_area(_l("What the applicant brought or explained"))


class LegalAidWithdrawnForm(BranchForm):
    told_on = date_field(_l("Applicant told on"))
    told_by = choice_field(_l("How the applicant was told"), TOLD_BY)
    note = text_area(_l("Note"), required=False)


class LegalAidObjectionForm(BranchForm):
    received_on = date_field(_l("Objection received on"))
    content = text_area(_l("The objection and its reasons"))


class LegalAidObjectionDecideForm(BranchForm):
    upheld = decision_field(_l("Decision of the justice bureau"), _l("Uphold the refusal"),
                            _l("Order the legal-aid office to give aid"))
    decided_on = date_field(_l("Decided on"))
    reason = text_area(_l("Reasons of the decision"))


class LegalAidAssignForm(BranchForm):
    lawyer = text_field(_l("Lawyer assigned"))
    law_firm = text_field(_l("Law firm or legal-service office"))
    phone = text_field(_l("Lawyer's phone"))
    assigned_on = date_field(_l("Assigned on"))


class LegalAidReportForm(BranchForm):
    closed_on = date_field(_l("Closed on"))
    result = choice_field(_l("Result"), RESULTS)
    termination_ground = choice_field(_l("Ground for ending the aid"), TERMINATION_GROUNDS, required=False)
    summary = text_area(_l("The lawyer's report on how the matter was handled"))
    documents = text_area(_l("Documents filed"), description=_l("Copies of the judgment, award or agreement, "
                                                                 "and the other papers of the file."))


FORMS = {"legal_aid_apply": LegalAidApplyForm, "legal_aid_review": LegalAidReviewForm,
         "legal_aid_supplement": LegalAidSupplementForm, "legal_aid_withdrawn": LegalAidWithdrawnForm,
         "legal_aid_objection": LegalAidObjectionForm, "legal_aid_objection_decide": LegalAidObjectionDecideForm,
         "legal_aid_assign": LegalAidAssignForm, "legal_aid_report": LegalAidReportForm}
