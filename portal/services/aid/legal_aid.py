"""法律援助 (法律援助法 2021; domain.md §3.2): the window takes the application (§31 matters; the
means test with a personal pledge §41, or an exemption §32/§42 stated with its basis); the legal-aid
office reviews it within 7 days (§43) and grants, refuses in writing with reasons, or tells every
missing item at once — not supplied in time, the application is treated as withdrawn. A refusal may
be objected to before the justice bureau, which decides within 5 days (§49). Aid granted, a lawyer is
assigned within 3 days; the lawyer's closing report ends the file (§50). Aid may be given first when
a limitation period is about to run out or preservation is urgent (§44)."""
from __future__ import annotations

import re
from datetime import date
from decimal import Decimal, InvalidOperation

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from portal.clock import utcnow
from portal.extensions import db
from portal.models import Branch, BranchKind, BranchOutcome, BranchStatus, Case
from portal.services.aid.common import (
    assign_number,
    check_materials,
    number,
    optional_text,
    party_of,
    past_date,
    set_person,
    text,
    yes,
)
from portal.services.deadlines import legal_due_at, utc_to_local
from portal.services.errors import ValidationFailed
from portal.services.settings import office_unit
from portal.workdays import DayUnit

APPLY_KEY = "legal_aid_apply"
START_LANES = {"受理窗口"}
REVIEW_DAYS = 7  # §43: the decision within 7 days of receiving the application

# §31: the matters a person who cannot afford a representative may ask aid for.
MATTERS = {
    "state_compensation": _l("Claiming state compensation"),
    "social_insurance": _l("Claiming social-insurance benefits or social assistance"),
    "pension": _l("Claiming a survivor's or disability pension"),
    "maintenance": _l("Claiming support for parents, children or a spouse"),
    "labour": _l("Confirming a labour relation or claiming pay for work"),
    "capacity": _l("Having a person declared without or with limited civil capacity"),
    "injury": _l("Personal-injury damages from a work, traffic, food or drug, or medical accident"),
    "environment": _l("Damages for environmental pollution or ecological damage"),
    "other": _l("Other matters under laws and regulations"),
}
# §22: what the aid is.
AID_FORMS = {
    "consultation": _l("Legal advice"), "documents": _l("Drafting legal documents"),
    "civil_suit": _l("Representation in a civil lawsuit"),
    "administrative_suit": _l("Representation in an administrative lawsuit"),
    "state_compensation": _l("Representation in a state-compensation claim"),
    "arbitration": _l("Representation in arbitration"),
    "non_litigation": _l("Representation in mediation outside court"),
    "labour": _l("Representation in labour-dispute mediation and arbitration"),
}
LEGAL_STATUS = {
    "not_started": _l("Not yet in any procedure"), "litigation": _l("In litigation"),
    "arbitration": _l("In arbitration"), "mediation": _l("In mediation"),
    "administrative": _l("Being handled by an administrative body"),
    "reconsideration": _l("In administrative reconsideration"),
}
# §32: no means test at all; §42: the means are not checked (proof of the status suffices).
NO_MEANS_TEST = {
    "hero_relative": _l("Art. 32: a close relative of a hero or martyr defending the hero's reputation"),
    "good_samaritan": _l("Art. 32: claiming rights arising from a brave act for others"),
    "retrial_acquittal": _l("Art. 32: claiming state compensation after acquittal on retrial"),
    "abuse_victim": _l("Art. 32: a victim of abuse, abandonment or domestic violence"),
}
EXEMPT_FROM_CHECK = {
    "no_fixed_income": _l("Art. 42: a minor, elderly or disabled person without a fixed income"),
    "assistance_recipient": _l("Art. 42: receiving social assistance, judicial aid or special care"),
    "migrant_worker": _l("Art. 42: a migrant worker claiming pay or work-injury damages"),
}
EXEMPTIONS = {**NO_MEANS_TEST, **EXEMPT_FROM_CHECK}
# an exemption that holds only for its own kind of claim
EXEMPTION_MATTERS = {"migrant_worker": {"labour", "injury"}, "retrial_acquittal": {"state_compensation"}}
MATERIALS = {
    "identity": _l("Proof of the applicant's identity"),
    "means": _l("Statement of economic hardship or personal pledge"),
    "evidence": _l("Evidence on the matter aid is asked for"),
    "exemption_proof": _l("Proof of the ground for exemption from the means check"),
    "proxy_identity": _l("Proof of the identity of the legal representative applying"),
}
SUPPLEMENT_ITEMS = {**MATERIALS, "explanation": _l("An explanation from the applicant")}
DECISIONS = {"grant": _l("Complete: grant legal aid"), "refuse": _l("Complete: refuse legal aid"),
             "incomplete": _l("Incomplete: ask for the missing materials")}
REFUSAL_GROUNDS = {
    "means": _l("The applicant's means are above the hardship standard"),
    "scope": _l("The matter is not one legal aid covers"),
    "jurisdiction": _l("Not for this legal-aid office to handle"),
    "other": _l("Other grounds"),
}
# §44: aid given first, the paperwork after
FIRST_REASONS = {
    "deadline": _l("Less than 7 days are left before a limitation period or time limit runs out"),
    "preservation": _l("Preservation of property or evidence, or advance enforcement, is needed at once"),
    "other": _l("Another case the law provides for"),
}
TOLD_BY = {"in_person": _l("Face to face"), "phone": _l("Over the phone"), "letter": _l("By letter"),
           "message": _l("By text message")}
RESULTS = {
    "won": _l("The claims were upheld"), "partly_won": _l("The claims were partly upheld"),
    "mediated": _l("Settled by mediation"), "settled": _l("Settled between the parties"),
    "lost": _l("The claims were not upheld"), "advised": _l("Advice given or documents drafted"),
    "terminated": _l("Legal aid terminated (Art. 48)"),
}
# §48: why the office ends aid it granted
TERMINATION_GROUNDS = {
    "deceit": _l("Aid was obtained by deceit"), "concealment": _l("Important facts were hidden or evidence faked"),
    "unlawful_use": _l("Aid was used for unlawful ends"), "means_changed": _l("The person's means no longer qualify"),
    "case_ended": _l("The proceedings ended or the case was withdrawn"),
    "own_lawyer": _l("The person engaged a lawyer of their own"),
    "requested": _l("The person asked, with good reason, to end the aid"), "other": _l("Other grounds by law"),
}
PHONE = re.compile(r"[0-9][0-9 +\-]{5,19}")


def start_data(case: Case) -> dict:
    return {"legal_aid_office_unit": office_unit("legal_aid_office").id}


def _local_day(moment) -> date:
    return utc_to_local(moment).date()


def _pick(data: dict, field: str, choices: dict, message) -> str:
    value = data.get(field)
    if value not in choices:
        raise ValidationFailed(message, field=field)
    return value


def _exemption(data: dict, matter: str) -> str | None:
    """The §32/§42 ground the applicant relies on (with its basis stated), or None for the means test."""
    exemption = data.get("exemption") or None
    if exemption is None:
        return None
    if exemption not in EXEMPTIONS:
        raise ValidationFailed(_l("Choose the ground for exemption from the list."), field="exemption")
    if matter not in EXEMPTION_MATTERS.get(exemption, {matter}):
        raise ValidationFailed(_l("“%(ground)s” holds only for a claim of %(matters)s."), field="exemption",
                               ground=EXEMPTIONS[exemption],
                               matters="、".join(str(MATTERS[m]) for m in sorted(EXEMPTION_MATTERS[exemption])))
    text(data, "exemption_basis")
    return exemption


def _income(data: dict) -> Decimal:
    """The household's income per month: zero allowed (no income), at most two decimals."""
    try:
        amount = Decimal(str(data.get("monthly_income")))
    except InvalidOperation:
        amount = Decimal("-1")
    if not amount.is_finite() or amount < 0 or amount != amount.quantize(Decimal("0.01")):
        raise ValidationFailed(_l("Give the household's income per month in yuan (0 when there is none)."),
                               field="monthly_income")
    return amount


def _means(data: dict) -> dict:
    """§41: the means test rests on the household's income and size, and the applicant's pledge."""
    income = _income(data)
    household = number(data, "household_size", 1, 30)
    if not yes(data, "pledge"):
        raise ValidationFailed(_l("Without an exemption the applicant must sign the personal pledge that the "
                                  "statement of hardship is true (Legal Aid Law, Art. 41)."), field="pledge")
    per_head = (income / household).quantize(Decimal("0.01"))
    return {"monthly_income": str(income), "household_size": household, "income_per_head": str(per_head),
            "pledge": True}


def _required_materials(exemption: str | None, by_proxy: bool) -> list[tuple[str, object]]:
    keys = ["identity"] + (["exemption_proof"] if exemption else ["means"]) + ["evidence"] \
        + (["proxy_identity"] if by_proxy else [])
    return [(k, MATERIALS[k]) for k in keys]


def _check_no_open_application(branch: Branch, matter: str) -> None:
    """One application of a person for one matter at a time."""
    running = db.session.scalars(select(Branch).where(
        Branch.kind == BranchKind.LEGAL_AID, Branch.person_key == branch.person_key, Branch.matter == matter,
        Branch.status == BranchStatus.OPEN, Branch.id != branch.id).order_by(Branch.started_at)).first()
    if running is not None:
        raise ValidationFailed(_l("%(name)s already has a legal-aid application for this matter in progress "
                                  "(%(number)s, taken on %(day)s); it must be finished before another. Nothing "
                                  "was saved."), field="matter", name=branch.person_name,
                               number=running.number or "", day=f"{_local_day(running.started_at):%Y-%m-%d}")


def apply(branch: Branch, data: dict, user=None) -> dict:
    """法律援助申请: who, which §31 matter, what aid, the case, and the means (or the exemption)."""
    party = party_of(branch, data)
    set_person(branch, party)
    matter = _pick(data, "matter", MATTERS, _l("Choose the matter aid is asked for."))
    aid_form = _pick(data, "aid_form", AID_FORMS, _l("Choose the form of aid asked for."))
    status = _pick(data, "legal_status", LEGAL_STATUS, _l("Choose where the matter stands now."))
    summary = text(data, "summary")
    by_proxy = yes(data, "by_proxy")
    exemption = _exemption(data, matter)
    means = {} if exemption else _means(data)
    materials = check_materials(data, _required_materials(exemption, by_proxy))
    _check_no_open_application(branch, matter)
    now = utcnow()
    branch.matter = matter
    branch.due_at = legal_due_at(now, REVIEW_DAYS, DayUnit.CALENDAR)
    assign_number(branch, "legal_aid", "（{year}）援申字第{n}号", _local_day(now).year)
    branch.remember(aid_form=aid_form, legal_status=status, summary=summary, by_proxy=by_proxy,
                    exemption=exemption, exemption_article="32" if exemption in NO_MEANS_TEST else
                    "42" if exemption else None, exemption_basis=optional_text(data, "exemption_basis"),
                    materials=materials, **means)
    return {}


def review(branch: Branch, data: dict, user=None) -> dict:
    """审查 (§43): grant or refuse a complete application, or list everything missing at once."""
    decision = _pick(data, "decision", DECISIONS, _l("Choose the decision."))
    if decision == "incomplete":
        return _ask_for_more(branch, data)
    decided = past_date(data, "decided_on", not_before=_local_day(branch.started_at))
    reason = text(data, "reason")
    if decision == "refuse":
        ground = _pick(data, "refusal_ground", REFUSAL_GROUNDS, _l("Choose the ground of the refusal."))
        branch.outcome, branch.decision_reason = BranchOutcome.REFUSED, reason
        branch.remember(decided_on=decided.isoformat(), refusal_ground=ground)
        return {"decision": decision}
    first = yes(data, "provided_first")
    first_reason = _pick(data, "first_reason", FIRST_REASONS, _l("Say why aid is given first (Art. 44).")) \
        if first else None
    if first_reason == "other":
        text(data, "first_note")
    branch.decision_reason, branch.emergency = reason, first
    branch.remember(decided_on=decided.isoformat(), provided_first=first, first_reason=first_reason,
                    first_note=optional_text(data, "first_note"))
    return {"decision": decision}


def _ask_for_more(branch: Branch, data: dict) -> dict:
    items = sorted(k for k in data.get("missing") or [] if k in SUPPLEMENT_ITEMS)
    other = optional_text(data, "missing_other")
    if not items and not other:
        raise ValidationFailed(_l("List everything the applicant must still bring, all at once."),
                               field="missing")
    requests = branch.info.get("supplement_requests", [])
    requests.append({"on": utcnow().isoformat(), "items": items, "other": other})
    branch.remember(supplement_requests=requests)
    return {"decision": "incomplete"}


def supplement(branch: Branch, data: dict, user=None) -> dict:
    """补充材料: what the applicant brought, and when; the 7 days of review start again."""
    received = past_date(data, "received_on", not_before=_local_day(branch.started_at))
    brought = text(data, "brought")
    requests = branch.info.get("supplement_requests", [])
    if requests:
        requests[-1].update(received_on=received.isoformat(), brought=brought)
    branch.due_at = legal_due_at(utcnow(), REVIEW_DAYS, DayUnit.CALENDAR)
    branch.remember(supplement_requests=requests)
    return {}


def withdrawn(branch: Branch, data: dict, user=None) -> dict:
    """视为撤回 (§43): the missing materials did not come in time; the applicant is told so."""
    told = past_date(data, "told_on", not_before=_local_day(branch.started_at))
    how = _pick(data, "told_by", TOLD_BY, _l("Choose how the applicant was told."))
    branch.outcome = BranchOutcome.WITHDRAWN
    branch.remember(withdrawn_told_on=told.isoformat(), withdrawn_told_by=how,
                    withdrawn_note=optional_text(data, "note"))
    return {}


def objection(branch: Branch, data: dict, user=None) -> dict:
    """异议 (§49): the applicant objects to the refusal before the justice bureau."""
    decided = date.fromisoformat(branch.info.get("decided_on") or _local_day(branch.started_at).isoformat())
    received = past_date(data, "received_on", not_before=decided)
    content = text(data, "content")
    branch.remember(objection_received_on=received.isoformat(), objection=content)
    return {}


def objection_decide(branch: Branch, data: dict, user=None) -> dict:
    """The justice bureau upholds the refusal or orders the office to give aid (§49)."""
    upheld = data.get("upheld")
    if upheld not in ("yes", "no", True, False):
        raise ValidationFailed(_l("Choose the decision."), field="upheld")
    upheld = yes(data, "upheld")
    received = date.fromisoformat(branch.info["objection_received_on"])
    decided = past_date(data, "decided_on", not_before=received)
    reason = text(data, "reason")
    branch.remember(objection_upheld=upheld, objection_decided_on=decided.isoformat(), objection_reason=reason)
    if not upheld:  # the refusal is set aside: aid as if granted, the lawyer follows
        branch.outcome = None
    return {"upheld": upheld}


def assign(branch: Branch, data: dict, user=None) -> dict:
    """指派 (§43): within 3 days of the decision a lawyer takes the case; aid is granted."""
    lawyer = text(data, "lawyer")
    firm = text(data, "law_firm")
    phone = text(data, "phone")
    if not PHONE.fullmatch(phone):
        raise ValidationFailed(_l("Give the lawyer's phone number in digits."), field="phone")
    info = branch.info
    decided = info.get("objection_decided_on") if info.get("objection_upheld") is False else info.get("decided_on")
    assigned = past_date(data, "assigned_on", not_before=date.fromisoformat(decided) if decided else None)
    branch.outcome = BranchOutcome.GRANTED
    branch.remember(lawyer=lawyer, law_firm=firm, lawyer_phone=phone, assigned_on=assigned.isoformat())
    return {}


def report(branch: Branch, data: dict, user=None) -> dict:
    """结案 (§50): the lawyer's closing report, with the documents filed; or the aid ended (§48)."""
    assigned = branch.info.get("assigned_on")
    closed = past_date(data, "closed_on", not_before=date.fromisoformat(assigned) if assigned else None)
    result = _pick(data, "result", RESULTS, _l("Choose how the matter ended."))
    ground = _pick(data, "termination_ground", TERMINATION_GROUNDS,
                   _l("Choose the ground for ending the aid (Art. 48).")) if result == "terminated" else None
    summary = text(data, "summary")
    documents = text(data, "documents")
    branch.remember(closed_on=closed.isoformat(), result=result, termination_ground=ground,
                    report=summary, documents=documents)
    return {}


STEPS = {"legal_aid_apply": apply, "legal_aid_review": review, "legal_aid_supplement": supplement,
         "legal_aid_withdrawn": withdrawn, "legal_aid_objection": objection,
         "legal_aid_objection_decide": objection_decide, "legal_aid_assign": assign, "legal_aid_report": report}
