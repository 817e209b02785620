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
from portal.extensions import db
from portal.idcard import check_digit
from portal.models import (
    Case,
    ClosingType,
    Complexity,
    DisputeType,
    Fulfilment,
    HandlingResult,
    OrgKind,
    OrgUnit,
    PartyKind,
    PlaceKind,
    PortalUser,
    ResolutionMode,
    RiskLevel,
    SourceChannel,
    WorkItem,
    WorkItemStatus,
)
from portal.services.accounts import create_user
from portal.services.cases import IntakeData, PartyData, complete_task, register_case
from portal.services.reference import load_county

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

STAGES = ["triage", "dispatch", "accept", "handle", "feedback", "followup", "verify", "close", "closed"]


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
    depts = {u.code: u.id for u in db.session.scalars(select(OrgUnit).where(OrgUnit.kind == OrgKind.DEPARTMENT))}
    units = [("dept" + code[1:], uid) for code, uid in depts.items()]
    units += [("mediator", db.session.scalar(select(OrgUnit.id).where(OrgUnit.code == "T01V01C"))),
              ("township", db.session.scalar(select(OrgUnit.id).where(OrgUnit.code == "T01")))] * 3
    now = utcnow()
    for i in range(n):
        start = now - timedelta(days=365 * (1 - i / n) ** 1.3, hours=rng.randint(0, 8))
        start = start.replace(hour=rng.randint(0, 9), minute=rng.randint(0, 59))  # 08:00-17:59 local
        start = min(start, now - timedelta(hours=rng.randint(2, 30)))  # nothing in the future
        age = (now - start).days
        stage = "closed" if age > 45 and rng.random() < 0.95 else rng.choice(STAGES)
        _drive(rng, users, types, towns, villages, units, start, stage)


def _drive(rng, users, types, towns, villages, units, t: datetime, stage: str) -> None:
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
    with frozen_at(t):
        case = register_case(users["window"], data)
    handler, unit_id = rng.choice(units)
    steps = {
        "triage": ("dispatch", {"complexity": rng.choice([c.value for c in Complexity]),
                                "risk_level": rng.choice([RiskLevel.LOW.value] * 5 + [RiskLevel.MEDIUM.value] * 2
                                                         + [RiskLevel.HIGH.value]),
                                "resolution_mode": rng.choice([m.value for m in ResolutionMode]),
                                "opinion": "事实清楚，按程序分流。"}),
        "dispatch": ("dispatch", {"assigned_unit_id": unit_id, "instructions": "请按期调处并反馈。"}),
        "accept": (handler, {"accepted": "yes", "reason": ""}),
        "handle": (handler, {"result": rng.choice([HandlingResult.WRITTEN_AGREEMENT.value] * 6
                                                  + [HandlingResult.ORAL_AGREEMENT.value] * 2
                                                  + [HandlingResult.TERMINATED.value]),
                             "process_notes": "组织双方面对面调解，释法明理。",
                             "agreement_date": t.date(), "applicant_signed": True, "respondent_signed": True,
                             "next_channel": "可依法向人民法院起诉。"}),
        "feedback": (handler, {"fulfilment": rng.choice([f.value for f in Fulfilment]),
                               "summary": "已按调解结果处理。"}),
        "followup": ("verify", {"method": rng.choice(["phone", "visit"]),
                                "applicant_satisfaction": rng.choice(["satisfied"] * 6 + ["basically"] * 3
                                                                     + ["dissatisfied"]),
                                "respondent_satisfaction": rng.choice(["satisfied", "basically", "unreachable"]),
                                "fulfilment": rng.choice([f.value for f in Fulfilment]), "notes": "电话回访双方。"}),
        "verify": ("verify", {"passed": "yes", "opinion": ""}),
        "close": ("dispatch", {"closing_type": rng.choice([c.value for c in ClosingType]), "summary": "案结事了。"}),
    }
    order = ["triage", "dispatch", "accept", "handle", "feedback", "followup", "verify", "close"]
    fail_once = rng.random() < 0.1
    i = 0
    while i < len(order) and order[i] != stage:
        name = order[i]
        t += timedelta(hours=rng.randint(1, 30))
        if t >= utcnow():  # recent cases stop where the present is
            break
        username, form = steps[name]
        if name == "verify" and fail_once:
            form, fail_once = {"passed": "no", "opinion": "当事人反映协议未履行，请继续跟进。"}, False
            i = order.index("handle") - 1
        item = db.session.scalar(select(WorkItem).where(WorkItem.case_id == case.id, WorkItem.form_key == name,
                                                        WorkItem.status == WorkItemStatus.OPEN))
        with frozen_at(t):
            complete_task(users[username], item.id, form)
        i += 1
    db.session.expire_all()
    assert db.session.get(Case, case.id) is not None
