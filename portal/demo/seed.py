"""Seed the demo county and about a year of cases, through the real services and engine.

Cases are registered and advanced with ``register_case``/``complete_task``
under a frozen clock, so their history, deadlines and audit rows are what the
portal itself would have written. Two years of them: the year before the center
worked the way it does now, at the old pace, and the year since. Most are
resolved in the village or the township; simple matters on the day, the rest
within their tier's deadline; mediation nearly always ends in an agreement, a
pre-filing mediation in about half the cases. Older cases are mostly closed;
recent ones stop at every step of the chain. Their dossiers have content:
parties with their ethnicity and occupation, investigations, sessions whose talk fits the
dispute, agreements with their facts and terms, scanned identity papers and
receipts, now and then a judicial confirmation -- and one case with all of it.
"""
from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import func, select

from portal.clock import frozen_at, utcnow
from portal.demo import county, records
from portal.demo.branches import seed_branches, seed_payments, township_staff
from portal.demo.details import demo_details
from portal.demo.papers import identity_png, receipt_pdf
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
from portal.services.attachments import add_attachment
from portal.services.cases import IntakeData, PartyData, complete_task, register_case
from portal.services.confirmation import apply_for_confirmation, record_confirmation_ruling
from portal.services.deadlines import local_to_utc, local_today, utc_to_local
from portal.services.departments import spec_for_unit
from portal.services.investigations import record_investigation
from portal.services.reference import load_county
from portal.services.referrals import record_service
from portal.services.sessions import record_session
from portal.services.settings import set_setting
from portal.services.supervision import raise_card, raise_due_cards

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
    ("legalaid", "法律援助中心张华", ["assistance_handler"], "D03"),
    ("judicialaid", "司法救助审核组林涛", ["assistance_handler"], "D01"),
] + [(f"dept{d['code'][1:]}", f"{d['short']}承办人", ["dept_handler"], d["code"]) for d in county.DEPARTMENTS] \
  + [(f"lead{d['code'][1:]}", f"{d['short']}负责人", ["unit_leader"], d["code"]) for d in county.DEPARTMENTS] \
  + [("centerlead", "矛调中心副主任", ["unit_leader"], "CENTER")] \
  + [(township_staff(t["code"]), f"{t['name']}矛调中心干事", ["township_staff"], t["code"])
     for t in county.TOWNSHIPS[1:]]
DEMO_OFFICES = {"relief_office": "D13", "legal_aid_office": "D03", "judicial_aid_office": "D01"}
SHOWCASE_DISPUTE = "相邻通行与排水纠纷"  # the demo case with every kind of record (no other title says this)


def _id_number(rng: random.Random, born: date) -> str:
    first17 = f"5226{rng.randint(21, 35):02d}{born:%Y%m%d}{rng.randint(0, 999):03d}"
    return first17 + check_digit(first17)


def _party(rng: random.Random, kind: str, family: str, known_id: bool = True, place: str = "") -> PartyData:
    name = records.person_name(rng)
    born = date(rng.randint(1950, 2003), rng.randint(1, 12), rng.randint(1, 28))
    ethnicity, occupation = records.party_details(rng, family, kind == PartyKind.APPLICANT.value)
    return PartyData(kind, name, _id_number(rng, born) if known_id else "",
                     f"1{rng.choice('3589')}{rng.randint(0, 999999999):09d}",
                     f"{place}{rng.randint(1, 12)}组{rng.randint(1, 80)}号" if place else "",
                     ethnicity=ethnicity if known_id else "", occupation=occupation)


def seed_demo(n_cases: int = 400, seed: int = 20231) -> str:
    """Seed everything into an empty county; refuse (and change nothing) if it has townships."""
    if db.session.scalar(select(func.count(OrgUnit.id)).where(OrgUnit.kind == OrgKind.TOWNSHIP)):
        return "demo county already present; nothing done"
    rng = random.Random(seed)
    counts = load_county(county.TOWNSHIPS, county.DEPARTMENTS, county.INDUSTRY_COMMITTEES, county.STUDIOS)
    for username, full_name, roles, org in DEMO_USERS:
        create_user(username, full_name, roles, org, DEMO_PASSWORD)
    for key, code in DEMO_OFFICES.items():
        set_setting(None, key, code)
    _seed_cases(rng, n_cases)
    users = {u.username: u for u in db.session.scalars(select(PortalUser))}
    branches = seed_branches(rng, users)
    payments = seed_payments(rng, users)
    cards = raise_due_cards()  # what the worker raises on the cases open now
    return (f"demo county: {counts}; users: {len(DEMO_USERS)} (password {DEMO_PASSWORD}); cases: {n_cases}; "
            f"assistance and risk-control files: {branches}; relief and judicial aid paid: {payments}; "
            f"supervision cards raised now: {cards}")


@dataclass
class World:
    """What every demo case draws on: the users, the taxonomy, the places, and the two sample papers
    (made once: every case attaches the same bytes, stored once)."""

    users: dict[str, PortalUser]
    types: list[DisputeType]
    towns: list[OrgUnit]
    villages: dict[int, list[OrgUnit]]
    units: dict[str, OrgUnit]
    papers: dict[str, bytes]
    applicants: list = field(default_factory=list)  # (party, township id, village id, type) of earlier cases


def _seed_cases(rng: random.Random, n: int) -> None:
    towns = list(db.session.scalars(select(OrgUnit).where(OrgUnit.kind == OrgKind.TOWNSHIP)))
    world = World(
        users={u.username: u for u in db.session.scalars(select(PortalUser))},
        types=[t for t in db.session.scalars(select(DisputeType)) if t.parent_id is not None], towns=towns,
        villages={t.id: list(db.session.scalars(select(OrgUnit).where(OrgUnit.parent_id == t.id,
                                                                       OrgUnit.kind == OrgKind.VILLAGE)))
                  for t in towns},
        units={u.code: u for u in db.session.scalars(select(OrgUnit).where(OrgUnit.code.in_(
            [d["code"] for d in county.DEPARTMENTS] + ["T01", "T01V01", "T01V01C"])))},
        papers={"identity": identity_png(), "receipt": receipt_pdf()})
    now = utcnow()
    showcase = int(n * 0.6)  # about 220 days old: long closed
    for i in range(n):
        start = now - timedelta(days=365 * YEARS * (1 - i / n) ** 1.3, hours=rng.randint(0, 8))
        start = start.replace(hour=rng.randint(0, 9), minute=rng.randint(0, 59))  # 08:00-17:59 local
        start = min(start, now - timedelta(hours=rng.randint(2, 30)))  # nothing in the future
        age = (now - start).days
        # the newest cases include some waiting at each of the rarer steps
        wait_at = RARE_STOPS[n - 1 - i] if n - 1 - i < len(RARE_STOPS) else None
        # older cases are closed but for a few stuck ones; of the last weeks', half stop at some step
        closed = rng.random() < (0.985 if age > 20 else 0.5)
        _drive(rng, world, start, closed=closed or i == showcase, wait_at=wait_at, rich=i == showcase,
               pace=OLD_PACE if age > 365 else 1.0)


# Resolution mode -> (handler username, unit code) for the modes one unit carries; the others are
# carried by the case's own village or township, or by any stationed department.
MODE_HANDLERS = {ResolutionMode.LITIGATION: ("dept04", "D04"), ResolutionMode.PETITION: ("dept02", "D02")}
RARE_STOPS = ["escalate", "court_filing", "pre_suit", "escalate", "court_filing"]
# Most disputes are mediated where they arise: at home by the village committee, on the scene by the
# township or the village; the rest in the center, online, before filing, or by the petition bureau.
MODES = {ResolutionMode.AT_HOME: 40, ResolutionMode.ON_SITE: 38, ResolutionMode.IN_CENTER: 10,
         ResolutionMode.ONLINE: 4, ResolutionMode.LITIGATION: 6, ResolutionMode.PETITION: 2}
TIERS = {Complexity.SIMPLE: 35, Complexity.GENERAL: 40, Complexity.COMPLEX: 20, Complexity.DIFFICULT: 5}
# Hours between two steps of a case, on average, by tier (the deadlines: the same day, 3, 10, 30 days).
STEP_HOURS = {Complexity.SIMPLE: 0.3, Complexity.GENERAL: 2.5, Complexity.COMPLEX: 12.0, Complexity.DIFFICULT: 36.0}
YEARS = 2          # of cases
OLD_PACE = 4.0     # the year before: every step took that much longer
SEAT_SHARE = 0.2   # of the cases, from the county seat (城关镇)
REPEAT_SHARE = 0.03  # brought by someone who brought an earlier case


def _weighted(rng, weights: dict):
    return rng.choices(list(weights), weights=list(weights.values()))[0]



def _sitting_steps(rng, handler: str, agreed: bool, rich: bool) -> list[tuple[str, str, dict]]:
    """Investigations and sessions, in the order the unit holds them, the last one ending as it ends."""
    last = SessionResult.AGREED.value if agreed else SessionResult.NO_AGREEMENT.value
    if rich:
        return [("investigation", handler, {"of_party": False}),
                ("session", handler, {"result": SessionResult.ADJOURNED.value, "first": True}),
                ("investigation", handler, {"of_party": True}),
                ("session", handler, {"result": SessionResult.PARTIAL.value, "first": False}),
                ("session", handler, {"result": last, "first": False})]
    steps = [("investigation", handler, {"of_party": k == 1}) for k in range(rng.choice([0, 0, 0, 1, 1, 2]))]
    if rng.random() < 0.25:  # a first sitting that did not settle it
        steps.append(("session", handler, {"result": SessionResult.ADJOURNED.value, "first": True}))
    return steps + [("session", handler, {"result": last, "first": all(s[0] != "session" for s in steps)})]


def _pre_suit_outcome(rng, wait_at: str | None, rich: bool) -> str:
    """About four in ten pre-filing mediations end in an agreement, a few more parties settle by
    themselves; the rest go to the court."""
    if rich or (wait_at != "court_filing" and rng.random() < 0.40):
        return "agreement"
    if wait_at != "court_filing" and rng.random() < 0.08:
        return "withdrawn"
    return rng.choice(["far_apart", "unwilling", "refused_to_sign", "far_apart"])


def _plan(rng, story: records.Story, handler: str, unit_id: int, t: datetime, wait_at: str | None, details: dict,
          rich: bool, tier: Complexity) -> list[tuple[str, str, dict]]:
    """The steps of one demo case, in order: (form key or a side action, username, form data);
    ``details`` are what the handling unit records beside the common handling fields."""
    mode = story.mode
    result = rng.choices([HandlingResult.WRITTEN_AGREEMENT.value, HandlingResult.ORAL_AGREEMENT.value,
                          HandlingResult.TERMINATED.value], weights=[74, 25, 1])[0]
    pre_suit = _pre_suit_outcome(rng, wait_at, rich) if mode == ResolutionMode.LITIGATION else None
    if pre_suit is not None:
        result = {"agreement": HandlingResult.WRITTEN_AGREEMENT.value,
                  "withdrawn": HandlingResult.WITHDRAWN.value}.get(pre_suit, HandlingResult.TERMINATED.value)
    if rich:
        result = HandlingResult.WRITTEN_AGREEMENT.value
    agreed = result in (HandlingResult.WRITTEN_AGREEMENT.value, HandlingResult.ORAL_AGREEMENT.value)
    plan = [("triage", "dispatch", {"complexity": tier.value,
                                    "risk_level": rng.choice([RiskLevel.LOW.value] * 5 + [RiskLevel.MEDIUM.value] * 2
                                                             + [RiskLevel.HIGH.value]),
                                    "resolution_mode": mode.value, "opinion": "事实清楚，按程序分流。"})]
    if (rng.random() < 0.06 and not rich) or wait_at == "escalate":
        plan += [("dispatch", "dispatch", {"escalate": "yes",
                                           "escalation_reason": "涉及人数较多，超出中心调处能力，报请县级研处。"}),
                 ("escalate", "director", {"county_leader": rng.choice(["王副县长", "县委政法委李书记"]),
                                           "opinion": "县领导包案，按属地和行业责任交办，限期化解。"})]
    plan += [("dispatch", "dispatch", {"escalate": "no", "assigned_unit_id": unit_id,
                                       "instructions": "请按期调处并反馈。"}),
             ("accept", handler, {"accepted": "yes", "reason": ""}),
             *_sitting_steps(rng, handler, agreed, rich)]
    agreement = {"agreement_date": t.date(), "applicant_signed": True, "respondent_signed": True,
                 **(records.agreement_texts(story.family, story.values, result == HandlingResult.ORAL_AGREEMENT.value)
                    if agreed else {})}
    if pre_suit is not None:
        if result == HandlingResult.TERMINATED.value:
            return plan + [("pre_suit", handler, {"outcome": pre_suit, "process_notes": "双方分歧较大，调解不成。"}),
                           ("court_filing", handler, {"filed": "yes", "court_case_no": f"({t:%Y})示0101民初"
                                                      f"{rng.randint(100, 999)}号", "decided_on": t.date()}),
                           ("close", "dispatch", {"closing_type": ClosingType.REDIRECTED.value,
                                                  "summary": "诉前调解不成，已登记立案。"})]
        notes = "委派调解达成协议。" if agreed else "双方自行和解，申请撤回。"
        handle = ("pre_suit", handler, {"outcome": pre_suit, "process_notes": notes, **(agreement if agreed else {})})
    else:
        handle = ("handle", handler, {"result": result, "process_notes": "组织双方面对面调解，释法明理。",
                                      "next_channel": "可依法向人民法院起诉。", **agreement,
                                      **{k: v for k, v in details.items()  # only a written agreement is numbered
                                         if k != "agreement_no" or result == HandlingResult.WRITTEN_AGREEMENT.value}})
    return plan + [handle, *_after_handling(rng, handler, result, handle, rich, again=pre_suit is None)]


def _after_handling(rng, handler: str, result: str, handle, rich: bool, again: bool) -> list[tuple[str, str, dict]]:
    """Confirmation by the court (now and then, for a written agreement), the receipt of performance,
    feedback, the follow-up visit, verification (once in a while sent back to be handled ``again``)
    and closing."""
    fulfilment = Fulfilment.FULFILLED.value if rich else rng.choices(
        [f.value for f in Fulfilment], weights=[70, 10, 5, 15])[0]
    written = result == HandlingResult.WRITTEN_AGREEMENT.value
    ended = result == HandlingResult.TERMINATED.value
    confirm = written and (rich or rng.random() < 0.08)
    steps = [("confirm", handler, {})] if confirm else []
    if not ended and fulfilment == Fulfilment.FULFILLED.value and (rich or rng.random() < 0.5):
        steps.append(("attach", handler, {"paper": "receipt", "category": "performance", "title": "履行收条",
                                          "filename": "收条.pdf"}))
    after = [("feedback", handler, {"fulfilment": fulfilment, "summary": "已按调解结果处理。"}),
             ("followup", "verify", {"method": rng.choice(["phone", "visit"]),
                                     "applicant_satisfaction": rng.choices(
                                         ["satisfied", "basically", "dissatisfied", "unreachable"],
                                         weights=[72, 24, 2, 2])[0],
                                     "respondent_satisfaction": rng.choice(["satisfied", "basically", "unreachable"]),
                                     "fulfilment": fulfilment, "notes": "电话回访双方。"})]
    if not ended and (rich or rng.random() < 0.15):  # 社工、志愿者 step in
        social_work = [True, False] if rich else rng.choice([[True], [False], [True, False]])
        steps += [("service", handler, {"social_work": kind}) for kind in social_work]
    steps += after
    if confirm:
        steps.append(("ruling", handler, {"ruling_seq": rng.randint(10, 400)}))
    if again and rng.random() < 0.05 and not rich:  # the center sends it back to the unit once
        steps += [("verify", "verify", {"passed": "no", "opinion": "当事人反映协议未履行，请继续跟进。"}),
                  handle, *after]
    closing = ClosingType.PROCEDURAL_END.value if ended else ClosingType.MEDIATED.value if rich \
        else rng.choice([ClosingType.MEDIATED.value] * 3 + [ClosingType.RESOLVED.value])
    return steps + [("verify", "verify", {"passed": "yes", "opinion": ""}),
                    ("close", "dispatch", {"closing_type": closing, "summary": "案结事了。"})]


CHANNELS = {SourceChannel.WALK_IN: 30, SourceChannel.GRID: 20, SourceChannel.PHONE: 12,
            SourceChannel.HOTLINE_12345: 10, SourceChannel.ONLINE: 6, SourceChannel.COURT: 6, SourceChannel.POLICE: 6,
            SourceChannel.GOVERNMENT: 4, SourceChannel.PETITION: 5, SourceChannel.PROCURATORATE: 1}


def _place(rng, world: World, rich: bool) -> tuple[OrgUnit, OrgUnit | None]:
    """Where the dispute arose: the county seat more often than any other township."""
    town = world.units["T01"] if rich or rng.random() < SEAT_SHARE else rng.choice(world.towns)
    if rich:
        return town, world.units["T01V01"]
    return town, rng.choice(world.villages[town.id]) if world.villages[town.id] else None


def _intake(rng, world: World, rich: bool) -> tuple[IntakeData, DisputeType]:
    """The dispute as the window registers it; now and then brought by someone who came before."""
    again = rng.random() < REPEAT_SHARE and world.applicants and not rich
    if again:
        applicant, town_id, village_id, dtype = rng.choice(world.applicants[-80:])
        town, village = db.session.get(OrgUnit, town_id), db.session.get(OrgUnit, village_id) if village_id else None
    else:
        town, village = _place(rng, world, rich)
        dtype = next(t for t in world.types if t.code == "0201") if rich else rng.choice(world.types)
    family = records.family_of(dtype.code)
    home = town.name + (village.name if village else "")
    if not again:
        applicant = _party(rng, PartyKind.APPLICANT.value, family, place=home)
        world.applicants.append((applicant, town.id, village.id if village else None, dtype))
    respondent = _party(rng, PartyKind.RESPONDENT.value, family, rich or rng.random() < 0.6,
                        place=home if rng.random() < 0.8 else rng.choice(world.towns).name)
    dispute = SHOWCASE_DISPUTE if rich else dtype.name if dtype.name.endswith("纠纷") else dtype.name + "纠纷"
    title = f"{applicant.name}与{respondent.name}{dispute}"
    return IntakeData(
        title=title, dispute_type_id=dtype.id, township_id=town.id, village_id=village.id if village else None,
        place_kind=rng.choice([PlaceKind.RESIDENCE.value] * 6 + [PlaceKind.PUBLIC.value] * 3
                              + [PlaceKind.CROSS_REGION.value]),
        place_detail="", facts=f"{applicant.name}反映与{respondent.name}因{dtype.name}问题发生争议，多次协商未果。",
        requests=f"请求依法调处{dtype.name}争议。", amount=rng.choice([None, rng.randint(5, 2000) * 100]),
        people_count=rng.choice([2, 2, 2, 3, 4, 6, 12]),
        source_channel=_weighted(rng, CHANNELS).value, parties=[applicant, respondent]), dtype


def _handling_unit(rng, world: World, mode: ResolutionMode, data: IntakeData, rich: bool) -> tuple[str, OrgUnit]:
    """(handler username, unit): the village committee at home, the township or the village on the scene
    (worked by the township's staff, or the committee's own mediator), else a stationed department."""
    if rich:
        return "dept03", world.units["D03"]
    town = db.session.get(OrgUnit, data.township_id)
    village = db.session.get(OrgUnit, data.village_id) if data.village_id else None
    if mode == ResolutionMode.AT_HOME and village is not None:
        committee = db.session.scalar(select(OrgUnit).where(OrgUnit.code == f"{village.code}C"))
        return ("mediator" if committee.code == "T01V01C" else township_staff(town.code)), committee
    if mode == ResolutionMode.ON_SITE:
        return township_staff(town.code), town if village is None or rng.random() < 0.6 else village
    if mode in MODE_HANDLERS:
        handler, code = MODE_HANDLERS[mode]
        return handler, world.units[code]
    code = rng.choice(county.DEPARTMENTS)["code"]
    return "dept" + code[1:], world.units[code]


def _identity_papers(rng, data: IntakeData, rich: bool) -> list[tuple[str, str, dict]]:
    """The window scans the parties' ID cards for some cases (every party's, for the showcase)."""
    if not (rich or rng.random() < 0.35):
        return []
    role = {PartyKind.APPLICANT.value: "申请人", PartyKind.RESPONDENT.value: "被申请人"}
    return [("attach", "window", {"paper": "identity", "category": "identity", "filename": "身份证复印件.png",
                                  "title": f"{role[p.kind]}{p.name}身份证复印件"})
            for p in data.parties if p.id_number and (rich or p.kind == PartyKind.APPLICANT.value)]


def _drive(rng, world: World, t: datetime, closed: bool, wait_at: str | None, rich: bool = False,
           pace: float = 1.0) -> None:
    mode = ResolutionMode.LITIGATION if wait_at in ("pre_suit", "court_filing") else _weighted(rng, MODES)
    mode = ResolutionMode.IN_CENTER if rich else mode
    data, dtype = _intake(rng, world, rich)
    if mode == ResolutionMode.AT_HOME and data.village_id is None:
        mode = ResolutionMode.ON_SITE
    handler, unit = _handling_unit(rng, world, mode, data, rich)
    tier = Complexity.GENERAL if rich else _weighted(rng, TIERS)
    if rng.random() < 0.06 and not wait_at and not rich:  # a matter for its own lawful procedure, referred at intake
        data.route = rng.choice([c.value for c in LawfulChannel if c != LawfulChannel.MEDIATION])
    with frozen_at(t):
        case = register_case(world.users["window"], data)
    names = (data.parties[0].name, data.parties[1].name)
    village = db.session.get(OrgUnit, data.village_id).name if data.village_id else "本"
    family = records.family_of(dtype.code)
    story = records.Story(mode, family, records.values_for(rng, family, names, data.amount, village, dtype.name),
                          rng.choice(records.MEDIATORS), names,
                          "peoples" if rich else rng.choice(["peoples"] * 3 + ["administrative", "industry"]))
    if rich:  # the boundary wall and the drain, as its title says
        story.values["variant"] = 0
    if data.route != LawfulChannel.MEDIATION.value:
        plan = [("refer", "dispatch", {"receiving_body": "县人民法院立案庭",
                                       "notice": "已当场告知当事人向受理机关提出，并说明须携带的材料和期限。"}),
                ("refer_followup", "dispatch", {"outcome": rng.choice(["accepted", "answered"]),
                                                "note": "受理机关已受理。"})]
    else:
        plan = _identity_papers(rng, data, rich) + _plan(
            rng, story, handler, unit.id, t, wait_at, demo_details(rng, spec_for_unit(unit), t.date()), rich, tier)
    _run(rng, world, case, story, plan, t, closed, wait_at, STEP_HOURS[tier] * pace)


def _run(rng, world: World, case: Case, story: records.Story, plan, t: datetime, closed: bool,
         wait_at: str | None, step_hours: float) -> None:
    """Work the plan's steps at advancing times (``step_hours`` apart on average, in office hours), up
    to its stop or the present; a case still open a day after its deadline gets the director's card."""
    if wait_at:
        stop = next(i for i, step in enumerate(plan) if step[0] == wait_at)
    else:
        stop = len(plan) if closed else rng.randint(0, len(plan))
    carded = False
    for i, (name, username, form) in enumerate(plan[:stop]):
        if wait_at:
            t += timedelta(minutes=rng.randint(5, 20))
        else:
            t = _office_hours(t + timedelta(hours=rng.uniform(0.1, 1.9) * step_hours))
        if t >= utcnow():  # recent cases stop where the present is
            break
        if not carded and case.due_at is not None and t > case.due_at + timedelta(days=1):
            with frozen_at(case.due_at + timedelta(days=1)):
                raise_card(world.users["director"], case.id, "yellow", "逾期未办结，请说明原因并限期办结。")
            carded = True
        if "agreement_date" in form:  # agreed at the sitting just recorded
            form = {**form, "agreement_date": utc_to_local(t).date()}
        if name == "feedback" and i == stop - 1 and form["fulfilment"] in (Fulfilment.NOT_YET.value,
                                                                          Fulfilment.PARTLY.value) \
                and rng.random() < 0.8:  # the last step so far: the visit waits for the performance date
            form = {**form, "performance_due": utcnow().date() + timedelta(days=rng.randint(3, 20))}
        with frozen_at(t):
            if name in SIDE_ACTIONS:
                SIDE_ACTIONS[name](rng, world, world.users[username], case, story, form, t)
                continue
            item = db.session.scalar(select(WorkItem).where(WorkItem.case_id == case.id, WorkItem.form_key == name,
                                                            WorkItem.status == WorkItemStatus.OPEN))
            if item is None:  # e.g. the follow-up still waits for its timer
                break
            complete_task(world.users[username], item.id, form)
    db.session.expire_all()
    assert db.session.get(Case, case.id) is not None


def _office_hours(t: datetime) -> datetime:
    """``t``, or the next morning's opening if the county's offices are closed then (8:00-18:00)."""
    local = utc_to_local(t)
    if 8 <= local.hour < 18:
        return t
    morning = (local if local.hour < 8 else local + timedelta(days=1)).replace(hour=8)
    return local_to_utc(morning)


def _sit(rng, world, user, case, story, form, t):
    session = records.session_data(rng, story, form["result"], form["first"])
    session.held_at = utc_to_local(t)
    record_session(user, case.id, session)


def _inquire(rng, world, user, case, story, form, t):
    inquiry = records.investigation_data(rng, story, form["of_party"])
    inquiry.held_at = utc_to_local(t)
    record_investigation(user, case.id, inquiry)


def _serve(rng, world, user, case, story, form, t):
    applicant = next(p for p in case.parties if p.kind == PartyKind.APPLICANT)
    service = records.service_data(rng, story, form["social_work"], applicant.id)
    service.served_at = utc_to_local(t)
    record_service(user, case.id, service)


def _attach(rng, world, user, case, story, form, t):
    add_attachment(user, case.id, form["category"], form["title"], form["filename"], world.papers[form["paper"]])


def _confirm(rng, world, user, case, story, form, t):
    apply_for_confirmation(user, case.id, "示范县人民法院", local_today(), True)


def _rule(rng, world, user, case, story, form, t):
    today = local_today()
    record_confirmation_ruling(user, case.id, True, f"({today:%Y})示0101民特{form['ruling_seq']}号", today)


# Side actions of a plan (records beside the chain's steps): name -> (rng, world, user, case, story, form, t).
SIDE_ACTIONS = {"session": _sit, "investigation": _inquire, "service": _serve,
                "attach": _attach, "confirm": _confirm, "ruling": _rule}
