"""法律援助 through every path: granted and a lawyer assigned, missing materials supplied or the
application treated as withdrawn, refusals with and without an objection before the justice bureau,
a missed review deadline escalated, the exemptions from the means test, and the application's
refusals."""
from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from portal.clock import frozen_at, utcnow
from portal.extensions import db
from portal.models import AuditEvent, Branch, BranchOutcome, BranchStatus, Case, WorkItem, WorkItemStatus
from portal.services.branches import fire_due_branch_timers, start_branch
from portal.services.deadlines import legal_due_at, local_today
from portal.services.errors import TaskNotYoursError, ValidationFailed
from portal.workdays import DayUnit
from tests.conftest import do_branch_step, open_branch_item, row_counts, unit_id, user

MEANS_MATERIALS = ["identity", "means", "evidence"]


def party(case_id: int, index: int = 0):
    return db.session.get(Case, case_id).parties[index]


def application(case_id: int, index: int = 0, **overrides) -> dict:
    return {"party_id": party(case_id, index).id, "matter": "labour", "aid_form": "labour",
            "legal_status": "not_started", "summary": "在建筑工地务工八个月，包工头拖欠工资两万三千元，多次催讨未果",
            "by_proxy": False, "exemption": "", "exemption_basis": "", "monthly_income": Decimal("1800"),
            "household_size": 3, "pledge": True, "materials": MEANS_MATERIALS, **overrides}


def review(branch_id: int, decision: str = "grant", **overrides):
    return do_branch_step(branch_id, "legal_aid_review", "yuanzhu", {
        "decision": decision, "missing": [], "missing_other": "", "decided_on": local_today(),
        "refusal_ground": "", "reason": "申请事项属于法律援助范围，经济困难状况属实，决定给予法律援助",
        "provided_first": False, "first_reason": "", "first_note": "", **overrides})


def refuse(branch_id: int, **overrides):
    return review(branch_id, "refuse", **{
        "refusal_ground": "means", "reason": "申请人家庭人均月收入高于本省法律援助经济困难标准", **overrides})


def ask_for_more(branch_id: int, **overrides):
    return review(branch_id, "incomplete", **{
        "decided_on": None, "reason": "", "missing": ["evidence", "explanation"],
        "missing_other": "劳动关系证明（工资条、考勤记录或工友证言）", **overrides})


def assign(branch_id: int, **overrides):
    return do_branch_step(branch_id, "legal_aid_assign", "yuanzhu", {
        "lawyer": "王律师", "law_firm": "县法律援助中心", "phone": "0571-8888 6666", "assigned_on": local_today(),
        **overrides})


def report(branch_id: int, **overrides):
    return do_branch_step(branch_id, "legal_aid_report", "yuanzhu", {
        "closed_on": local_today(), "result": "mediated", "termination_ground": "",
        "summary": "经劳动争议仲裁委员会调解，用人单位一次性支付拖欠工资两万三千元",
        "documents": "仲裁调解书复印件、结案报告",
        **overrides})


def object_to(branch_id: int):
    return do_branch_step(branch_id, "legal_aid_objection", "window", {
        "received_on": local_today(), "content": "本人无固定收入，家庭收入计算有误，请求给予法律援助"})


def decide_objection(branch_id: int, upheld: str, username: str = "sifalead", **overrides):
    return do_branch_step(branch_id, "legal_aid_objection_decide", username, {
        "upheld": upheld, "decided_on": local_today(), "reason": "经审查，异议理由不成立", **overrides})


def days_due(item: WorkItem, days: int):
    return legal_due_at(item.created_at, days, DayUnit.CALENDAR)


def test_granted_a_lawyer_is_assigned_and_reports(make_case):
    case_id = make_case("handle")
    branch = start_branch(user("window"), case_id, "legal_aid", application(case_id))
    assert branch.number == f"（{local_today().year}）援申字第1号" and branch.matter == "labour"
    assert branch.status == BranchStatus.OPEN and branch.outcome is None
    item = open_branch_item(branch.id, "legal_aid_review")
    assert item.org_unit_id == unit_id("D03") and item.lane == "法律援助机构"
    assert item.due_at == days_due(item, 7) and branch.due_at == item.due_at  # 7 days (§43)
    with pytest.raises(TaskNotYoursError):  # the window does not decide
        do_branch_step(branch.id, "legal_aid_review", "window", {"decision": "grant"})
    review(branch.id, provided_first=True, first_reason="deadline")
    branch = db.session.get(Branch, branch.id)
    assert branch.emergency is True and branch.info["first_reason"] == "deadline" and branch.outcome is None
    assert "决定给予" in branch.decision_reason
    item = open_branch_item(branch.id, "legal_aid_assign")
    assert item.org_unit_id == unit_id("D03") and item.due_at == days_due(item, 3)  # 3 days to assign
    before = row_counts()
    with pytest.raises(ValidationFailed) as future:
        assign(branch.id, assigned_on=local_today() + timedelta(days=1))
    assert future.value.field == "assigned_on" and row_counts() == before
    with pytest.raises(ValidationFailed) as phone:
        assign(branch.id, phone="王律师电话")
    assert phone.value.field == "phone" and row_counts() == before
    assign(branch.id)
    branch = db.session.get(Branch, branch.id)
    assert branch.outcome == BranchOutcome.GRANTED and branch.status == BranchStatus.OPEN
    assert branch.info["lawyer"] == "王律师" and branch.info["law_firm"] == "县法律援助中心"
    assert open_branch_item(branch.id, "legal_aid_report").org_unit_id == unit_id("D03")
    report(branch.id)
    branch = db.session.get(Branch, branch.id)
    assert branch.status == BranchStatus.CLOSED and branch.outcome == BranchOutcome.GRANTED
    assert branch.info["result"] == "mediated" and branch.closed_at is not None
    steps = [a.action for a in db.session.query(AuditEvent).filter_by(case_id=case_id)]
    assert steps.count("branch.step") == 4 and "branch.start" in steps


def test_missing_materials_supplied_then_granted(make_case):
    case_id = make_case("handle")
    branch = start_branch(user("window"), case_id, "legal_aid", application(case_id))
    before = row_counts()
    with pytest.raises(ValidationFailed) as nothing_listed:
        ask_for_more(branch.id, missing=[], missing_other="  ")
    assert nothing_listed.value.field == "missing" and row_counts() == before
    ask_for_more(branch.id)
    branch = db.session.get(Branch, branch.id)
    assert branch.outcome is None and branch.status == BranchStatus.OPEN
    [request] = branch.info["supplement_requests"]
    assert request["items"] == ["evidence", "explanation"] and "工资条" in request["other"]
    item = open_branch_item(branch.id, "legal_aid_supplement")
    assert item.lane == "受理窗口" and item.org_unit_id == unit_id("CENTER")
    assert abs(item.due_at - (item.created_at + timedelta(days=15))) < timedelta(seconds=2)  # "P15D"
    later = utcnow() + timedelta(days=5)
    with frozen_at(later):
        do_branch_step(branch.id, "legal_aid_supplement", "window",
                       {"received_on": local_today(), "brought": "工资条六张、两名工友的书面证言"})
    again = open_branch_item(branch.id, "legal_aid_review")
    assert again.due_at == legal_due_at(later, 7, DayUnit.CALENDAR)  # the review's 7 days start again
    branch = db.session.get(Branch, branch.id)
    assert branch.due_at == again.due_at and branch.info["supplement_requests"][0]["brought"].startswith("工资条")
    review(branch.id)
    assign(branch.id)
    assert db.session.get(Branch, branch.id).outcome == BranchOutcome.GRANTED


def test_not_supplemented_in_15_days_is_treated_as_withdrawn(make_case):
    case_id = make_case("handle")
    branch = start_branch(user("window"), case_id, "legal_aid", application(case_id))
    ask_for_more(branch.id)
    supplement = open_branch_item(branch.id, "legal_aid_supplement")
    with frozen_at(supplement.due_at - timedelta(minutes=1)):
        fire_due_branch_timers()
    assert open_branch_item(branch.id, "legal_aid_supplement").id == supplement.id  # not yet
    with frozen_at(supplement.due_at + timedelta(minutes=1)):
        assert fire_due_branch_timers() == 1
        assert db.session.get(WorkItem, supplement.id).status == WorkItemStatus.CANCELLED
        told = open_branch_item(branch.id, "legal_aid_withdrawn")
        assert told.lane == "受理窗口"
        before = row_counts()
        with pytest.raises(ValidationFailed) as how:
            do_branch_step(branch.id, "legal_aid_withdrawn", "window", {"told_on": local_today(), "told_by": ""})
        assert how.value.field == "told_by" and row_counts() == before
        do_branch_step(branch.id, "legal_aid_withdrawn", "window",
                       {"told_on": local_today(), "told_by": "phone", "note": "电话告知申请人本人"})
    branch = db.session.get(Branch, branch.id)
    assert branch.status == BranchStatus.CLOSED and branch.outcome == BranchOutcome.WITHDRAWN
    assert branch.info["withdrawn_told_by"] == "phone"


def test_refusal_needs_written_reasons_and_an_upheld_objection_ends_it(make_case):
    case_id = make_case("handle")
    branch = start_branch(user("window"), case_id, "legal_aid", application(case_id))
    before = row_counts()
    with pytest.raises(ValidationFailed) as no_reason:
        refuse(branch.id, reason="   ")
    assert no_reason.value.field == "reason" and row_counts() == before
    with pytest.raises(ValidationFailed) as no_decision:
        review(branch.id, decision="")
    assert no_decision.value.field == "decision" and row_counts() == before
    refuse(branch.id)
    branch = db.session.get(Branch, branch.id)
    assert branch.outcome == BranchOutcome.REFUSED and branch.status == BranchStatus.OPEN  # may still object
    assert "经济困难标准" in branch.decision_reason
    assert open_branch_item(branch.id, "legal_aid_objection").lane == "受理窗口"
    object_to(branch.id)
    decide = open_branch_item(branch.id, "legal_aid_objection_decide")
    assert decide.lane == "司法行政机关" and decide.org_unit_id == unit_id("D03")
    assert decide.due_at == days_due(decide, 5)  # 5 days (§49)
    with pytest.raises(TaskNotYoursError):  # the legal-aid office does not judge its own refusal
        decide_objection(branch.id, "yes", username="yuanzhu")
    before = row_counts()
    with pytest.raises(ValidationFailed) as unanswered:
        decide_objection(branch.id, "")
    assert unanswered.value.field == "upheld" and row_counts() == before
    with pytest.raises(ValidationFailed):
        decide_objection(branch.id, "yes", reason="")
    assert row_counts() == before
    decide_objection(branch.id, "yes")
    branch = db.session.get(Branch, branch.id)
    assert branch.status == BranchStatus.CLOSED and branch.outcome == BranchOutcome.REFUSED
    assert branch.info["objection_upheld"] is True
    assert not db.session.query(WorkItem).filter_by(branch_id=branch.id, form_key="legal_aid_assign").count()


def test_the_justice_bureau_orders_aid_and_a_lawyer_is_assigned(make_case):
    case_id = make_case("handle")
    branch = start_branch(user("window"), case_id, "legal_aid", application(case_id))
    refuse(branch.id)
    object_to(branch.id)
    decide_objection(branch.id, "no", reason="申请人家庭收入计算有误，责令法律援助中心给予法律援助")
    branch = db.session.get(Branch, branch.id)
    assert branch.outcome is None and branch.info["objection_upheld"] is False
    item = open_branch_item(branch.id, "legal_aid_assign")
    assert item.org_unit_id == unit_id("D03") and item.due_at == days_due(item, 3)
    assign(branch.id)
    assert db.session.get(Branch, branch.id).outcome == BranchOutcome.GRANTED
    before = row_counts()
    with pytest.raises(ValidationFailed) as ground:  # ending aid needs its ground (§48)
        report(branch.id, result="terminated")
    assert ground.value.field == "termination_ground" and row_counts() == before
    report(branch.id, result="terminated", termination_ground="own_lawyer", summary="受援人自行委托律师")
    branch = db.session.get(Branch, branch.id)
    assert branch.status == BranchStatus.CLOSED and branch.info["termination_ground"] == "own_lawyer"


def test_a_refusal_not_objected_to_in_15_days_ends_the_application(make_case):
    case_id = make_case("handle")
    branch = start_branch(user("window"), case_id, "legal_aid", application(case_id))
    refuse(branch.id)
    objection = open_branch_item(branch.id, "legal_aid_objection")
    assert abs(objection.due_at - (objection.created_at + timedelta(days=15))) < timedelta(seconds=2)
    with frozen_at(objection.due_at + timedelta(minutes=1)):
        assert fire_due_branch_timers() == 1
    branch = db.session.get(Branch, branch.id)
    assert branch.status == BranchStatus.CLOSED and branch.outcome == BranchOutcome.REFUSED
    assert db.session.get(WorkItem, objection.id).status == WorkItemStatus.CANCELLED
    assert not db.session.query(WorkItem).filter_by(branch_id=branch.id, status=WorkItemStatus.OPEN).count()
    assert db.session.query(AuditEvent).filter_by(case_id=case_id, action="branch.timer").count() == 1


def test_a_missed_review_is_escalated_to_the_director(make_case):
    case_id = make_case("handle")
    branch = start_branch(user("window"), case_id, "legal_aid", application(case_id))
    item = open_branch_item(branch.id, "legal_aid_review")
    assert item.due_at == legal_due_at(branch.started_at, 7, DayUnit.CALENDAR)
    assert item.due_at - branch.started_at > timedelta(days=6)
    with frozen_at(item.due_at - timedelta(minutes=1)):
        fire_due_branch_timers()
    assert not db.session.query(WorkItem).filter_by(branch_id=branch.id, form_key="aid_supervise").count()
    with frozen_at(item.due_at + timedelta(minutes=1)):
        assert fire_due_branch_timers() == 1
    supervise = open_branch_item(branch.id, "aid_supervise")
    assert supervise.lane == "中心主任" and supervise.org_unit_id == unit_id("CENTER")
    assert supervise.created_at > item.due_at
    assert open_branch_item(branch.id, "legal_aid_review").id == item.id  # the review itself stays open
    do_branch_step(branch.id, "aid_supervise", "director", {"note": "已电话督促法律援助中心当日作出决定"})
    assert db.session.get(WorkItem, supervise.id).status == WorkItemStatus.DONE
    review(branch.id)
    assert open_branch_item(branch.id, "legal_aid_assign")


def test_exemptions_skip_the_means_test_which_otherwise_needs_the_pledge(make_case):
    case_id = make_case("handle")
    before = row_counts()
    with pytest.raises(ValidationFailed, match="诚信承诺") as pledge:
        start_branch(user("window"), case_id, "legal_aid", application(case_id, pledge=False))
    assert pledge.value.field == "pledge" and row_counts() == before
    with pytest.raises(ValidationFailed) as basis:  # an exemption states its basis
        start_branch(user("window"), case_id, "legal_aid", application(case_id, exemption="migrant_worker"))
    assert basis.value.field == "exemption_basis" and row_counts() == before
    with pytest.raises(ValidationFailed, match="劳动报酬") as wrong_matter:  # §42(3) is for pay or work injury
        start_branch(user("window"), case_id, "legal_aid", application(
            case_id, matter="maintenance", exemption="migrant_worker", exemption_basis="外出务工人员登记证明"))
    assert wrong_matter.value.field == "exemption" and row_counts() == before
    # §42: a migrant worker claiming pay: no means, no pledge, the proof of the status instead
    exempt = application(case_id, exemption="migrant_worker", exemption_basis="外来务工人员登记卡、劳动合同",
                         monthly_income=None, household_size=None, pledge=False,
                         materials=["identity", "exemption_proof", "evidence"])
    branch = start_branch(user("window"), case_id, "legal_aid", exempt)
    info = branch.info
    assert info["exemption_article"] == "42" and "monthly_income" not in info and "pledge" not in info
    # §32: a victim of domestic violence, no means test at all
    victim = application(case_id, matter="maintenance", aid_form="civil_suit", exemption="abuse_victim",
                         exemption_basis="公安机关出具的家庭暴力告诫书", pledge=False,
                         materials=["identity", "exemption_proof", "evidence"])
    assert start_branch(user("window"), case_id, "legal_aid", victim).info["exemption_article"] == "32"
    # the means test: no income at all is a figure too
    poor = application(case_id, 1, matter="injury", monthly_income=Decimal("0"), household_size=2)
    branch = start_branch(user("window"), case_id, "legal_aid", poor)
    assert branch.info["income_per_head"] == "0.00" and branch.info["pledge"] is True
    assert branch.person_key == f"party:{party(case_id, 1).id}"


def test_missing_materials_are_listed_at_once(make_case):
    case_id = make_case("handle")
    before = row_counts()
    with pytest.raises(ValidationFailed) as means:
        start_branch(user("window"), case_id, "legal_aid", application(case_id, by_proxy=True, materials=[]))
    for item in ("申请人身份证明", "经济困难状况说明或个人诚信承诺", "相关的证据材料", "法定代理人身份证明"):
        assert item in str(means.value)
    assert "免予" not in str(means.value) and means.value.field == "materials"
    with pytest.raises(ValidationFailed) as exempt:
        start_branch(user("window"), case_id, "legal_aid", application(
            case_id, exemption="good_samaritan", exemption_basis="县见义勇为基金会确认书", materials=["identity"]))
    assert "免予经济困难审查情形的证明材料" in str(exempt.value) and "相关的证据材料" in str(exempt.value)
    assert "诚信承诺" not in str(exempt.value)
    assert row_counts() == before


def test_a_second_application_while_one_is_running_is_refused(make_case):
    case_id = make_case("handle")
    first = start_branch(user("window"), case_id, "legal_aid", application(case_id))
    before = row_counts()
    with pytest.raises(ValidationFailed, match="在办") as running:
        start_branch(user("window"), case_id, "legal_aid", application(case_id))
    assert first.number in str(running.value) and row_counts() == before
    # another matter of the same person is another application
    other = start_branch(user("window"), case_id, "legal_aid", application(case_id, matter="injury"))
    assert other.number == f"（{local_today().year}）援申字第2号"
    refuse(first.id)  # a refusal may still be objected to: still running
    with pytest.raises(ValidationFailed):
        start_branch(user("window"), case_id, "legal_aid", application(case_id))
    objection = open_branch_item(first.id, "legal_aid_objection")
    with frozen_at(objection.due_at + timedelta(minutes=1)):
        fire_due_branch_timers()
    assert db.session.get(Branch, first.id).status == BranchStatus.CLOSED
    again = start_branch(user("window"), case_id, "legal_aid", application(case_id))  # finished: may apply anew
    assert again.number == f"（{local_today().year}）援申字第3号"


def test_only_the_window_takes_applications(make_case):
    case_id = make_case("handle")
    with pytest.raises(TaskNotYoursError):
        start_branch(user("yuanzhu"), case_id, "legal_aid", application(case_id))


def _form_text(client, case_id: int, pages: int) -> str:
    """The printed 法律援助申请表, one page per application, as its text without spaces."""
    from tests.pdfcheck import cjk_font_embedded, pdf_pages, pdf_text
    pdf = client.get(f"/cases/{case_id}/documents/legal_aid_form").data
    assert cjk_font_embedded(pdf) and pdf_pages(pdf) == pages
    return "".join(pdf_text(pdf, raw=True).split())


def test_the_application_form_is_filled_from_the_legal_aid_file(make_case, login_as):
    case_id = make_case("handle")
    branch = start_branch(user("window"), case_id, "legal_aid", application(case_id))
    ask_for_more(branch.id)
    do_branch_step(branch.id, "legal_aid_supplement", "window",
                   {"received_on": local_today(), "brought": "工资条六张、两名工友的书面证言"})
    review(branch.id, provided_first=True, first_reason="deadline")
    assign(branch.id)
    report(branch.id)
    number = db.session.get(Branch, branch.id).number
    text = _form_text(login_as("sifa"), case_id, pages=1)
    for expected in (number, "姓名：张三", "11010519491231002X", "√请求确认劳动关系或者支付劳动报酬",
                     "√劳动争议调解与仲裁代理", "√尚未进入法律程序", "包工头拖欠工资两万三千元", "家庭人口：3人",
                     "月均1,800.00元（人均600.00元）", "√否（以申请人个人诚信承诺核查", "√已签署",
                     "√申请人身份证明", "受理人：window", "告知申请人补充：与所申请法律援助事项相关的证据材料",
                     "劳动关系证明（工资条、考勤记录或工友证言）", "补充：工资条六张、两名工友的书面证言",
                     "经济困难状况属实，决定给予法律援助", "先行提供法律援助（法律援助法第四十四条）：距法定时效",
                     "审查人：yuanzhu", "√给予法律援助", "承办机构：县法律援助中心", "承办人：王律师（0571-88886666）",
                     "调解结案。经劳动争议仲裁委员会调解", "归档材料：仲裁调解书复印件、结案报告"):
        assert expected in text, expected
    assert "√不予法律援助" not in text and "异议" not in text
    assert "本文书缺少以下内容" not in text  # the finished file lacks nothing


def test_the_form_of_running_files_says_what_each_still_lacks(make_case, login_as):
    from portal.services.documents import document, load_case_file
    case_id = make_case("handle")
    granted = start_branch(user("window"), case_id, "legal_aid", application(case_id))
    review(granted.id)
    refused = start_branch(user("window"), case_id, "legal_aid", application(case_id, matter="injury"))
    refuse(refused.id)
    object_to(refused.id)
    exempt = start_branch(user("window"), case_id, "legal_aid", application(
        case_id, 1, matter="maintenance", aid_form="civil_suit", exemption="abuse_victim",
        exemption_basis="公安机关出具的家庭暴力告诫书", pledge=False, monthly_income=None, household_size=None,
        materials=["identity", "exemption_proof", "evidence"]))
    withdrawn = start_branch(user("window"), case_id, "legal_aid", application(case_id, 1))
    ask_for_more(withdrawn.id)
    with frozen_at(open_branch_item(withdrawn.id, "legal_aid_supplement").due_at + timedelta(minutes=1)):
        fire_due_branch_timers()
        do_branch_step(withdrawn.id, "legal_aid_withdrawn", "window", {"told_on": local_today(), "told_by": "phone"})
    numbers = [db.session.get(Branch, b.id).number for b in (granted, refused, exempt, withdrawn)]
    missing = document("legal_aid_form").missing(load_case_file(db.session.get(Case, case_id), False, local_today()))
    assert [m.split("（尚在办理")[0] for m in missing] == [  # the finished (withdrawn) file lacks nothing
        f"{numbers[0]}：指派、办理结果", f"{numbers[1]}：异议的审查决定", f"{numbers[2]}：审查意见、审批决定"]
    text = _form_text(login_as("sifa"), case_id, pages=4)
    assert "本文书缺少以下内容" in text and f"{numbers[0]}：指派、办理结果（尚在办理：" in text
    assert "√不予法律援助" in text and "不予法律援助的理由：申请人经济状况不符合经济困难标准" in text
    assert "申请人提出异议：本人无固定收入，家庭收入计算有误" in text
    assert "√第三十二条：遭受虐待、遗弃或者家庭暴力的受害人主张相关权益" in text
    assert "依据：公安机关出具的家庭暴力告诫书" in text and "无需承诺" in text
    assert "未在规定期限内补充，视为撤回申请" in text and "电话告知申请人" in text
    last_page = text.split(f"编号：{numbers[3]}")[-1]  # 李四 applied before: the exempt application
    assert f"√是（时间、地点、编号：{local_today().year}年" in last_page and numbers[2] in last_page
