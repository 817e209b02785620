"""Demo branches: assistance and risk-control files on cases of 城关镇, in every state their processes
have -- each step waiting, each way of ending, a missed deadline escalated -- worked by the demo users
at advancing times like the cases are."""
from __future__ import annotations

import random
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Callable

from sqlalchemy import select

from portal.clock import frozen_at, utcnow
from portal.extensions import db
from portal.models import Branch, Case, CaseStatus, OrgUnit, WorkItem, WorkItemStatus
from portal.services.branches import fire_due_branch_timers, start_branch
from portal.services.cases import complete_task
from portal.services.deadlines import utc_to_local
from portal.services.errors import ValidationFailed
from portal.services.settings import get_setting

WAIT = "wait"  # let the branch's next timer fire (the public notice, a follow-up interval)
Form = Callable[[Case, datetime], dict]
Script = list  # [(form key, username, form builder) | WAIT]


def _day(t: datetime):
    return utc_to_local(t).date()


def relief_application(emergency: bool = False, amount: str = "3000", hardship: str = "fire") -> Form:
    situations = {"fire": "房屋因电线老化失火，家中衣物粮食和家具全部烧毁，一家人暂住亲戚家",
                  "illness": "丈夫突发脑溢血住院手术，医疗费已花去八万余元，家中无其他收入",
                  "traffic": "外出务工途中遭遇交通事故，肇事方逃逸，家中两个孩子上学无人照料"}

    def form(case, t):
        return {"party_id": case.parties[0].id, "hardship": hardship, "situation": situations[hardship],
                "household_size": 4, "monthly_income": Decimal("1500"), "residence": case.parties[0].address or "",
                "amount_requested": Decimal(amount), "by_proxy": False, "emergency": emergency,
                "emergency_reason": "房屋烧毁，一家人当晚无处安身，急需购买被褥和口粮" if emergency else "",
                "materials": ["identity"] if emergency else
                ["application", "identity", "income", "cause"] + (["health"] if hardship == "illness" else [])}
    return form


def _relief_script(amount: str, county: bool, emergency: bool = False, review: bool = False,
                   township_refuses: bool = False, county_refuses: bool = False) -> Script:
    value = Decimal(amount)
    script: Script = []
    if emergency:
        script.append(("relief_emergency_pay", "township", lambda c, t: {
            "amount": Decimal("1000"), "paid_on": _day(t), "method": "cash"}))
    script.append(("relief_investigate", "township", lambda c, t: {
        "visited_on": _day(t), "investigators": "城关镇民政办刘洋、村委会主任周大山",
        "findings": "经入户核实，房屋主体烧毁，家庭四口人，仅靠务农收入，生活确有困难" if not township_refuses
        else "经入户核实，申请人在县城另有商铺出租，月租金收入四千余元",
        "hardship_confirmed": "no" if township_refuses else "yes", "democratic_review": review,
        "proposed_amount": None if township_refuses else value}))
    if not township_refuses:
        if review:
            script.append(("relief_review", "township", lambda c, t: {
                "held_on": _day(t), "participants": 11, "agreed": "yes",
                "opinion": "与会代表一致认为情况属实，同意救助"}))
        script += [("relief_notice", "township", lambda c, t: {"posted_on": _day(t), "place": "村务公开栏"}), WAIT]
    script.append(("relief_opinion", "township", lambda c, t: {
        "objections": False, "objection_notes": "", "materials_completed": emergency,
        "agrees": "no" if township_refuses else "yes", "amount": None if township_refuses else value,
        "reason": "申请人家庭有稳定租金收入，不符合临时救助条件" if township_refuses
        else "情况属实，公示期满无异议，同意救助"}))
    if township_refuses:
        return script
    if county:
        script.append(("relief_approve", "relief", lambda c, t: {
            "approved": "no" if county_refuses else "yes", "amount": None if county_refuses else value,
            "reason": "经济状况核对显示家庭有大额存款，不予救助" if county_refuses else "经审核，同意救助"}))
        if county_refuses:
            return script
    already = Decimal("1000") if emergency else Decimal("0")
    script.append(("relief_pay", "township", lambda c, t: {
        "amount": value - already if value > already else None, "paid_on": _day(t), "method": "bank"}))
    return script


def legal_aid_application(case, t):
    return {"party_id": case.parties[0].id, "matter": "labour", "aid_form": "labour", "legal_status": "not_started",
            "summary": "在建筑工地务工八个月，包工头拖欠工资两万三千元，多次催讨未果", "by_proxy": False,
            "exemption": "", "exemption_basis": "", "monthly_income": Decimal("1800"), "household_size": 3,
            "pledge": True, "materials": ["identity", "means", "evidence"]}


def _legal_aid_script(refuse: bool = False, objection: str | None = None) -> Script:
    def review(decision):
        return lambda c, t: {
            "decision": decision, "missing": [], "missing_other": "", "decided_on": _day(t),
            "refusal_ground": "means" if decision == "refuse" else "",
            "reason": "申请人家庭人均月收入高于本省法律援助经济困难标准" if decision == "refuse"
            else "申请事项属于法律援助范围，经济困难状况属实，决定给予法律援助",
            "provided_first": False, "first_reason": "", "first_note": ""}
    script: Script = [("legal_aid_review", "legalaid", review("refuse" if refuse else "grant"))]
    if refuse:
        if objection is None:
            return script
        script += [("legal_aid_objection", "window", lambda c, t: {
            "received_on": _day(t), "content": "本人无固定收入，家庭收入计算有误，请求给予法律援助"}),
            ("legal_aid_objection_decide", "lead03", lambda c, t: {
                "upheld": objection, "decided_on": _day(t),
                "reason": "经审查，异议理由不成立" if objection == "yes"
                else "经审查，申请人符合经济困难标准，责令给予法律援助"})]
        if objection == "yes":
            return script
    return script + [
        ("legal_aid_assign", "legalaid", lambda c, t: {"lawyer": "王律师", "law_firm": "县法律援助中心",
                                                       "phone": "0571-8888 6666", "assigned_on": _day(t)}),
        ("legal_aid_report", "legalaid", lambda c, t: {
            "closed_on": _day(t), "result": "mediated", "termination_ground": "",
            "summary": "经劳动争议仲裁委员会调解，用人单位一次性支付拖欠工资两万三千元",
            "documents": "仲裁调解书、结案报告"})]


def judicial_aid_application(case, t):
    return {"party_id": case.parties[0].id, "situation": "victim_injured", "petition": False,
            "case_organ_unit": db.session.scalar(select(OrgUnit.id).where(OrgUnit.code == "D04")),
            "original_case_number": "（2025）示刑初字第38号",
            "facts": "申请人被故意伤害致重伤二级，被告人无赔偿能力，家庭生活困难",
            "loss_amount": Decimal("80000"), "compensation_received": Decimal("20000"),
            "amount_requested": Decimal("50000"), "bank_account": "",
            "materials": ["application", "identity", "hardship", "compensation", "loss", "judgment"]}


def _judicial_aid_script(granted: bool = True, amount: Decimal = Decimal("45000")) -> Script:
    script: Script = [
        ("judicial_aid_opinion", "dept04", lambda c, t: {
            "supports": "yes", "amount": Decimal("50000"),
            "reason": "经核实，被告人无赔偿能力，申请人生活困难，建议救助"}),
        ("judicial_aid_review", "judicialaid", lambda c, t: {
            "granted": "yes" if granted else "no", "amount": amount if granted else None,
            "decided_on": _day(t), "reason": f"符合国家司法救助条件，决定救助{amount}元" if granted
            else "申请人已通过民事诉讼获得足额赔偿，不符合救助条件"})]
    if not granted:
        return script
    return script + [
        ("judicial_aid_funds", "judicialaid", lambda c, t: {"arrived_on": _day(t), "voucher": "示财拨〔2025〕12号"}),
        ("judicial_aid_notify", "dept04", lambda c, t: {
            "notified_on": _day(t), "notify_method": "phone", "amount": amount, "paid_on": _day(t),
            "note": ""})]


def risk_assessment(level: str = "high"):
    reasons = {"high": "多次扬言到省进京上访，近一月三次到县政府门前聚集",
               "medium": "对复核意见不满，近期在网络上发帖，情绪较为激动",
               "low": "对判决结果有意见，但表示愿意等待协调，情绪基本平稳"}

    def form(case, t):
        return {"party_id": case.parties[0].id, "basis": "petition_ended" if level != "low" else "final_judgment",
                "basis_other": "",
                "basis_document": "县信复核〔2025〕12号" if level != "low" else "（2025）示民终字第57号",
                "basis_date": _day(t) - timedelta(days=40), "demands": "要求重新划定宅基地边界并赔偿损失5万元",
                "risk_level": level, "risk_reasons": reasons[level],
                "sector_unit": db.session.scalar(select(OrgUnit.id).where(OrgUnit.code == "D06"))}
    return form


def _risk_script(rounds: int, resolved: bool) -> Script:
    script: Script = [
        ("risk_letter", "director", lambda c, t: {"issued_on": _day(t),
                                                 "measures": "落实一对一稳控，每周走访一次，做好政策解释和帮扶"}),
        ("risk_assign", "township", lambda c, t: {
            "stability_name": "王建国", "stability_post": "镇党委副书记", "stability_phone": "13800001111",
            "resolution_name": "刘芳", "resolution_post": "镇司法所所长", "resolution_phone": "0571-8888123",
            "measures": "已上门见面，明确包保干部，建立联系台账"})]
    for i in range(rounds):
        last = resolved and i == rounds - 1
        script += [WAIT, ("risk_followup", "township", lambda c, t, last=last: {
            "contacted_on": _day(t), "method": "visit", "state": "resolved" if last else "stable", "new_level": "",
            "notes": "经多次协调，已签订息访协议，本人表示不再上访" if last
            else "本人在家，情绪平稳，表示等待协调结果"})]
    if resolved:
        script.append(("risk_close", "director", lambda c, t: {"confirmed": "yes",
                                                              "opinion": "经核实矛盾已化解，解除风险管控"}))
    return script


# (kind, starter, application, script, how many steps to do: None = all)
def scenarios() -> list[tuple[str, str, Form, Script, int | None]]:
    full = _relief_script("3000", county=True, review=True)
    return [
        # every step of relief waiting
        ("relief", "window", relief_application(), full, 0),
        ("relief", "window", relief_application(), full, 1),
        ("relief", "window", relief_application(), full, 2),
        ("relief", "window", relief_application(), full, 3),   # the notice is up
        ("relief", "window", relief_application(), full, 5),   # awaiting the county's approval
        ("relief", "window", relief_application(), full, 6),   # approved, to be paid
        ("relief", "township", relief_application(emergency=True), _relief_script("3000", True, emergency=True), 0),
        # every way relief ends
        ("relief", "window", relief_application(), full, None),
        ("relief", "township", relief_application(amount="800", hardship="illness"),
         _relief_script("800", county=False), None),
        ("relief", "township", relief_application(emergency=True, amount="5000"),
         _relief_script("5000", county=True, emergency=True), None),
        ("relief", "window", relief_application(amount="2000", hardship="traffic"),
         _relief_script("2000", county=False, township_refuses=True), None),
        ("relief", "window", relief_application(amount="6000"),
         _relief_script("6000", county=True, county_refuses=True), None),
        # legal aid: each step waiting, each ending
        ("legal_aid", "window", legal_aid_application, _legal_aid_script(), 0),
        ("legal_aid", "window", legal_aid_application, _legal_aid_script(), 1),
        ("legal_aid", "window", legal_aid_application, _legal_aid_script(), 2),
        ("legal_aid", "window", legal_aid_application, _legal_aid_script(refuse=True, objection="no"), 1),
        ("legal_aid", "window", legal_aid_application, _legal_aid_script(refuse=True, objection="no"), 2),
        ("legal_aid", "window", legal_aid_application, _legal_aid_script(), None),
        ("legal_aid", "window", legal_aid_application, _legal_aid_script(refuse=True, objection="yes"), None),
        ("legal_aid", "window", legal_aid_application, _legal_aid_script(refuse=True, objection="no"), None),
        # judicial aid
        ("judicial_aid", "window", judicial_aid_application, _judicial_aid_script(), 0),
        ("judicial_aid", "window", judicial_aid_application, _judicial_aid_script(), 1),
        ("judicial_aid", "window", judicial_aid_application, _judicial_aid_script(), 2),
        ("judicial_aid", "window", judicial_aid_application, _judicial_aid_script(), 3),
        ("judicial_aid", "window", judicial_aid_application, _judicial_aid_script(), None),
        ("judicial_aid", "window", judicial_aid_application, _judicial_aid_script(granted=False), None),
        # risk control: the letter to issue, the persons to name, follow-ups under way, resolved
        ("risk_control", "dispatch", risk_assessment("high"), _risk_script(1, False), 0),
        ("risk_control", "dispatch", risk_assessment("high"), _risk_script(1, False), 1),
        ("risk_control", "dispatch", risk_assessment("medium"), _risk_script(3, False), None),
        ("risk_control", "dispatch", risk_assessment("low"), _risk_script(1, False), None),
        ("risk_control", "dispatch", risk_assessment("high"), _risk_script(4, True), None),
    ]


def seed_branches(rng: random.Random, users: dict) -> int:
    """Start and work the demo's branches on cases of 城关镇; return how many."""
    town = db.session.scalar(select(OrgUnit).where(OrgUnit.code == "T01"))
    cases = list(db.session.scalars(select(Case).where(Case.township_id == town.id,
                                                       Case.status == CaseStatus.CLOSED).order_by(Case.id)))
    rng.shuffle(cases)
    now = utcnow()
    plans = [(kind, starter, application, script if stop is None else script[:stop],
              now - timedelta(days=max(len(script[:stop]) * 3, 2), hours=rng.randint(1, 6)) if stop is not None
              else now - timedelta(days=rng.randint(40, 300)))
             for kind, starter, application, script, stop in scenarios()]
    # one relief file left at its first step for three weeks: its deadline passed, the director is asked
    plans.append(("relief", "window", relief_application(), [], now - timedelta(days=21)))
    count = 0
    for kind, starter, application, steps, start in plans:
        while cases:
            case = cases.pop()
            try:
                _run(users, case, kind, starter, application, steps, start)
            except ValidationFailed:  # e.g. the same person already had relief for this within the year
                db.session.rollback()
                continue
            count += 1
            break
    fire_due_branch_timers()
    return count


def township_staff(code: str) -> str:
    """The demo login of a township's center staff (城关镇's is ``township``)."""
    return "township" if code == "T01" else f"township{code[1:]}"


# Of the closed cases, how many have a household given temporary relief, and a victim state judicial aid
# (about 2,500 yuan per case in all: a county of a thousand cases a year pays out millions).
RELIEF_SHARE = 0.15
JUDICIAL_AID_SHARE = 0.07


def seed_payments(rng: random.Random, users: dict) -> int:
    """Relief and judicial aid granted and paid over the demo's years, on closed cases of every
    township, each started a few days after its case was registered; return how many were paid."""
    cases = list(db.session.scalars(select(Case).where(Case.status == CaseStatus.CLOSED,
                                                       Case.registered_at < utcnow() - timedelta(days=40))
                                    .order_by(Case.id)))
    rng.shuffle(cases)
    limit = get_setting("relief_township_limit")
    relief, judicial = int(len(cases) * RELIEF_SHARE), int(len(cases) * JUDICIAL_AID_SHARE)
    paid = 0
    for i, case in enumerate(cases[:relief + judicial]):
        start = case.registered_at + timedelta(days=rng.randint(1, 6), hours=rng.randint(0, 3))
        if i < relief:
            amount = str(rng.randrange(800, 8001, 100))
            kind, application = "relief", relief_application(amount=amount, hardship=rng.choice(
                ["fire", "illness", "illness", "traffic"]))
            script = _relief_script(amount, county=Decimal(amount) > limit, review=rng.random() < 0.3)
            cast = {**users, "township": users[township_staff(case.township.code)]}
        else:
            kind, application, cast = "judicial_aid", judicial_aid_application, users
            script = _judicial_aid_script(amount=Decimal(rng.randrange(10000, 50001, 1000)))
        try:
            branch = _run(cast, case, kind, "window", application, script, start)
        except ValidationFailed:  # e.g. the same person already had relief for this within the year
            db.session.rollback()
            continue
        paid += db.session.get(Branch, branch.id).amount_paid is not None
    return paid


def _run(users: dict, case: Case, kind: str, starter: str, application: Form, steps: Script,
         t: datetime) -> Branch:
    with frozen_at(t):
        branch = start_branch(users[starter], case.id, kind, application(case, t))
    for step in steps:
        if step == WAIT:
            due = db.session.get(Branch, branch.id).next_timer_due_at
            if due is None or due >= utcnow():
                break
            t = due + timedelta(minutes=5)
            with frozen_at(t):
                fire_due_branch_timers()
            continue
        form_key, username, form = step
        t = _office_hours(t + timedelta(hours=20))
        if t >= utcnow():
            break
        item = db.session.scalar(select(WorkItem).where(WorkItem.branch_id == branch.id,
                                                        WorkItem.form_key == form_key,
                                                        WorkItem.status == WorkItemStatus.OPEN))
        if item is None:
            break
        with frozen_at(t):
            complete_task(users[username], item.id, form(case, t))
    return branch


def _office_hours(t: datetime) -> datetime:
    local = utc_to_local(t)
    if 8 <= local.hour < 18:
        return t
    return t + timedelta(hours=(8 - local.hour) % 24)
