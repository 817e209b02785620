"""What each step of the chain does to the case, keyed by the BPMN form key.

A step takes the case and the cleaned form data, checks the rules a form
cannot check, updates the case, and returns the routing data the workflow
needs (only small, JSON-safe values go into the engine). ``intake`` is done by
``register_case`` itself because it creates the case.
"""
from __future__ import annotations

from datetime import date
from enum import Enum
from typing import Any, Callable

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from portal.clock import utcnow
from portal.extensions import db
from portal.models import (
    AgreementKind,
    Case,
    CaseStatus,
    ClosingType,
    Complexity,
    Fulfilment,
    HandlingResult,
    OrgKind,
    OrgUnit,
    ResolutionMode,
    RiskLevel,
    Satisfaction,
    SessionResult,
)
from portal.services.agreements import record_agreement
from portal.services.channels import LEGAL_CLOCKS
from portal.services.deadlines import case_due_at, legal_due_at, local_today
from portal.services.departments import record_details
from portal.services.errors import ValidationFailed, choice, required_text
from portal.services.scoring import score_case
from portal.services.sessions import session_results


class PreSuitOutcome(Enum):
    """How a pre-filing mediation ends (最高法 关于人民法院在线调解规则 §25)."""

    AGREEMENT = "agreement"
    WITHDRAWN = "withdrawn"              # 自行和解撤回
    UNREACHABLE = "unreachable"          # 无法联系
    UNWILLING = "unwilling"              # 一方明确不愿继续
    FAR_APART = "far_apart"              # 分歧较大难以达成
    REFUSED_TO_SIGN = "refused_to_sign"  # 一方拒绝签章
    OTHER = "other"


class ReferralOutcome(Enum):
    ACCEPTED = "accepted"
    REFUSED = "refused"
    ANSWERED = "answered"


ASSIGNABLE_KINDS = (OrgKind.DEPARTMENT, OrgKind.COMMITTEE, OrgKind.STUDIO, OrgKind.TOWNSHIP, OrgKind.VILLAGE)

Step = Callable[..., dict[str, Any]]  # (case, cleaned form data, user) -> routing data


def _enum(enum_cls, value, field):
    return choice(enum_cls, value, field)


def _text(data, field) -> str:
    return required_text(data.get(field), field)


def triage(case: Case, data: dict[str, Any], user=None) -> dict[str, Any]:
    tier = _enum(Complexity, data.get("complexity"), "complexity")
    risk = _enum(RiskLevel, data.get("risk_level"), "risk_level")
    mode = _enum(ResolutionMode, data.get("resolution_mode"), "resolution_mode")
    _text(data, "opinion")
    case.complexity, case.risk_level, case.resolution_mode = tier.value, risk.value, mode.value
    case.due_at = case_due_at(case.registered_at, case.dispute_type_id, tier)
    return {"complexity": tier.value, "risk_level": risk.value, "resolution_mode": mode.value}


# Who may carry each way of mediating (上门调 by the village committee, 流动调 by the township or
# village with its grid staff, 中心调解 by a stationed department or a mediation body).
MODE_UNIT_KINDS = {
    ResolutionMode.AT_HOME: (OrgKind.VILLAGE, OrgKind.COMMITTEE),
    ResolutionMode.ON_SITE: (OrgKind.TOWNSHIP, OrgKind.VILLAGE),
    ResolutionMode.IN_CENTER: (OrgKind.DEPARTMENT, OrgKind.COMMITTEE, OrgKind.STUDIO),
}
MODE_UNIT_MESSAGES = {
    ResolutionMode.AT_HOME: _l("Mediation at home is carried out by the village committee: choose a village or "
                               "its people's mediation committee."),
    ResolutionMode.ON_SITE: _l("Mediation on the scene is carried out by the township or village with its grid "
                               "staff: choose a township or a village."),
    ResolutionMode.IN_CENTER: _l("Mediation in the center is carried out by a stationed department or a mediation "
                                 "committee or studio."),
}


def _check_unit_for_mode(case: Case, unit: OrgUnit) -> None:
    mode = ResolutionMode(case.resolution_mode) if case.resolution_mode else None
    kinds = MODE_UNIT_KINDS.get(mode)
    if kinds is None:
        return
    village_committee = unit.kind == OrgKind.COMMITTEE and unit.parent is not None \
        and unit.parent.kind == OrgKind.VILLAGE
    fits = unit.kind in kinds and (mode != ResolutionMode.AT_HOME or unit.kind == OrgKind.VILLAGE
                                   or village_committee)
    if not fits:
        raise ValidationFailed(MODE_UNIT_MESSAGES[mode], field="assigned_unit_id")


def dispatch(case: Case, data: dict[str, Any], user=None) -> dict[str, Any]:
    if data.get("escalate") in (True, "yes", "1", "true"):
        # 上报: beyond the center's powers or a grave risk -- the county decides and names a leader.
        _text(data, "escalation_reason")
        return {"escalate": True}
    try:
        unit_id = int(data.get("assigned_unit_id") or 0)
    except (TypeError, ValueError):
        unit_id = 0
    unit = db.session.scalar(select(OrgUnit).where(OrgUnit.id == unit_id, OrgUnit.kind.in_(ASSIGNABLE_KINDS)))
    if unit is None:
        raise ValidationFailed(_l("Choose the unit that will handle the case."), field="assigned_unit_id")
    _check_unit_for_mode(case, unit)
    if case.accused_unit is not None and case.accused_unit.contains(unit):
        raise ValidationFailed(_l("This matter accuses %(unit)s: it cannot be sent to that unit."),
                               field="assigned_unit_id", unit=case.accused_unit.name)
    _text(data, "instructions")
    wanted = {int(u) for u in data.get("cooperating_unit_ids") or []} - {unit.id}
    helpers = list(db.session.scalars(select(OrgUnit).where(OrgUnit.id.in_(wanted),
                                                            OrgUnit.kind.in_(ASSIGNABLE_KINDS))))
    if len(helpers) != len(wanted):
        raise ValidationFailed(_l("Choose the units to consult from the list."), field="cooperating_unit_ids")
    case.assigned_unit_id = unit.id
    data["assigned_unit_name"] = unit.name  # kept in the step's record for the history
    data["cooperating_unit_names"] = "、".join(h.name for h in helpers)
    return {"escalate": False, "assigned_unit_id": unit.id, "cooperating_unit_ids": sorted(h.id for h in helpers)}


def escalate(case: Case, data: dict[str, Any], user=None) -> dict[str, Any]:
    """县级研处: the county's opinion on an escalated case, with the leader who takes charge (包案)."""
    _text(data, "county_leader")
    _text(data, "opinion")
    return {"escalate": False}


def consult(case: Case, data: dict[str, Any], user=None) -> dict[str, Any]:
    """A cooperating unit's opinion (one instance of the parallel consultation)."""
    opinion = _text(data, "opinion")
    return {"consult_reply": {"opinion": opinion}}


def accept(case: Case, data: dict[str, Any], user=None) -> dict[str, Any]:
    accepted = data.get("accepted") in (True, "yes", "1", "true")
    if not accepted:
        _text(data, "reason")
        case.assigned_unit_id = None  # back to triage: no unit holds the case until it is dispatched again
    return {"accepted": accepted}


def supervise_accept(case: Case, data: dict[str, Any], user=None) -> dict[str, Any]:
    _text(data, "note")
    return {}


AGREEMENTS = (HandlingResult.WRITTEN_AGREEMENT, HandlingResult.ORAL_AGREEMENT)


def _record_agreement(case: Case, data: dict[str, Any], user, kind: AgreementKind) -> None:
    """人民调解法 §29-30: a written agreement is signed by both parties; an oral one agreed by both."""
    if not (data.get("applicant_signed") and data.get("respondent_signed")):
        raise ValidationFailed(_l("An agreement needs both parties: record that both signed or agreed."),
                               field="respondent_signed")
    agreed = data.get("agreement_date")
    if isinstance(agreed, str) and agreed:
        agreed = date.fromisoformat(agreed)
    if not isinstance(agreed, date) or agreed > local_today():
        raise ValidationFailed(_l("Give the date the agreement took effect (not a future date)."),
                               field="agreement_date")
    if SessionResult.AGREED not in session_results(case.id):
        raise ValidationFailed(_l("Record the mediation session at which the parties agreed before reporting "
                                  "the agreement."), field="result")
    record_agreement(user, case, kind, agreed, data)
    case.agreement_date = agreed


def _need_session(case: Case) -> None:
    if not session_results(case.id):
        raise ValidationFailed(_l("Record at least one mediation session (who, when, what each side said) "
                                  "before reporting the result."), field="result")


def handle(case: Case, data: dict[str, Any], user=None) -> dict[str, Any]:
    result = _enum(HandlingResult, data.get("result"), "result")
    if result == HandlingResult.WITHDRAWN:
        raise ValidationFailed(_l("Choose a valid value."), field="result")
    _text(data, "process_notes")
    if result in (HandlingResult.TERMINATED, HandlingResult.REDIRECTED):
        _text(data, "next_channel")
    if result in AGREEMENTS:
        _record_agreement(case, data, user, AgreementKind.WRITTEN if result == HandlingResult.WRITTEN_AGREEMENT
                          else AgreementKind.ORAL)
    elif result == HandlingResult.TERMINATED:
        _need_session(case)
    record_details(case, data, result)  # what this unit records beside the common fields
    case.handling_result = result.value
    return {"handling_result": result.value}


def pre_suit(case: Case, data: dict[str, Any], user=None) -> dict[str, Any]:
    """诉前调解 (最高法 诉前调解规定 §21, §25): an agreement or the parties' own settlement ends it;
    any other outcome, with the reason recorded, sends the matter to the court to be registered."""
    outcome = _enum(PreSuitOutcome, data.get("outcome"), "outcome")
    _text(data, "process_notes")
    if outcome == PreSuitOutcome.AGREEMENT:
        _record_agreement(case, data, user, AgreementKind.WRITTEN)
        case.handling_result = HandlingResult.WRITTEN_AGREEMENT.value
    elif outcome == PreSuitOutcome.WITHDRAWN:
        case.handling_result = HandlingResult.WITHDRAWN.value
    else:
        if outcome != PreSuitOutcome.UNREACHABLE:
            _need_session(case)
        case.handling_result = HandlingResult.TERMINATED.value
    return {"pre_suit_settled": outcome in (PreSuitOutcome.AGREEMENT, PreSuitOutcome.WITHDRAWN),
            "handling_result": case.handling_result}


def court_filing(case: Case, data: dict[str, Any], user=None) -> dict[str, Any]:
    """登记立案 after a failed pre-filing mediation (民事诉讼法 §126: within 7 days, or a ruling not to accept)."""
    filed = data.get("filed") in (True, "yes", "1", "true")
    _text(data, "court_case_no")
    decided = data.get("decided_on")
    if isinstance(decided, str) and decided:
        decided = date.fromisoformat(decided)
    if not isinstance(decided, date) or decided > local_today():
        raise ValidationFailed(_l("Give the date of the court's decision (not a future date)."), field="decided_on")
    case.handling_result = HandlingResult.REDIRECTED.value
    return {"court_filed": filed}


def feedback(case: Case, data: dict[str, Any], user=None) -> dict[str, Any]:
    """反馈; when the agreement gives the parties until a later date to perform, the follow-up visit
    is scheduled for the day after that date (a timer in the diagram) instead of at once."""
    fulfilment = _enum(Fulfilment, data.get("fulfilment"), "fulfilment")
    _text(data, "summary")
    due = data.get("performance_due")
    if isinstance(due, str) and due:
        due = date.fromisoformat(due)
    delay = ""
    if isinstance(due, date) and fulfilment in (Fulfilment.NOT_YET, Fulfilment.PARTLY):
        if due < local_today():
            raise ValidationFailed(_l("The performance date has passed: visit the parties now and leave it empty."),
                                   field="performance_due")
        delay = f"P{(due - local_today()).days + 1}D"
        case.status = CaseStatus.FOLLOWUP_SCHEDULED
    return {"fulfilment": fulfilment.value, "followup_delay": delay}


def followup(case: Case, data: dict[str, Any], user=None) -> dict[str, Any]:
    """回访: both parties asked about fulfilment and satisfaction."""
    applicant = _enum(Satisfaction, data.get("applicant_satisfaction"), "applicant_satisfaction")
    respondent = _enum(Satisfaction, data.get("respondent_satisfaction"), "respondent_satisfaction")
    fulfilment = _enum(Fulfilment, data.get("fulfilment"), "fulfilment")
    _text(data, "notes")
    case.satisfaction, case.fulfilment = applicant.value, fulfilment.value
    return {"applicant_satisfaction": applicant.value, "respondent_satisfaction": respondent.value}


def verify(case: Case, data: dict[str, Any], user=None) -> dict[str, Any]:
    passed = data.get("passed") in (True, "yes", "1", "true")
    if not passed:
        _text(data, "opinion")
        case.verify_failures = (case.verify_failures or 0) + 1
    return {"verify_passed": passed}


def close(case: Case, data: dict[str, Any], user=None) -> dict[str, Any]:
    closing = _enum(ClosingType, data.get("closing_type"), "closing_type")
    _text(data, "summary")
    case.closing_type = closing.value
    score_case(case, utcnow())
    return {"closing_type": closing.value}


def intake(case: Case, data: dict[str, Any], user=None) -> dict[str, Any]:
    """Routing data of a newly registered case (the case itself is built by register_case)."""
    return {"dispute_type": case.dispute_type.code, "township": case.township.code,
            "amount": float(case.amount or 0), "people_count": case.people_count,
            "source_channel": case.source_channel.value, "route": case.route.value}


def refer(case: Case, data: dict[str, Any], user=None) -> dict[str, Any]:
    """Hand the matter to its lawful channel; the receiving body's legal clock becomes the deadline."""
    _text(data, "receiving_body")
    _text(data, "notice")
    days, unit, rule = LEGAL_CLOCKS[case.route]
    case.due_at = legal_due_at(utcnow(), days, unit)
    data["legal_clock"] = rule  # kept in the step's record
    return {}


def refer_followup(case: Case, data: dict[str, Any], user=None) -> dict[str, Any]:
    _enum(ReferralOutcome, data.get("outcome"), "outcome")
    _text(data, "note")
    case.closing_type = ClosingType.REDIRECTED.value
    return {}


STEPS: dict[str, Step] = {
    "intake": intake, "refer": refer, "refer_followup": refer_followup, "triage": triage, "dispatch": dispatch,
    "consult": consult, "accept": accept, "supervise_accept": supervise_accept, "handle": handle, "feedback": feedback,
    "escalate": escalate, "pre_suit": pre_suit, "court_filing": court_filing,
    "followup": followup, "verify": verify, "close": close,
}
