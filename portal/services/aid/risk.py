"""风险管控 (信访工作条例 §37; domain.md §1.4): a person still dissatisfied after the petition
procedure has ended (复核, or lawfully ended) or after a final judgment. The center's analysts
assess the risk; the director issues a 风险管控提示函 to the township and the sector department;
the township names who keeps the person stable and who works to resolve the matter, then
follows the person up at an interval set by the risk level, until the director confirms that the
matter is resolved. One open file per person."""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, func, select
from sqlalchemy import case as when
from sqlalchemy.orm import aliased

from portal.clock import utcnow
from portal.extensions import db
from portal.models import (
    Branch,
    BranchKind,
    BranchOutcome,
    BranchStatus,
    Case,
    OrgKind,
    OrgUnit,
    Party,
    RiskLevel,
    WorkItem,
    WorkItemStatus,
)
from portal.services.aid.common import assign_number, optional_text, party_of, past_date, set_person, text, yes
from portal.services.deadlines import local_today
from portal.services.errors import ValidationFailed
from portal.services.queries import visible_cases_filter

APPLY_KEY = "risk_assess"
START_LANES = {"综合研判"}

# 管控依据: what ended the lawful procedures the person is still dissatisfied with.
BASES = {
    "petition_ended": _l("Petition procedure ended (after re-examination, or lawfully ended)"),
    "final_judgment": _l("Final judgment of a lawsuit"),
    "other": _l("Other"),
}
LEVELS = {RiskLevel.HIGH.value: RiskLevel.HIGH.label, RiskLevel.MEDIUM.value: RiskLevel.MEDIUM.label,
          RiskLevel.LOW.value: RiskLevel.LOW.label}
RANK = {"low": 1, "medium": 2, "high": 3}
# How often the township follows the person up (an ISO duration for the diagram's timer).
INTERVALS = {"high": "P7D", "medium": "P15D", "low": "P30D"}
METHODS = {"visit": _l("Home visit"), "phone": _l("Telephone"), "interview": _l("Talk at the office")}
STATES = {"stable": _l("Stable"), "abnormal": _l("Signs of unrest"), "resolved": _l("Resolved")}
LETTER_NUMBER = "风险管控提示函（{year}）第{n}号"


def start_data(case: Case) -> dict:
    return {}  # the township and the center come with every branch


def _level(data: dict, field: str) -> str:
    level = data.get(field)
    if level not in INTERVALS:
        raise ValidationFailed(_l("Choose the risk level."), field=field)
    return level


def _check_one_open_file(branch: Branch) -> None:
    """A person is under one risk-control file at a time: the open one is followed up instead."""
    earlier = db.session.scalars(select(Branch).where(
        Branch.kind == BranchKind.RISK, Branch.person_key == branch.person_key,
        Branch.status == BranchStatus.OPEN, Branch.id != branch.id).order_by(Branch.id)).first()
    if earlier is not None:
        raise ValidationFailed(_l("%(name)s is already under risk control (file opened on %(day)s, case "
                                  "%(case)s); follow that file up instead. Nothing was saved."), field="party_id",
                               name=branch.person_name, day=f"{earlier.started_at:%Y-%m-%d}",
                               case=earlier.case.code or earlier.case_id)


def _sector_unit(data: dict) -> OrgUnit:
    try:
        unit_id = int(data.get("sector_unit") or 0)
    except (TypeError, ValueError):
        unit_id = 0
    unit = db.session.get(OrgUnit, unit_id) if unit_id else None
    if unit is None or unit.kind != OrgKind.DEPARTMENT:
        raise ValidationFailed(_l("Choose the sector department from the departments."), field="sector_unit")
    return unit


def assess(branch: Branch, data: dict, user=None) -> dict:
    """风险研判: who, on what basis, what the person still wants, how high the risk and why."""
    party = party_of(branch, data)
    set_person(branch, party)
    basis = data.get("basis")
    if basis not in BASES:
        raise ValidationFailed(_l("Choose what ended the procedures the person is dissatisfied with."),
                               field="basis")
    basis_other = text(data, "basis_other") if basis == "other" else ""
    document = text(data, "basis_document")
    basis_date = past_date(data, "basis_date")
    demands = text(data, "demands")
    level = _level(data, "risk_level")
    reasons = text(data, "risk_reasons")
    sector = _sector_unit(data)
    data["sector_unit_name"] = sector.name  # kept in the step's record for the history
    _check_one_open_file(branch)
    branch.matter, branch.risk_level = basis, level
    branch.remember(basis_other=basis_other, basis_document=document, basis_date=basis_date.isoformat(),
                    demands=demands, risk_reasons=reasons, initial_level=level, sector_unit_id=sector.id,
                    sector_unit=sector.name, followups=[])
    return {}


def letter(branch: Branch, data: dict, user=None) -> dict:
    """风险管控提示函 to the township and the sector department; the level sets the follow-up interval."""
    issued = past_date(data, "issued_on", not_before=branch.started_at.date())
    measures = text(data, "measures")
    number = assign_number(branch, "risk_letter", LETTER_NUMBER, issued.year)
    township = db.session.get(OrgUnit, branch.case.township_id)
    branch.remember(letter_number=number, letter_issued_on=issued.isoformat(), letter_measures=measures,
                    letter_to=[township.name, branch.info.get("sector_unit", "")])
    return {"followup_interval": INTERVALS[branch.risk_level]}


def _person(data: dict, role: str) -> dict:
    phone = text(data, f"{role}_phone")
    if not phone.replace("-", "").replace(" ", "").isdigit() or not 7 <= len(phone) <= 20:
        raise ValidationFailed(_l("Give a telephone number (digits, at least 7)."), field=f"{role}_phone")
    return {"name": text(data, f"{role}_name"), "post": text(data, f"{role}_post"), "phone": phone}


def assign(branch: Branch, data: dict, user=None) -> dict:
    """落实稳控责任: the township names who keeps the person stable and who resolves the matter."""
    stability = _person(data, "stability")
    resolution = _person(data, "resolution")
    branch.remember(stability=stability, resolution=resolution, measures_taken=text(data, "measures"))
    return {}


def followup(branch: Branch, data: dict, user=None) -> dict:
    """动态跟进: one round of contact; signs of unrest may raise the level (and so shorten the next
    interval); a resolved matter goes to the director to confirm."""
    info = branch.info
    not_before = date.fromisoformat(info["letter_issued_on"]) if info.get("letter_issued_on") else None
    contacted = past_date(data, "contacted_on", not_before=not_before)
    method = data.get("method")
    if method not in METHODS:
        raise ValidationFailed(_l("Choose how the person was contacted."), field="method")
    state = data.get("state")
    if state not in STATES:
        raise ValidationFailed(_l("Choose the person's state."), field="state")
    notes = text(data, "notes")
    new_level = optional_text(data, "new_level")
    if new_level:
        if state != "abnormal":
            raise ValidationFailed(_l("The risk level is raised only when there are signs of unrest."),
                                   field="new_level")
        if RANK.get(new_level, 0) <= RANK[branch.risk_level]:
            raise ValidationFailed(_l("The new level must be higher than the present one (%(level)s)."),
                                   field="new_level", level=LEVELS[branch.risk_level])
        branch.risk_level = new_level
    rounds = info.get("followups", [])
    rounds.append({"round": len(rounds) + 1, "contacted_on": contacted.isoformat(), "method": method,
                   "state": state, "notes": notes, "level": branch.risk_level,
                   "by": getattr(user, "username", None)})
    branch.remember(followups=rounds, last_followup_on=contacted.isoformat(), last_state=state)
    return {"resolved": state == "resolved", "followup_interval": INTERVALS[branch.risk_level]}


def close(branch: Branch, data: dict, user=None) -> dict:
    """确认化解: the director confirms the matter resolved (the file ends) or sends it back to be
    followed up, with the reasons either way."""
    if data.get("confirmed") not in ("yes", "no", True, False):
        raise ValidationFailed(_l("Say whether the matter is confirmed resolved."), field="confirmed")
    confirmed = yes(data, "confirmed")
    opinion = text(data, "opinion")
    if confirmed:
        branch.outcome, branch.decision_reason = BranchOutcome.RESOLVED, opinion
        branch.remember(resolved_confirmed_on=local_today().isoformat())
    else:  # followed up again at the level's interval
        branch.remember(close_refused=opinion)
    return {"confirmed": confirmed}


STEPS = {"risk_assess": assess, "risk_letter": letter, "risk_assign": assign, "risk_followup": followup,
         "risk_close": close}


# -- the county's risk-control ledger (稳定台账) ----------------------------------------------------

@dataclass(frozen=True)
class LedgerRow:
    """One person under risk control, as the ledger lists them."""

    branch_id: int
    case_id: int
    case_code: str | None
    person: str
    township_id: int
    township: str
    level: str | None
    basis: str | None
    letter_number: str | None
    stability: dict | None        # 稳控责任人 {name, post, phone}
    resolution: dict | None       # 化解责任人
    step: str | None              # the open step(s); None while the follow-up timer waits
    outcome: str | None
    last_followup_on: str | None
    last_state: str | None        # stable / abnormal / resolved, from the last follow-up
    rounds: int                   # follow-ups recorded
    next_due: datetime | None     # the open step's deadline, or when the next follow-up falls due
    overdue: bool                 # a step of the file is past its deadline
    started_at: datetime
    running: bool

    @property
    def state(self) -> str:
        """resolved, overdue, open, or closed (ended without being resolved)."""
        if self.outcome == BranchOutcome.RESOLVED.value:
            return "resolved"
        if not self.running:
            return "closed"
        return "overdue" if self.overdue else "open"


def risk_ledger(user, township_id: int | None = None, state: str | None = None) -> list[LedgerRow]:
    """Every risk-control file of the cases the user may see (the center: the county's), running ones
    first and the highest risk first. ``state``: "open" (every file still running, overdue ones too),
    "overdue" (a step past its deadline) or "resolved"."""
    now = utcnow()
    township = aliased(OrgUnit)
    open_due = select(WorkItem.branch_id, func.min(WorkItem.due_at).label("item_due")) \
        .where(WorkItem.status == WorkItemStatus.OPEN, WorkItem.branch_id.is_not(None),
               WorkItem.due_at.is_not(None)).group_by(WorkItem.branch_id).subquery()
    running = and_(Branch.status == BranchStatus.OPEN, Branch.outcome.is_(None))
    overdue = and_(open_due.c.item_due.is_not(None), open_due.c.item_due < now)
    query = select(Branch.id, Branch.case_id, Case.code.label("case_code"), Party.name.label("person"),
                   Case.township_id, township.name.label("township"), Branch.risk_level, Branch.matter,
                   Branch.number, Branch.current_step, Branch.outcome, Branch.next_timer_due_at, Branch.details,
                   Branch.started_at, open_due.c.item_due, running.label("running"), overdue.label("overdue")) \
        .join(Case, Case.id == Branch.case_id).join(township, township.id == Case.township_id) \
        .outerjoin(Party, Party.id == Branch.party_id).outerjoin(open_due, open_due.c.branch_id == Branch.id) \
        .where(Branch.kind == BranchKind.RISK, visible_cases_filter(user))
    if township_id is not None:
        query = query.where(Case.township_id == township_id)
    if state == "open":
        query = query.where(running)
    elif state == "overdue":
        query = query.where(running, overdue)
    elif state == "resolved":
        query = query.where(Branch.outcome == BranchOutcome.RESOLVED)
    elif state is not None:
        raise ValidationFailed(_l("Unknown ledger state."), field="state")
    rank = when({"high": 0, "medium": 1, "low": 2}, value=Branch.risk_level, else_=3)
    query = query.order_by(when((running, 0), else_=1), rank, Branch.id)
    return [_row(r) for r in db.session.execute(query)]


def _row(r) -> LedgerRow:
    info = json.loads(r.details or "{}")
    running = bool(r.running)
    return LedgerRow(
        branch_id=r.id, case_id=r.case_id, case_code=r.case_code, person=r.person or "",
        township_id=r.township_id, township=r.township, level=r.risk_level, basis=r.matter,
        letter_number=r.number, stability=info.get("stability"), resolution=info.get("resolution"),
        step=r.current_step, outcome=r.outcome.value if r.outcome is not None else None,
        last_followup_on=info.get("last_followup_on"), last_state=info.get("last_state"),
        rounds=len(info.get("followups", [])), next_due=(r.item_due or r.next_timer_due_at) if running else None,
        overdue=bool(r.overdue) and running, started_at=r.started_at, running=running)
