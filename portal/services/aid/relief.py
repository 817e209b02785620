"""临时救助 (社会救助暂行办法 ch. 9; domain.md §3.2): the township takes the application,
investigates the household, may hold a democratic review, posts a public notice for 7 days and
gives its opinion; the county civil-affairs bureau approves (a township approves small amounts
alone); the money is paid. An emergency is paid first from the reserve fund, paperwork after.
The whole procedure is held to 15 working days. Once per person per matter per year."""
from __future__ import annotations

from datetime import datetime, time, timedelta
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import or_, select

from portal.clock import utcnow
from portal.extensions import db
from portal.models import Branch, BranchKind, BranchOutcome, BranchStatus, Case
from portal.services.aid.common import (
    assign_number,
    check_materials,
    local_to_utc_day,
    money,
    number,
    optional_text,
    party_of,
    past_date,
    set_person,
    text,
    yes,
)
from portal.services.deadlines import legal_due_at, local_to_utc
from portal.services.errors import ValidationFailed
from portal.services.settings import get_setting, office_unit
from portal.workdays import DayUnit

APPLY_KEY = "relief_apply"
START_LANES = {"受理窗口", "乡镇民政"}
TOTAL_WORKING_DAYS = 15   # the whole procedure, as the county practises it [W28]
NOTICE_DAYS = 7           # 张榜公示 in the village

# 困难类型 (§47): what suddenly made basic life hard.
HARDSHIPS = {
    "fire": _l("Fire"), "traffic": _l("Traffic accident"), "accident": _l("Other accident"),
    "illness": _l("Sudden serious illness of a family member"),
    "dibao_expense": _l("Essential spending a subsistence-allowance family cannot bear"),
    "other": _l("Other special hardship"),
}
MATERIALS = {
    "application": _l("Application letter"), "identity": _l("ID card or household register"),
    "income": _l("Proof of household income"), "cause": _l("Proof of the cause of hardship"),
    "health": _l("Proof of health condition"), "proxy": _l("Power of attorney (applying for someone)"),
}
PAY_METHODS = {"bank": _l("Bank card (social payment)"), "cash": _l("Cash"), "in_kind": _l("In kind")}


def start_data(case: Case) -> dict:
    return {"relief_office_unit": office_unit("relief_office").id}


def _required_materials(hardship: str, by_proxy: bool, emergency: bool) -> list[tuple[str, object]]:
    if emergency:  # paid first, the rest of the file follows (checked at the township's opinion)
        return [("identity", MATERIALS["identity"])]
    keys = ["application", "identity", "income", "cause"] + (["health"] if hardship == "illness" else []) \
        + (["proxy"] if by_proxy else [])
    return [(k, MATERIALS[k]) for k in keys]


def _all_materials(hardship: str, by_proxy: bool) -> list[str]:
    return [k for k, _ in _required_materials(hardship, by_proxy, False)]


def _check_once_a_year(branch: Branch, hardship: str) -> None:
    """Usually once per person per matter per year: an earlier relief for the same hardship that was
    granted (or is still running) within 365 days refuses this one."""
    since = utcnow() - timedelta(days=365)
    earlier = db.session.scalars(select(Branch).where(
        Branch.kind == BranchKind.RELIEF, Branch.person_key == branch.person_key, Branch.matter == hardship,
        Branch.id != branch.id, Branch.started_at >= since,
        or_(Branch.status == BranchStatus.OPEN, Branch.outcome == BranchOutcome.GRANTED))
        .order_by(Branch.started_at.desc())).first()
    if earlier is not None:
        raise ValidationFailed(_l("%(name)s already applied for temporary relief for the same hardship on "
                                  "%(day)s (%(number)s); relief for one matter is given once a year. Nothing "
                                  "was saved."), field="hardship", name=branch.person_name,
                               day=f"{earlier.started_at:%Y-%m-%d}", number=earlier.number or "")


def apply(branch: Branch, data: dict, user=None) -> dict:
    party = party_of(branch, data)
    set_person(branch, party)
    hardship = data.get("hardship")
    if hardship not in HARDSHIPS:
        raise ValidationFailed(_l("Choose the kind of hardship."), field="hardship")
    emergency = yes(data, "emergency")
    by_proxy = yes(data, "by_proxy")
    materials = check_materials(data, _required_materials(hardship, by_proxy, emergency))
    household = number(data, "household_size", 1, 30)
    income = money(data, "monthly_income", required=False) or Decimal("0")
    amount = money(data, "amount_requested")
    situation = text(data, "situation")
    if emergency:
        text(data, "emergency_reason")
    _check_once_a_year(branch, hardship)
    now = utcnow()
    branch.matter, branch.emergency, branch.amount_requested = hardship, emergency, amount
    branch.due_at = legal_due_at(now, TOTAL_WORKING_DAYS, DayUnit.WORKING)
    assign_number(branch, "relief", "LSJZ{year}-{n:04d}", now.year)
    pending = [k for k in _all_materials(hardship, by_proxy) if k not in materials]
    branch.remember(household_size=household, monthly_income=str(income), situation=situation,
                    residence=optional_text(data, "residence"), materials=materials, materials_pending=pending,
                    emergency_reason=optional_text(data, "emergency_reason"), by_proxy=by_proxy)
    return {"emergency": emergency}


def emergency_pay(branch: Branch, data: dict, user=None) -> dict:
    amount = money(data, "amount")
    limit = get_setting("relief_emergency_limit")
    if amount > limit:
        raise ValidationFailed(_l("Relief paid first may be at most %(limit)s yuan; the rest follows approval."),
                               field="amount", limit=limit)
    if amount > branch.amount_requested:
        raise ValidationFailed(_l("The amount is above what was applied for (%(requested)s yuan)."),
                               field="amount", requested=branch.amount_requested)
    paid_on = past_date(data, "paid_on", not_before=branch.started_at.date())
    method = _method(data)
    branch.amount_paid = amount
    branch.paid_at = local_to_utc_day(paid_on)
    branch.remember(emergency_paid=str(amount), emergency_paid_on=paid_on.isoformat(), emergency_method=method)
    return {}


def _method(data: dict) -> str:
    method = data.get("method")
    if method not in PAY_METHODS:
        raise ValidationFailed(_l("Choose how it was paid."), field="method")
    return method


def investigate(branch: Branch, data: dict, user=None) -> dict:
    visited = past_date(data, "visited_on", not_before=branch.started_at.date() - timedelta(days=1))
    text(data, "investigators")
    text(data, "findings")
    confirmed = yes(data, "hardship_confirmed")
    review = yes(data, "democratic_review") and confirmed
    proposed = money(data, "proposed_amount", required=confirmed)
    branch.remember(visited_on=visited.isoformat(), hardship_confirmed=confirmed,
                    proposed_amount=str(proposed) if proposed else None)
    return {"hardship_confirmed": confirmed, "democratic_review": review}


def review(branch: Branch, data: dict, user=None) -> dict:
    held = past_date(data, "held_on", not_before=branch.started_at.date())
    number(data, "participants", 3, 500)
    text(data, "opinion")
    branch.remember(review_held_on=held.isoformat(), review_agreed=yes(data, "agreed"))
    return {}


def notice(branch: Branch, data: dict, user=None) -> dict:
    """张榜公示: the notice stays up 7 days; the township's opinion comes when they are over."""
    posted = past_date(data, "posted_on", not_before=branch.started_at.date())
    text(data, "place")
    until = legal_due_at(local_to_utc(datetime.combine(posted, time(0, 0))), NOTICE_DAYS,
                         DayUnit.CALENDAR)
    branch.remember(notice_posted_on=posted.isoformat(), notice_place=optional_text(data, "place"))
    return {"notice_until": until.isoformat() + "+00:00"}


def opinion(branch: Branch, data: dict, user=None) -> dict:
    """乡镇审核意见 after the notice: objections and how they were handled, then agree (with the
    amount) or not (with reasons). Within the township's limit the township approves alone."""
    objections = yes(data, "objections")
    if objections:
        text(data, "objection_notes")
    agrees = yes(data, "agrees")
    reason = text(data, "reason")
    info = branch.info
    if agrees and info.get("materials_pending") and not yes(data, "materials_completed"):
        pending = "、".join(str(MATERIALS[k]) for k in info["materials_pending"])
        raise ValidationFailed(_l("Relief was paid first: the file still lacks %(items)s. Collect them before "
                                  "the opinion."), field="materials_completed", items=pending)
    branch.remember(objections=objections, objection_notes=optional_text(data, "objection_notes"),
                    township_opinion=reason, materials_pending=[] if agrees else info.get("materials_pending"))
    if not agrees:
        branch.outcome, branch.decision_reason = BranchOutcome.REFUSED, reason
        return {"township_agrees": False, "needs_county": False}
    amount = money(data, "amount")
    branch.remember(township_amount=str(amount))
    needs_county = amount > get_setting("relief_township_limit")
    if not needs_county:
        branch.amount_granted, branch.decision_reason = amount, reason
    return {"township_agrees": True, "needs_county": needs_county}


def approve(branch: Branch, data: dict, user=None) -> dict:
    approved = yes(data, "approved")
    reason = text(data, "reason")
    branch.decision_reason = reason
    if approved:
        branch.amount_granted = money(data, "amount")
    else:
        branch.outcome = BranchOutcome.REFUSED
    return {"approved": approved}


def pay(branch: Branch, data: dict, user=None) -> dict:
    """发放: what is still due after any payment made first; the total paid is what was granted
    unless a note says why not."""
    already = branch.amount_paid or Decimal("0")
    amount = money(data, "amount", required=False) or Decimal("0")
    total = already + amount
    if total > branch.amount_granted:
        raise ValidationFailed(_l("With the %(already)s yuan paid first, this would pay %(total)s yuan, more "
                                  "than the %(granted)s yuan granted."), field="amount", already=already,
                               total=total, granted=branch.amount_granted)
    if total < branch.amount_granted:
        text(data, "note")
    paid_on = past_date(data, "paid_on", not_before=branch.started_at.date())
    method = _method(data)
    branch.amount_paid, branch.paid_at = total, local_to_utc_day(paid_on)
    branch.outcome = BranchOutcome.GRANTED
    branch.remember(paid_on=paid_on.isoformat(), method=method)
    return {}


STEPS = {"relief_apply": apply, "relief_emergency_pay": emergency_pay, "relief_investigate": investigate,
         "relief_review": review, "relief_notice": notice, "relief_opinion": opinion, "relief_approve": approve,
         "relief_pay": pay}
