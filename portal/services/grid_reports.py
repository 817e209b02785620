"""流动调: a grid member reports a dispute from the scene, from a phone.

The report becomes a case registered by ``open_case`` (the body of ``register_case``) with the source
channel *grid member report*, the township and village of the grid member's own unit (or another
village of the same township, where the scene was), the people involved, the facts, and the photos
attached as evidence; the browser's position, when it gave one, is kept on the report.

The chain sends every new case to the county center's triage. A grid report takes one of two ways
from there, each completing the chain's own steps with their own checks (``complete_step_by_rule``),
recorded as done by the grid member on this rule and audited:

* **Reported to the township** (上报乡镇): triage takes the triage rules' proposed complexity and risk
  with mediation on the scene (流动调), and the case is dispatched to the grid's township. It then
  waits at the township's window: the township's *accept* step (接件) in its worklist, with the
  chain's one-hour arrival clock. The township accepts and handles it, or objects and sends it back to
  the center's triage as the chain provides. When the rules rate the dispute high risk or difficult,
  nothing is decided for the center: the case waits at the center's triage, and the grid member is
  told so.
* **Resolved on the spot** (就地化解): the grid member settled it at the scene and the settlement is
  performed (or leaves nothing to perform). The case is triaged *simple* (即来即办), on the scene,
  dispatched to the village of the scene, accepted; the mediation on the spot is recorded as a
  session (the grid member mediating and present); handling reports an **oral agreement** (人民调解法
  §28: the mediator records its content) agreed by both parties; feedback, the parties' satisfaction
  as they stated it on the spot, and the verification are the grid member's own; the case is closed
  with the closing type **mediated successfully**. A high-risk or difficult dispute, or a settlement
  still to be performed, is not closed on the spot: it is reported to the township instead.

Anything wrong (a malformed phone or ID number, a file that is not a photo or is too large, missing
facts, a village of another township) refuses the whole report: nothing is saved.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from portal.clock import utcnow
from portal.extensions import db
from portal.idcard import is_valid_id_number, is_valid_phone
from portal.models import (
    Case,
    Complexity,
    Fulfilment,
    GridOutcome,
    GridReport,
    HandlingResult,
    OrgKind,
    OrgUnit,
    PartyKind,
    PlaceKind,
    ResolutionMode,
    RiskLevel,
    Satisfaction,
    SessionResult,
    SourceChannel,
    WorkItem,
    WorkItemStatus,
)
from portal.services._tx import transaction
from portal.services.attachments import attach_file, check_file
from portal.services.audit import audit
from portal.services.cases import IntakeData, PartyData, complete_step_by_rule, open_case
from portal.services.deadlines import local_today, utc_to_local
from portal.services.errors import DomainError, StepNotOpenError, ValidationFailed, choice
from portal.services.sessions import SessionData, add_session

RULE = "grid_report"
REPORTERS = {"grid_member", "Admin"}
MAX_PHOTOS = 6
MAX_PARTIES = 10
# What the grid member may close on the spot: settled and performed there, or nothing left to perform.
SPOT_FULFILMENTS = (Fulfilment.FULFILLED, Fulfilment.NOT_APPLICABLE)


class NotAGridMemberError(DomainError):
    status_code = 403
    message = _l("Only a grid member working in a grid of a village may report from the scene.")


class GridRoutingError(DomainError):
    status_code = 409
    message = _l("The published mediation process does not take a grid report this way; nothing was saved. "
                 "Tell the administrator.")


@dataclass
class GridParty:
    kind: str            # applicant or respondent
    name: str
    phone: str = ""
    id_number: str = ""


@dataclass
class GridPhoto:
    filename: str
    data: bytes


@dataclass
class OnTheSpot:
    """How the grid member settled it at the scene."""

    applicant_statement: str
    respondent_statement: str
    how_resolved: str
    terms: str
    fulfilment: str                 # fulfilled, or n_a: nothing to perform
    both_agreed: bool
    applicant_satisfaction: str
    respondent_satisfaction: str


@dataclass
class GridReportData:
    dispute_type_id: int
    place_kind: str
    place_detail: str
    facts: str
    parties: list[GridParty]
    outcome: str
    village_id: int | None = None   # the village of the scene; the grid's own when not given
    title: str = ""
    requests: str = ""
    people_count: int | None = None
    latitude: float | None = None
    longitude: float | None = None
    accuracy_m: float | None = None
    photos: list[GridPhoto] = field(default_factory=list)
    on_the_spot: OnTheSpot | None = None


@dataclass(frozen=True)
class GridPlace:
    grid: OrgUnit
    village: OrgUnit
    township: OrgUnit


def grid_of(user) -> GridPlace:
    """The user's grid, its village and township; refused unless the user is a grid member (or an
    administrator) working in a grid."""
    if not REPORTERS & user.role_names:
        raise NotAGridMemberError()
    grid = user.org_unit
    village = grid.parent if grid is not None and grid.kind == OrgKind.GRID else None
    township = village.parent if village is not None and village.kind == OrgKind.VILLAGE else None
    if township is None or township.kind != OrgKind.TOWNSHIP:
        raise NotAGridMemberError()
    return GridPlace(grid, village, township)


def villages_of(township: OrgUnit) -> list[OrgUnit]:
    return list(db.session.scalars(select(OrgUnit).where(OrgUnit.parent_id == township.id,
                                                         OrgUnit.kind == OrgKind.VILLAGE).order_by(OrgUnit.code)))


def _text(value: str, field: str, message, limit: int | None = None) -> str:
    text = (value or "").strip()
    if not text:
        raise ValidationFailed(message, field=field)
    if limit and len(text) > limit:
        raise ValidationFailed(_l("At most %(n)s characters."), field=field, n=limit)
    return text


def _village(place: GridPlace, village_id: int | None) -> OrgUnit:
    if not village_id or village_id == place.village.id:
        return place.village
    village = db.session.get(OrgUnit, village_id)
    if village is None or village.kind != OrgKind.VILLAGE or village.parent_id != place.township.id:
        raise ValidationFailed(_l("A grid member reports only in the villages of the own township (%(township)s)."),
                               field="village_id", township=place.township.name)
    return village


def _parties(parties: list[GridParty]) -> list[PartyData]:
    if not parties:
        raise ValidationFailed(_l("Name the people involved: at least one party with name and phone."),
                               field="parties")
    if len(parties) > MAX_PARTIES:
        raise ValidationFailed(_l("At most %(n)s people can be listed in one report."), field="parties",
                               n=MAX_PARTIES)
    cleaned = []
    for p in parties:
        kind = choice(PartyKind, p.kind, "parties")
        name = _text(p.name, "parties", _l("Give the name of each person listed."), 50)
        phone = (p.phone or "").strip().replace(" ", "")
        if phone and not is_valid_phone(phone):
            raise ValidationFailed(_l("The phone number of %(name)s is not valid: 11-digit mobile or area code "
                                      "plus number."), field="parties", name=name)
        number = (p.id_number or "").strip().upper()
        if number and not is_valid_id_number(number):
            raise ValidationFailed(_l("The ID number of %(name)s is not valid: check the 18 characters and the "
                                      "last (check) digit."), field="parties", name=name)
        cleaned.append(PartyData(kind.value, name, number, phone))
    if not any(p.phone for p in cleaned):
        raise ValidationFailed(_l("Give the phone number of at least one party, so the township can reach them."),
                               field="parties")
    return cleaned


def _position(data: GridReportData) -> tuple[float | None, float | None, float | None]:
    """The browser's position, if it gave one: both coordinates or none, in range."""
    lat, lon, acc = data.latitude, data.longitude, data.accuracy_m
    if lat is None and lon is None:
        return None, None, None
    if lat is None or lon is None or not (-90 <= lat <= 90) or not (-180 <= lon <= 180) \
            or (acc is not None and not 0 <= acc <= 100000):
        raise ValidationFailed(_l("The position the browser gave is not valid; report again, without it if "
                                  "need be."), field="latitude")
    return round(lat, 6), round(lon, 6), (round(acc, 1) if acc is not None else None)


def _photos(photos: list[GridPhoto]) -> list[tuple[GridPhoto, Any]]:
    photos = [p for p in photos if p.data or p.filename]
    if len(photos) > MAX_PHOTOS:
        raise ValidationFailed(_l("At most %(n)s photos per report."), field="photos", n=MAX_PHOTOS)
    checked = []
    for photo in photos:
        try:
            checked.append((photo, check_file(photo.data, photo=True)))
        except ValidationFailed as exc:
            raise ValidationFailed(_l("Photo %(name)s: %(problem)s"), field="photos",
                                   name=photo.filename or "?", problem=str(exc)) from None
    return checked


def _check_spot(spot: OnTheSpot | None) -> OnTheSpot:
    if spot is None:
        raise ValidationFailed(_l("Say how the dispute was resolved on the spot."), field="how_resolved")
    _text(spot.applicant_statement, "applicant_statement", _l("Say what the applicant said on the spot."))
    _text(spot.respondent_statement, "respondent_statement", _l("Say what the respondent said on the spot."))
    _text(spot.how_resolved, "how_resolved", _l("Say how the dispute was resolved on the spot."))
    _text(spot.terms, "terms", _l("Give what the parties agreed."))
    if choice(Fulfilment, spot.fulfilment, "fulfilment") not in SPOT_FULFILMENTS:
        raise ValidationFailed(_l("Only a settlement performed on the spot (or leaving nothing to perform) is "
                                  "closed here: report anything still to be done to the township."),
                               field="fulfilment")
    if not spot.both_agreed:
        raise ValidationFailed(_l("A dispute is resolved on the spot only when both parties agree: record that "
                                  "they did, or report it to the township."), field="both_agreed")
    choice(Satisfaction, spot.applicant_satisfaction, "applicant_satisfaction")
    choice(Satisfaction, spot.respondent_satisfaction, "respondent_satisfaction")
    return spot


def _intake(data: GridReportData, place: GridPlace, village: OrgUnit, parties: list[PartyData]) -> IntakeData:
    from portal.models import DisputeType
    dtype = db.session.get(DisputeType, data.dispute_type_id or 0)
    facts = _text(data.facts, "facts", _l("Describe what happened: the facts of the dispute."))
    place_detail = _text(data.place_detail, "place_detail", _l("Say where it happened."), 200)
    title = (data.title or "").strip()
    if not title and dtype is not None:
        first = {k: next((p.name for p in parties if p.kind == k), "") for k in ("applicant", "respondent")}
        title = str(_l("%(applicant)s and %(respondent)s: %(type)s", applicant=first["applicant"],
                       respondent=first["respondent"], type=dtype.name))
    choice(PlaceKind, data.place_kind, "place_kind")
    return IntakeData(title=title[:200], dispute_type_id=data.dispute_type_id or 0, township_id=place.township.id,
                      village_id=village.id, place_kind=data.place_kind, place_detail=place_detail, facts=facts,
                      requests=(data.requests or "").strip(), amount=None,
                      people_count=max(data.people_count or len(parties), 1),
                      source_channel=SourceChannel.GRID.value, parties=parties)


@transaction
def report_incident(user, data: GridReportData) -> GridReport:
    """Register the grid member's report as a case, with its photos and position, and send it on:
    to the township's window, or closed as resolved on the spot (see the module's description)."""
    place = grid_of(user)
    outcome = choice(GridOutcome, data.outcome, "outcome")
    village = _village(place, data.village_id)
    parties = _parties(data.parties)
    intake = _intake(data, place, village, parties)
    lat, lon, acc = _position(data)
    photos = _photos(data.photos)
    spot = _check_spot(data.on_the_spot) if outcome == GridOutcome.ON_THE_SPOT else None
    case = open_case(user, intake)
    for n, (photo, kind) in enumerate(photos, 1):
        attach_file(user, case, "evidence", str(_l("Photo of the scene %(n)s", n=n)), photo.filename, photo.data,
                    kind)
    now = utcnow()
    report = GridReport(case_id=case.id, reporter_id=user.id, grid_id=place.grid.id, outcome=outcome,
                        latitude=lat, longitude=lon, accuracy_m=acc, reported_at=now)
    db.session.add(report)
    db.session.flush()
    try:
        if spot is None:
            routed = _send_to_township(user, case, place, now)
        else:
            routed = _close_on_the_spot(user, case, village, spot, now)
    except StepNotOpenError:
        raise GridRoutingError() from None
    audit("grid.report", user=user, case=case, report=report.id, outcome=outcome.value, routed=routed,
          grid=place.grid.code, village=village.code, photos=len(photos), located=lat is not None,
          accuracy_m=acc)
    return report


def _proposals(case: Case) -> tuple[str, str]:
    """The triage rules' proposed complexity and risk (what the triage form would open with)."""
    item = db.session.scalar(select(WorkItem).where(WorkItem.case_id == case.id, WorkItem.form_key == "triage",
                                                    WorkItem.status == WorkItemStatus.OPEN))
    if item is None:
        raise GridRoutingError()
    proposed = json.loads(item.form_defaults or "{}")
    return proposed.get("complexity") or Complexity.GENERAL.value, proposed.get("risk_level") or RiskLevel.LOW.value


def _for_the_center(complexity: str, risk: str) -> bool:
    """红: report at once -- a high-risk or difficult dispute is the county center's to triage."""
    return risk == RiskLevel.HIGH.value or complexity == Complexity.DIFFICULT.value


def _by_rule(user, case: Case, now):
    def step(form_key: str, data: dict[str, Any]) -> None:
        complete_step_by_rule(user, case, form_key, data, now, RULE)
    return step


def _send_to_township(user, case: Case, place: GridPlace, now) -> str:
    complexity, risk = _proposals(case)
    if _for_the_center(complexity, risk):
        return "center_triage"
    name = user.first_name or user.username
    step = _by_rule(user, case, now)
    step("triage", {"complexity": complexity, "risk_level": risk, "resolution_mode": ResolutionMode.ON_SITE.value,
                    "opinion": str(_l("Reported from the scene by grid member %(name)s: the triage rules' proposal, "
                                      "mediation on the scene by the township.", name=name))})
    step("dispatch", {"escalate": "no", "assigned_unit_id": place.township.id,
                      "instructions": str(_l("Grid report: accept it at the township's window and mediate on the "
                                             "scene with the grid member, or object to send it back to the "
                                             "center's triage."))})
    return "township"


def _close_on_the_spot(user, case: Case, village: OrgUnit, spot: OnTheSpot, now) -> str:
    complexity, risk = _proposals(case)
    if _for_the_center(complexity, risk):
        raise ValidationFailed(_l("The triage rules rate this dispute high risk or difficult: it cannot be closed "
                                  "on the spot. Report it to the township."), field="outcome")
    name = user.first_name or user.username
    on_spot = str(_l("On the spot, by grid member %(name)s.", name=name))
    step = _by_rule(user, case, now)
    step("triage", {"complexity": Complexity.SIMPLE.value, "risk_level": risk,
                    "resolution_mode": ResolutionMode.ON_SITE.value, "opinion": on_spot})
    step("dispatch", {"escalate": "no", "assigned_unit_id": village.id, "instructions": on_spot})
    step("accept", {"accepted": "yes", "reason": ""})
    add_session(user, case, SessionData(
        held_at=utc_to_local(now).replace(tzinfo=None), mediators=name, attendees=name, place=case.place_detail or "",
        applicant_statement=spot.applicant_statement.strip(), respondent_statement=spot.respondent_statement.strip(),
        result=SessionResult.AGREED.value), now)
    performed = Fulfilment(spot.fulfilment)
    performance = _l("Performed on the spot.") if performed == Fulfilment.FULFILLED \
        else _l("Nothing is left to perform.")
    step("handle", {"result": HandlingResult.ORAL_AGREEMENT.value, "process_notes": spot.how_resolved.strip(),
                    "next_channel": "", "agreement_date": local_today(), "applicant_signed": True,
                    "respondent_signed": True, "agreement_facts": case.facts, "agreement_terms": spot.terms.strip(),
                    "performance_terms": str(performance), "grid_members": name})
    step("feedback", {"fulfilment": performed.value, "summary": f"{on_spot} {performance}"})
    step("followup", {"method": "visit", "applicant_satisfaction": spot.applicant_satisfaction,
                      "respondent_satisfaction": spot.respondent_satisfaction, "fulfilment": performed.value,
                      "notes": str(_l("Asked on the spot by grid member %(name)s when the parties agreed.",
                                      name=name))})
    step("verify", {"passed": "yes", "opinion": str(_l("Resolved on the spot: confirmed by grid member %(name)s, "
                                                      "who settled it; not checked separately by the center.",
                                                      name=name))})
    step("close", {"closing_type": "mediated",
                   "summary": str(_l("Resolved on the spot by grid member %(name)s: %(terms)s", name=name,
                                     terms=spot.terms.strip()))})
    return "closed"


def my_reports(user, limit: int = 100) -> list[GridReport]:
    """The grid member's own reports, newest first, with their cases (whatever the case's unit now is)."""
    return list(db.session.scalars(
        select(GridReport).options(joinedload(GridReport.case).joinedload(Case.assigned_unit),
                                   joinedload(GridReport.case).joinedload(Case.township),
                                   joinedload(GridReport.case).joinedload(Case.village))
        .where(GridReport.reporter_id == user.id).order_by(GridReport.reported_at.desc(), GridReport.id.desc())
        .limit(limit)))


def photo_limit() -> int:
    return current_app.config["PORTAL_ATTACHMENT_MAX_BYTES"]
