"""Seed the demo county and about a year of cases, through the real services and engine.

Cases are registered and advanced with ``register_case``/``complete_task``
under a frozen clock, so their history, deadlines and audit rows are what the
portal itself would have written. Older cases are mostly closed; recent ones
stop at every step of the chain.
"""
from __future__ import annotations

import random
from datetime import date, datetime, timedelta

from sqlalchemy import func, select

from portal.clock import frozen_at, utcnow
from portal.demo import county
from portal.demo.details import demo_details
from portal.extensions import db
from portal.idcard import check_digit
from portal.models import (
    Case,
    ClosingType,
    Complexity,
    DisputeType,
    Fulfilment,
    HandlingResult,
    LawfulChannel,
    OrgKind,
    OrgUnit,
    PartyKind,
    PlaceKind,
    PortalUser,
    ResolutionMode,
    RiskLevel,
    SessionResult,
    SourceChannel,
    WorkItem,
    WorkItemStatus,
)
from portal.services.accounts import create_user
from portal.services.cases import IntakeData, PartyData, complete_task, register_case
from portal.services.deadlines import utc_to_local
from portal.services.departments import spec_for_unit
from portal.services.reference import load_county
from portal.services.sessions import SessionData, record_session

DEMO_PASSWORD = "demo1234"
# username, full name, roles, org code
DEMO_USERS = [
    ("admin", "系统管理员", ["Admin"], "CENTER"),
    ("window", "受理窗口王芳", ["intake_clerk"], "CENTER"),
    ("dispatch", "综合调度李强", ["dispatcher"], "CENTER"),
    ("verify", "核查督办赵敏", ["verifier"], "CENTER"),
    ("director", "中心主任陈刚", ["director"], "CENTER"),
    ("mediator", "调解员周大山", ["mediator"], "T01V01C"),
    ("township", "城关镇矛调中心刘洋", ["township_staff"], "T01"),
    ("grid", "网格员孙丽", ["grid_member"], "T01V01G1"),
    ("relief", "救助经办吴静", ["assistance_handler"], "D13"),
] + [(f"dept{d['code'][1:]}", f"{d['short']}承办人", ["dept_handler"], d["code"]) for d in county.DEPARTMENTS] \
  + [(f"lead{d['code'][1:]}", f"{d['short']}负责人", ["unit_leader"], d["code"]) for d in county.DEPARTMENTS] \
  + [("centerlead", "矛调中心副主任", ["unit_leader"], "CENTER")]


def _id_number(rng: random.Random, born: date) -> str:
    first17 = f"5226{rng.randint(21, 35):02d}{born:%Y%m%d}{rng.randint(0, 999):03d}"
    return first17 + check_digit(first17)


def _party(rng: random.Random, kind: str, known_id: bool = True) -> PartyData:
    name = rng.choice(county.PERSON_SURNAMES) + rng.choice(county.PERSON_GIVEN)
    born = date(rng.randint(1950, 2003), rng.randint(1, 12), rng.randint(1, 28))
    return PartyData(kind, name, _id_number(rng, born) if known_id else "",
                     f"1{rng.choice('3589')}{rng.randint(0, 999999999):09d}", "")


def seed_demo(n_cases: int = 400, seed: int = 20231) -> str:
    """Seed everything into an empty county; refuse (and change nothing) if it has townships."""
    if db.session.scalar(select(func.count(OrgUnit.id)).where(OrgUnit.kind == OrgKind.TOWNSHIP)):
        return "demo county already present; nothing done"
    rng = random.Random(seed)
    counts = load_county(county.TOWNSHIPS, county.DEPARTMENTS, county.INDUSTRY_COMMITTEES, county.STUDIOS)
    for username, full_name, roles, org in DEMO_USERS:
        create_user(username, full_name, roles, org, DEMO_PASSWORD)
    _seed_cases(rng, n_cases)
    return f"demo county: {counts}; users: {len(DEMO_USERS)} (password {DEMO_PASSWORD}); cases: {n_cases}"


def _users() -> dict[str, PortalUser]:
    return {u.username: u for u in db.session.scalars(select(PortalUser))}


def _seed_cases(rng: random.Random, n: int) -> None:
    users = _users()
    types = [t for t in db.session.scalars(select(DisputeType)) if t.parent_id is not None]
    towns = list(db.session.scalars(select(OrgUnit).where(OrgUnit.kind == OrgKind.TOWNSHIP)))
    villages = {t.id: list(db.session.scalars(select(OrgUnit).where(OrgUnit.parent_id == t.id,
                                                                     OrgUnit.kind == OrgKind.VILLAGE)))
                for t in towns}
    units = {u.code: u for u in db.session.scalars(select(OrgUnit).where(OrgUnit.code.in_(
        [d["code"] for d in county.DEPARTMENTS] + ["T01", "T01V01", "T01V01C"])))}
    now = utcnow()
    for i in range(n):
        start = now - timedelta(days=365 * (1 - i / n) ** 1.3, hours=rng.randint(0, 8))
        start = start.replace(hour=rng.randint(0, 9), minute=rng.randint(0, 59))  # 08:00-17:59 local
        start = min(start, now - timedelta(hours=rng.randint(2, 30)))  # nothing in the future
        age = (now - start).days
        # the newest cases include some waiting at each of the rarer steps
        wait_at = RARE_STOPS[n - 1 - i] if n - 1 - i < len(RARE_STOPS) else None
        _drive(rng, users, types, towns, villages, units, start, closed=age > 45 and rng.random() < 0.95,
               wait_at=wait_at)


# Resolution mode -> (handler username, unit code) or None for "any stationed department".
MODE_HANDLERS = {
    ResolutionMode.AT_HOME: ("mediator", "T01V01C"), ResolutionMode.ON_SITE: ("township", "T01"),
    ResolutionMode.LITIGATION: ("dept04", "D04"), ResolutionMode.PETITION: ("dept02", "D02"),
    ResolutionMode.IN_CENTER: None, ResolutionMode.ONLINE: None,
}
RARE_STOPS = ["escalate", "court_filing", "pre_suit", "escalate", "court_filing"]
MODES = [ResolutionMode.IN_CENTER] * 8 + [ResolutionMode.AT_HOME] * 4 + [ResolutionMode.ON_SITE] * 2 + \
    [ResolutionMode.ONLINE] * 2 + [ResolutionMode.LITIGATION] * 3 + [ResolutionMode.PETITION]


def _session(rng, mode: ResolutionMode, agreed: bool, names: tuple[str, str]) -> SessionData:
    place = {ResolutionMode.AT_HOME: f"{names[0]}家中", ResolutionMode.ON_SITE: "纠纷现场（村道旁）",
             ResolutionMode.LITIGATION: "县人民法院诉调对接中心"}.get(mode, "中心第二调解室")
    return SessionData(
        held_at=None, mediators=rng.choice(["周大山", "李秀英", "王建国", "张明"]) + "（调解员）", recorder="书记员",
        applicant_statement=f"{names[0]}陈述了争议经过，要求对方赔偿损失并赔礼道歉。",
        respondent_statement=f"{names[1]}承认部分事实，对赔偿数额有异议。",
        result=SessionResult.AGREED.value if agreed else SessionResult.NO_AGREEMENT.value,
        kind=rng.choice(["peoples", "administrative", "industry"]) if mode == ResolutionMode.IN_CENTER else "",
        place="" if mode == ResolutionMode.ONLINE else place,
        meeting_link=f"https://meeting.example.gov.cn/room/{rng.randint(100000, 999999)}"
        if mode == ResolutionMode.ONLINE else "",
        attendees="网格员 孙丽" if mode == ResolutionMode.ON_SITE else "")


def _plan(rng, mode: ResolutionMode, handler: str, unit_id: int, t: datetime,
          wait_at: str | None, details: dict) -> list[tuple[str, str, dict]]:
    """The steps of one demo case, in order: (form key or "session", username, form data);
    ``details`` are what the handling unit records beside the common handling fields."""
    result = rng.choice([HandlingResult.WRITTEN_AGREEMENT.value] * 6 + [HandlingResult.ORAL_AGREEMENT.value] * 2
                        + [HandlingResult.TERMINATED.value])
    if wait_at == "court_filing":
        result = HandlingResult.TERMINATED.value
    agreed = result != HandlingResult.TERMINATED.value
    plan = [("triage", "dispatch", {"complexity": rng.choice([c.value for c in Complexity]),
                                    "risk_level": rng.choice([RiskLevel.LOW.value] * 5 + [RiskLevel.MEDIUM.value] * 2
                                                             + [RiskLevel.HIGH.value]),
                                    "resolution_mode": mode.value, "opinion": "事实清楚，按程序分流。"})]
    if rng.random() < 0.06 or wait_at == "escalate":
        plan += [("dispatch", "dispatch", {"escalate": "yes",
                                           "escalation_reason": "涉及人数较多，超出中心调处能力，报请县级研处。"}),
                 ("escalate", "director", {"county_leader": rng.choice(["王副县长", "县委政法委李书记"]),
                                           "opinion": "县领导包案，按属地和行业责任交办，限期化解。"})]
    plan += [("dispatch", "dispatch", {"escalate": "no", "assigned_unit_id": unit_id,
                                       "instructions": "请按期调处并反馈。"}),
             ("accept", handler, {"accepted": "yes", "reason": ""}),
             ("session", handler, {"agreed": agreed})]
    agreement = {"agreement_date": t.date(), "applicant_signed": True, "respondent_signed": True}
    if mode == ResolutionMode.LITIGATION:
        if agreed:
            plan.append(("pre_suit", handler, {"outcome": "agreement", "process_notes": "委派调解达成协议。",
                                               **agreement}))
        else:
            return plan + [("pre_suit", handler, {"outcome": "far_apart", "process_notes": "双方分歧较大，调解不成。"}),
                           ("court_filing", handler, {"filed": "yes", "court_case_no": f"({t:%Y})示0101民初"
                                                      f"{rng.randint(100, 999)}号", "decided_on": t.date()}),
                           ("close", "dispatch", {"closing_type": ClosingType.REDIRECTED.value,
                                                  "summary": "诉前调解不成，已登记立案。"})]
    handle = ("handle", handler, {"result": result if mode != ResolutionMode.LITIGATION
                                  else HandlingResult.WRITTEN_AGREEMENT.value,
                                  "process_notes": "组织双方面对面调解，释法明理。",
                                  "next_channel": "可依法向人民法院起诉。", **agreement,
                                  **{k: v for k, v in details.items()   # only a written agreement is numbered
                                     if k != "agreement_no" or result == HandlingResult.WRITTEN_AGREEMENT.value}})
    if mode != ResolutionMode.LITIGATION:
        plan.append(handle)
    fulfilment = rng.choice([f.value for f in Fulfilment])
    after = [("feedback", handler, {"fulfilment": fulfilment, "summary": "已按调解结果处理。"}),
             ("followup", "verify", {"method": rng.choice(["phone", "visit"]),
                                     "applicant_satisfaction": rng.choice(["satisfied"] * 6 + ["basically"] * 3
                                                                          + ["dissatisfied"]),
                                     "respondent_satisfaction": rng.choice(["satisfied", "basically", "unreachable"]),
                                     "fulfilment": fulfilment, "notes": "电话回访双方。"})]
    plan += after
    if rng.random() < 0.1:  # the center sends it back to the unit once
        plan += [("verify", "verify", {"passed": "no", "opinion": "当事人反映协议未履行，请继续跟进。"}),
                 handle, *after]
    plan += [("verify", "verify", {"passed": "yes", "opinion": ""}),
             ("close", "dispatch", {"closing_type": rng.choice([ClosingType.RESOLVED.value,
                                                                ClosingType.MEDIATED.value,
                                                                ClosingType.PROCEDURAL_END.value]),
                                    "summary": "案结事了。"})]
    return plan


def _drive(rng, users, types, towns, villages, units, t: datetime, closed: bool, wait_at: str | None) -> None:
    mode = ResolutionMode.LITIGATION if wait_at in ("pre_suit", "court_filing") else rng.choice(MODES)
    fixed = MODE_HANDLERS[mode]
    if fixed:
        handler, unit = fixed[0], units[fixed[1]]
    else:
        dept = rng.choice(county.DEPARTMENTS)
        handler, unit = "dept" + dept["code"][1:], units[dept["code"]]
    if mode in (ResolutionMode.AT_HOME, ResolutionMode.ON_SITE):  # the village and township the demo users serve
        town, village = units["T01"], units["T01V01"]
    else:
        town = rng.choice(towns)
        village = rng.choice(villages[town.id]) if villages[town.id] else None
    dtype = rng.choice(types)
    applicant, respondent = _party(rng, PartyKind.APPLICANT.value), _party(rng, PartyKind.RESPONDENT.value,
                                                                             rng.random() < 0.6)
    data = IntakeData(
        title=f"{applicant.name}与{respondent.name}{dtype.name}纠纷", dispute_type_id=dtype.id,
        township_id=town.id, village_id=village.id if village else None,
        place_kind=rng.choice([PlaceKind.RESIDENCE.value] * 6 + [PlaceKind.PUBLIC.value] * 3
                              + [PlaceKind.CROSS_REGION.value]),
        place_detail="", facts=f"{applicant.name}反映与{respondent.name}因{dtype.name}问题发生争议，多次协商未果。",
        requests=f"请求依法调处{dtype.name}争议。", amount=rng.choice([None, rng.randint(5, 2000) * 100]),
        people_count=rng.choice([2, 2, 2, 3, 4, 6, 12]),
        source_channel=rng.choice([c.value for c in SourceChannel]), parties=[applicant, respondent])
    if rng.random() < 0.06 and not wait_at:  # a matter for its own lawful procedure, referred at intake
        data.route = rng.choice([c.value for c in LawfulChannel if c != LawfulChannel.MEDIATION])
    with frozen_at(t):
        case = register_case(users["window"], data)
    if data.route != LawfulChannel.MEDIATION.value:
        plan = [("refer", "dispatch", {"receiving_body": "县人民法院立案庭",
                                       "notice": "已当场告知当事人向受理机关提出，并说明须携带的材料和期限。"}),
                ("refer_followup", "dispatch", {"outcome": rng.choice(["accepted", "answered"]),
                                                "note": "受理机关已受理。"})]
    else:
        plan = _plan(rng, mode, handler, unit.id, t, wait_at, demo_details(rng, spec_for_unit(unit), t.date()))
    if wait_at:
        stop = next(i for i, step in enumerate(plan) if step[0] == wait_at)
    else:
        stop = len(plan) if closed else rng.randint(0, len(plan))
    for i, (name, username, form) in enumerate(plan[:stop]):
        t += timedelta(minutes=rng.randint(5, 20)) if wait_at else timedelta(hours=rng.randint(1, 30))
        if t >= utcnow():  # recent cases stop where the present is
            break
        if "agreement_date" in form:  # agreed at the sitting just recorded
            form = {**form, "agreement_date": utc_to_local(t).date()}
        if name == "feedback" and i == stop - 1 and form["fulfilment"] in (Fulfilment.NOT_YET.value,
                                                                          Fulfilment.PARTLY.value) \
                and rng.random() < 0.8:  # the last step so far: the visit waits for the performance date
            form = {**form, "performance_due": utcnow().date() + timedelta(days=rng.randint(3, 20))}
        with frozen_at(t):
            if name == "session":
                session = _session(rng, mode, form["agreed"], (applicant.name, respondent.name))
                session.held_at = utc_to_local(t)
                record_session(users[username], case.id, session)
                continue
            item = db.session.scalar(select(WorkItem).where(WorkItem.case_id == case.id, WorkItem.form_key == name,
                                                            WorkItem.status == WorkItemStatus.OPEN))
            if item is None:  # e.g. the follow-up still waits for its timer
                break
            complete_task(users[username], item.id, form)
    db.session.expire_all()
    assert db.session.get(Case, case.id) is not None
