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
    Case,
    ClosingType,
    Complexity,
    Fulfilment,
    HandlingResult,
    OrgKind,
    OrgUnit,
    ResolutionMode,
    RiskLevel,
    Satisfaction,
)
from portal.services.channels import LEGAL_CLOCKS
from portal.services.deadlines import case_due_at, legal_due_at, local_today
from portal.services.errors import ValidationFailed, choice, required_text
from portal.services.scoring import score_case


class ReferralOutcome(Enum):
    ACCEPTED = "accepted"
    REFUSED = "refused"
    ANSWERED = "answered"


ASSIGNABLE_KINDS = (OrgKind.DEPARTMENT, OrgKind.COMMITTEE, OrgKind.STUDIO, OrgKind.TOWNSHIP, OrgKind.VILLAGE)

Step = Callable[[Case, dict[str, Any]], dict[str, Any]]


def _enum(enum_cls, value, field):
    return choice(enum_cls, value, field)


def _text(data, field) -> str:
    return required_text(data.get(field), field)


def triage(case: Case, data: dict[str, Any]) -> dict[str, Any]:
    tier = _enum(Complexity, data.get("complexity"), "complexity")
    risk = _enum(RiskLevel, data.get("risk_level"), "risk_level")
    mode = _enum(ResolutionMode, data.get("resolution_mode"), "resolution_mode")
    _text(data, "opinion")
    case.complexity, case.risk_level, case.resolution_mode = tier.value, risk.value, mode.value
    case.due_at = case_due_at(case.registered_at, case.dispute_type_id, tier)
    return {"complexity": tier.value, "risk_level": risk.value, "resolution_mode": mode.value}


def dispatch(case: Case, data: dict[str, Any]) -> dict[str, Any]:
    try:
        unit_id = int(data.get("assigned_unit_id") or 0)
    except (TypeError, ValueError):
        unit_id = 0
    unit = db.session.scalar(select(OrgUnit).where(OrgUnit.id == unit_id, OrgUnit.kind.in_(ASSIGNABLE_KINDS)))
    if unit is None:
        raise ValidationFailed(_l("Choose the unit that will handle the case."), field="assigned_unit_id")
    _text(data, "instructions")
    wanted = {int(u) for u in data.get("cooperating_unit_ids") or []} - {unit.id}
    helpers = list(db.session.scalars(select(OrgUnit).where(OrgUnit.id.in_(wanted),
                                                            OrgUnit.kind.in_(ASSIGNABLE_KINDS))))
    if len(helpers) != len(wanted):
        raise ValidationFailed(_l("Choose the units to consult from the list."), field="cooperating_unit_ids")
    case.assigned_unit_id = unit.id
    data["assigned_unit_name"] = unit.name  # kept in the step's record for the history
    data["cooperating_unit_names"] = "、".join(h.name for h in helpers)
    return {"assigned_unit_id": unit.id, "cooperating_unit_ids": sorted(h.id for h in helpers)}


def consult(case: Case, data: dict[str, Any]) -> dict[str, Any]:
    """A cooperating unit's opinion (one instance of the parallel consultation)."""
    opinion = _text(data, "opinion")
    return {"consult_reply": {"opinion": opinion}}


def accept(case: Case, data: dict[str, Any]) -> dict[str, Any]:
    accepted = data.get("accepted") in (True, "yes", "1", "true")
    if not accepted:
        _text(data, "reason")
        case.assigned_unit_id = None  # back to triage: no unit holds the case until it is dispatched again
    return {"accepted": accepted}


def supervise_accept(case: Case, data: dict[str, Any]) -> dict[str, Any]:
    _text(data, "note")
    return {}


AGREEMENTS = (HandlingResult.WRITTEN_AGREEMENT, HandlingResult.ORAL_AGREEMENT)


def handle(case: Case, data: dict[str, Any]) -> dict[str, Any]:
    result = _enum(HandlingResult, data.get("result"), "result")
    _text(data, "process_notes")
    if result in (HandlingResult.TERMINATED, HandlingResult.REDIRECTED):
        _text(data, "next_channel")
    if result in AGREEMENTS:
        # 人民调解法 §29-30: a written agreement is signed by both parties; an oral one agreed by both.
        if not (data.get("applicant_signed") and data.get("respondent_signed")):
            raise ValidationFailed(_l("An agreement needs both parties: record that both signed or agreed."),
                                   field="respondent_signed")
        agreed = data.get("agreement_date")
        if isinstance(agreed, str) and agreed:
            agreed = date.fromisoformat(agreed)
        if not isinstance(agreed, date) or agreed > local_today():
            raise ValidationFailed(_l("Give the date the agreement took effect (not a future date)."),
                                   field="agreement_date")
        case.agreement_date = agreed
    case.handling_result = result.value
    return {"handling_result": result.value}


def feedback(case: Case, data: dict[str, Any]) -> dict[str, Any]:
    fulfilment = _enum(Fulfilment, data.get("fulfilment"), "fulfilment")
    _text(data, "summary")
    return {"fulfilment": fulfilment.value}


def followup(case: Case, data: dict[str, Any]) -> dict[str, Any]:
    """回访: both parties asked about fulfilment and satisfaction."""
    applicant = _enum(Satisfaction, data.get("applicant_satisfaction"), "applicant_satisfaction")
    respondent = _enum(Satisfaction, data.get("respondent_satisfaction"), "respondent_satisfaction")
    fulfilment = _enum(Fulfilment, data.get("fulfilment"), "fulfilment")
    _text(data, "notes")
    case.satisfaction, case.fulfilment = applicant.value, fulfilment.value
    return {"applicant_satisfaction": applicant.value, "respondent_satisfaction": respondent.value}


def verify(case: Case, data: dict[str, Any]) -> dict[str, Any]:
    passed = data.get("passed") in (True, "yes", "1", "true")
    if not passed:
        _text(data, "opinion")
        case.verify_failures = (case.verify_failures or 0) + 1
    return {"verify_passed": passed}


def close(case: Case, data: dict[str, Any]) -> dict[str, Any]:
    closing = _enum(ClosingType, data.get("closing_type"), "closing_type")
    _text(data, "summary")
    case.closing_type = closing.value
    score_case(case, utcnow())
    return {"closing_type": closing.value}


def intake(case: Case, data: dict[str, Any]) -> dict[str, Any]:
    """Routing data of a newly registered case (the case itself is built by register_case)."""
    return {"dispute_type": case.dispute_type.code, "township": case.township.code,
            "amount": float(case.amount or 0), "people_count": case.people_count,
            "source_channel": case.source_channel.value, "route": case.route.value}


def refer(case: Case, data: dict[str, Any]) -> dict[str, Any]:
    """Hand the matter to its lawful channel; the receiving body's legal clock becomes the deadline."""
    _text(data, "receiving_body")
    _text(data, "notice")
    days, unit, rule = LEGAL_CLOCKS[case.route]
    case.due_at = legal_due_at(utcnow(), days, unit)
    data["legal_clock"] = rule  # kept in the step's record
    return {}


def refer_followup(case: Case, data: dict[str, Any]) -> dict[str, Any]:
    _enum(ReferralOutcome, data.get("outcome"), "outcome")
    _text(data, "note")
    case.closing_type = ClosingType.REDIRECTED.value
    return {}


STEPS: dict[str, Step] = {
    "intake": intake, "refer": refer, "refer_followup": refer_followup, "triage": triage, "dispatch": dispatch,
    "consult": consult, "accept": accept, "supervise_accept": supervise_accept, "handle": handle, "feedback": feedback,
    "followup": followup, "verify": verify, "close": close,
}
