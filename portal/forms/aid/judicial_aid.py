"""The forms of state judicial aid (国家司法救助申请登记表 and the steps after it)."""
from __future__ import annotations

from flask_appbuilder.fieldwidgets import Select2Widget
from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, SelectField
from wtforms.validators import InputRequired

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
from portal.forms.validators import int_or_none
from portal.models import OrgKind
from portal.services.aid.judicial_aid import MATERIALS, NOTIFY_METHODS, SITUATIONS
from portal.services.queries import org_units


class JudicialAidApplyForm(BranchForm):
    party_id = person_field()
    situation = choice_field(_l("Situation the application rests on"), SITUATIONS)
    petition = BooleanField(_l("The applicant is a litigation-related petitioner"),
                            description=_l("Then a pledge to end the petition is required."))
    case_organ_unit = SelectField(_l("Organ handling the original case"), [InputRequired()], coerce=int_or_none,
                                  choices=[], validate_choice=False, widget=Select2Widget(),
                                  description=_l("The court, procuratorate or police that handled the case."))
    original_case_number = text_field(_l("Number of the original case"))
    facts = text_area(_l("The original case and the applicant's hardship"))
    loss_amount = money_field(_l("Loss (yuan)"), description=_l("As the judgment or the proof of loss states."))
    compensation_received = money_field(_l("Compensation or assistance already received (yuan)"), required=False,
                                        description=_l("Leave empty when nothing was received."))
    amount_requested = money_field(_l("Amount applied for (yuan)"))
    bank_account = text_field(_l("Bank account for the payment"), required=False)
    materials = CheckboxList(_l("Materials handed in"), choices=list(MATERIALS.items()))

    def prepare(self, case, branch) -> None:
        super().prepare(case, branch)
        self.case_organ_unit.choices = [(u.id, u.name) for u in org_units(OrgKind.DEPARTMENT)]


class JudicialAidOpinionForm(BranchForm):
    supports = decision_field(_l("Does the case organ support aid?"), _l("Supports aid"), _l("Does not support aid"))
    amount = money_field(_l("Amount the case organ suggests (yuan)"), required=False)
    reason = text_area(_l("The case organ's opinion and its reasons"))


class JudicialAidReviewForm(BranchForm):
    granted = decision_field(_l("Decision"), _l("Grant judicial aid"), _l("Refuse judicial aid"))
    amount = money_field(_l("Amount granted (yuan)"), required=False)
    decided_on = date_field(_l("Decided on"))
    reason = text_area(_l("Reasons of the review group's decision"))


class JudicialAidFundsForm(BranchForm):
    arrived_on = date_field(_l("Funds arrived on"))
    voucher = text_field(_l("Number of the payment voucher"), required=False)


class JudicialAidNotifyForm(BranchForm):
    notified_on = date_field(_l("Person told to collect the aid on"))
    notify_method = choice_field(_l("Told by"), NOTIFY_METHODS)
    amount = money_field(_l("Amount paid (yuan)"))
    paid_on = date_field(_l("Paid on"))
    note = text_area(_l("Why less than granted was paid"), required=False)


FORMS = {"judicial_aid_apply": JudicialAidApplyForm, "judicial_aid_opinion": JudicialAidOpinionForm,
         "judicial_aid_review": JudicialAidReviewForm, "judicial_aid_funds": JudicialAidFundsForm,
         "judicial_aid_notify": JudicialAidNotifyForm}
