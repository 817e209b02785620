"""国家司法救助 (domain.md §3.2; the provincial 政法委 model): the window takes the application, the
organ that handled the original case gives its opinion within 10 working days, the review group
(政法委 with finance, court, procuratorate, police and justice) decides within 10 working days,
finance pays the money over, and the case organ tells the person to collect it within 2 working
days of its arrival. An award is at most the province's average monthly wage times the cap in
months (generally 36) and never more than the actual loss; help is given once per case per person."""
from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation

from flask_babel import lazy_gettext as _l
from sqlalchemy import or_, select

from portal.clock import utcnow
from portal.extensions import db
from portal.models import Branch, BranchKind, BranchOutcome, BranchStatus, Case, OrgKind, OrgUnit
from portal.services.aid.common import (
    assign_number,
    check_materials,
    local_to_utc_day,
    money,
    optional_text,
    party_of,
    past_date,
    set_person,
    text,
    yes,
)
from portal.services.errors import ValidationFailed
from portal.services.settings import get_setting, office_unit

APPLY_KEY = "judicial_aid_apply"
START_LANES = {"受理窗口"}

# 救助情形 (2016 意见 §3): kept in ``branch.matter``.
SITUATIONS = {
    "victim_injured": _l("Crime victim seriously injured or disabled, not compensated, life in hardship"),
    "victim_treatment": _l("Crime victim in danger of death, unable to pay for urgent treatment"),
    "victim_died": _l("Crime victim died, close relatives who depended on them in hardship"),
    "victim_property": _l("Crime victim with a major property loss, not compensated, life in hardship"),
    "retaliation": _l("Informant, witness or expert harmed in retaliation for giving evidence"),
    "maintenance": _l("Maintenance, support or child-support payments that cannot be enforced"),
    "tort": _l("Injured by a traffic accident or other civil wrong, no compensation through litigation"),
    "other": _l("Other situation needing help"),
}
MATERIALS = {
    "application": _l("Application letter or application registration form"),
    "identity": _l("Proof of identity"),
    "hardship": _l("Proof of the hardship of the applicant and the family"),
    "compensation": _l("Proof of compensation or assistance already received"),
    "loss": _l("Proof of the actual loss"),
    "judgment": _l("Legal documents of the original case"),
    "pledge": _l("Pledge to end the litigation-related petition"),
}
CENT = Decimal("0.01")
NOTIFY_METHODS = {"phone": _l("Told by phone"), "in_person": _l("Told in person"), "written": _l("Written notice"),
                  "sms": _l("Text message")}


def start_data(case: Case) -> dict:
    return {"judicial_aid_office_unit": office_unit("judicial_aid_office").id}


def aid_cap() -> Decimal:
    """The most an award may be: the cap in months times the province's average monthly wage."""
    return (get_setting("judicial_aid_cap_months") * get_setting("judicial_aid_monthly_wage")).quantize(CENT)


def check_amount(branch: Branch, amount: Decimal, field: str) -> Decimal:
    """An amount of judicial aid: at most the cap, and at most the actual loss."""
    cap = aid_cap()
    if amount > cap:
        raise ValidationFailed(_l("Judicial aid is at most %(cap)s yuan (%(months)s months of the province's "
                                  "average monthly wage of %(wage)s yuan)."), field=field, cap=_yuan(cap),
                               months=get_setting("judicial_aid_cap_months"),
                               wage=_yuan(get_setting("judicial_aid_monthly_wage")))
    if amount > branch.actual_loss:
        raise ValidationFailed(_l("The amount is above the actual loss of %(loss)s yuan (the loss less the "
                                  "compensation already received)."), field=field, loss=_yuan(branch.actual_loss))
    return amount


def _yuan(amount: Decimal) -> str:
    return f"{amount:.2f}"


def _received(data: dict) -> Decimal:
    """Compensation or assistance already received: empty or zero when there was none."""
    value = data.get("compensation_received")
    try:
        if value in (None, "") or Decimal(str(value)) == 0:
            return Decimal("0.00")
    except InvalidOperation:
        pass
    return money(data, "compensation_received")


def _case_organ(data: dict) -> OrgUnit:
    try:
        unit_id = int(data.get("case_organ_unit") or 0)
    except (TypeError, ValueError):
        unit_id = 0
    unit = db.session.get(OrgUnit, unit_id) if unit_id else None
    if unit is None or unit.kind != OrgKind.DEPARTMENT:
        raise ValidationFailed(_l("Choose the organ that handled the original case from the departments."),
                               field="case_organ_unit")
    return unit


def _check_once_per_case(branch: Branch) -> None:
    """One time per case per person: another application of the same person in the same case that is
    still running or was granted refuses this one."""
    earlier = db.session.scalars(select(Branch).where(
        Branch.kind == BranchKind.JUDICIAL_AID, Branch.case_id == branch.case_id,
        Branch.person_key == branch.person_key, Branch.id != branch.id,
        or_(Branch.status == BranchStatus.OPEN, Branch.outcome == BranchOutcome.GRANTED))
        .order_by(Branch.started_at)).first()
    if earlier is not None:
        raise ValidationFailed(_l("%(name)s already applied for judicial aid in this case on %(day)s (%(number)s); "
                                  "judicial aid is given once per case per person. Nothing was saved."),
                               field="party_id", name=branch.person_name, day=f"{earlier.started_at:%Y-%m-%d}",
                               number=earlier.number or "")


def _required_materials(petition: bool) -> list[tuple[str, object]]:
    keys = [k for k in MATERIALS if k != "pledge"] + (["pledge"] if petition else [])
    return [(k, MATERIALS[k]) for k in keys]


def apply(branch: Branch, data: dict, user=None) -> dict:
    """救助申请: the person, the situation, the original case, the loss and the amount asked for."""
    party = party_of(branch, data)
    set_person(branch, party)
    situation = data.get("situation")
    if situation not in SITUATIONS:
        raise ValidationFailed(_l("Choose the situation the application rests on."), field="situation")
    petition = yes(data, "petition")
    materials = check_materials(data, _required_materials(petition))
    organ = _case_organ(data)
    case_number = text(data, "original_case_number")
    facts = text(data, "facts")
    loss, received = money(data, "loss_amount"), _received(data)
    if loss <= received:
        raise ValidationFailed(_l("The loss (%(loss)s yuan) is not more than the compensation already received "
                                  "(%(received)s yuan): there is no actual loss to help with."),
                               field="compensation_received", loss=_yuan(loss), received=_yuan(received))
    branch.actual_loss = (loss - received).quantize(CENT)
    branch.amount_requested = check_amount(branch, money(data, "amount_requested"), "amount_requested")
    _check_once_per_case(branch)
    branch.matter = situation
    assign_number(branch, "judicial_aid", "（{year}）司救申字第{n}号", utcnow().year)
    branch.remember(petition=petition, materials=materials, case_organ=organ.name, case_organ_id=organ.id,
                    original_case_number=case_number, facts=facts, loss_amount=str(loss),
                    compensation_received=str(received), bank_account=optional_text(data, "bank_account"))
    data["case_organ_unit_name"] = organ.name  # kept in the step's record for the history
    return {"case_organ_unit": organ.id}


def opinion(branch: Branch, data: dict, user=None) -> dict:
    """办案机关意见: support or not, with reasons; when supporting, the amount it suggests."""
    supports = yes(data, "supports")
    reason = text(data, "reason")
    amount = check_amount(branch, money(data, "amount"), "amount") if supports else None
    branch.remember(organ_supports=supports, organ_amount=str(amount) if amount else None, organ_opinion=reason)
    return {"organ_supports": supports}


def review(branch: Branch, data: dict, user=None) -> dict:
    """审核小组决定: grant (with the amount) or refuse, always with written reasons and the date."""
    granted = yes(data, "granted")
    reason = text(data, "reason")
    decided = past_date(data, "decided_on", not_before=branch.started_at.date())
    if granted:
        branch.amount_granted = check_amount(branch, money(data, "amount"), "amount")
    else:
        branch.outcome = BranchOutcome.REFUSED
    branch.decision_reason = reason
    branch.remember(decided_on=decided.isoformat())
    return {"granted": granted}


def funds(branch: Branch, data: dict, user=None) -> dict:
    """财政拨付: the day the money arrived."""
    decided = branch.info.get("decided_on")
    arrived = past_date(data, "arrived_on", not_before=_day(decided) if decided else branch.started_at.date())
    branch.remember(funds_arrived_on=arrived.isoformat(), funds_voucher=optional_text(data, "voucher"))
    return {}


def notify(branch: Branch, data: dict, user=None) -> dict:
    """通知领取并发放: the person told (when, how), the money paid (the amount granted unless a note
    says why not)."""
    arrived = _day(branch.info["funds_arrived_on"])
    notified = past_date(data, "notified_on", not_before=arrived)
    method = data.get("notify_method")
    if method not in NOTIFY_METHODS:
        raise ValidationFailed(_l("Choose how the person was told."), field="notify_method")
    amount = money(data, "amount")
    if amount > branch.amount_granted:
        raise ValidationFailed(_l("The amount paid is above the %(granted)s yuan granted."), field="amount",
                               granted=_yuan(branch.amount_granted))
    if amount < branch.amount_granted:
        text(data, "note")
    paid_on = past_date(data, "paid_on", not_before=arrived)
    branch.amount_paid, branch.paid_at = amount, local_to_utc_day(paid_on)
    branch.outcome = BranchOutcome.GRANTED
    branch.remember(notified_on=notified.isoformat(), notify_method=method, paid_on=paid_on.isoformat(),
                    payment_note=optional_text(data, "note"))
    return {}


def _day(iso: str) -> date:
    return date.fromisoformat(iso)


STEPS = {"judicial_aid_apply": apply, "judicial_aid_opinion": opinion, "judicial_aid_review": review,
         "judicial_aid_funds": funds, "judicial_aid_notify": notify}
