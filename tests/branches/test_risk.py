"""风险管控: assessment, the 提示函, the township's responsible persons, follow-up rounds at the
level's interval until the director confirms the matter resolved; a raised level shortening the
interval; missed deadlines escalated; one open file per person; the ledger."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from portal.clock import frozen_at
from portal.extensions import db
from portal.models import AuditEvent, Branch, BranchOutcome, BranchStatus, Case, WorkItem, WorkItemStatus
from portal.services.aid.risk import risk_ledger
from portal.services.branches import fire_due_branch_timers, start_branch
from portal.services.deadlines import legal_due_at, local_today
from portal.services.errors import TaskNotYoursError, ValidationFailed
from portal.workdays import DayUnit
from tests.conftest import do_branch_step, open_branch_item, row_counts, unit_id, user

INTERVAL = {"high": 7, "medium": 15, "low": 30}


def assessment(case_id: int, party: int = 0, **overrides) -> dict:
    person = db.session.get(Case, case_id).parties[party]
    return {"party_id": person.id, "basis": "petition_ended", "basis_other": "",
            "basis_document": "县信复核〔2024〕12号", "basis_date": local_today() - timedelta(days=40),
            "demands": "要求重新划定宅基地边界并赔偿损失5万元",
            "risk_level": "high", "risk_reasons": "多次扬言到省进京上访，近一月三次到县政府门前聚集",
            "sector_unit": unit_id("D06"), **overrides}


def letter(branch_id: int, **overrides):
    return do_branch_step(branch_id, "risk_letter", "director", {
        "issued_on": local_today(), "measures": "落实一对一稳控，每周走访一次，做好政策解释和帮扶", **overrides})


def assign(branch_id: int, **overrides):
    return do_branch_step(branch_id, "risk_assign", "xiang", {
        "stability_name": "王建国", "stability_post": "乡党委副书记", "stability_phone": "13800001111",
        "resolution_name": "刘芳", "resolution_post": "乡司法所所长", "resolution_phone": "0571-8888123",
        "measures": "已上门见面，明确包保干部，建立联系台账", **overrides})


def followup(branch_id: int, state: str = "stable", **overrides):
    return do_branch_step(branch_id, "risk_followup", "xiang", {
        "contacted_on": local_today(), "method": "visit", "state": state, "new_level": "",
        "notes": "本人在家，情绪平稳，表示等待协调结果", **overrides})


def opened(case_id: int, **overrides) -> Branch:
    """A file assessed, its letter issued and its responsible persons named: the first follow-up waits."""
    branch = start_branch(user("dispatch"), case_id, "risk_control", assessment(case_id, **overrides))
    letter(branch.id)
    assign(branch.id)
    return db.session.get(Branch, branch.id)


def next_round(branch_id: int, days: int) -> datetime:
    """Move the clock to when the follow-up falls due and fire the timer; the item opens then."""
    branch = db.session.get(Branch, branch_id)
    due = branch.next_timer_due_at
    assert due is not None and "动态跟进" not in (branch.current_step or "")  # the interval timer waits
    assert timedelta(days=days) <= due - _last_step_at(branch_id) < timedelta(days=days, minutes=1)
    at = due + timedelta(minutes=1)
    with frozen_at(at):
        assert fire_due_branch_timers() == 1
    return at


def unit_name(code: str) -> str:
    from portal.models import OrgUnit
    return db.session.get(OrgUnit, unit_id(code)).name


def _last_step_at(branch_id: int) -> datetime:
    return max(w.completed_at for w in db.session.query(WorkItem).filter_by(branch_id=branch_id,
                                                                             status=WorkItemStatus.DONE))


def test_whole_path_three_rounds_then_resolved(make_case):
    case_id = make_case("handle")
    branch = start_branch(user("dispatch"), case_id, "risk_control", assessment(case_id))
    assert branch.status == BranchStatus.OPEN and branch.matter == "petition_ended" and branch.risk_level == "high"
    assert branch.person_name == "张三" and branch.info["sector_unit_id"] == unit_id("D06")
    item = open_branch_item(branch.id, "risk_letter")
    assert item.lane == "中心主任" and item.org_unit_id == unit_id("CENTER")
    letter(branch.id)
    branch = db.session.get(Branch, branch.id)
    assert branch.number == f"风险管控提示函（{local_today().year}）第1号"
    assert branch.info["letter_to"] == [unit_name("T01"), unit_name("D06")]
    item = open_branch_item(branch.id, "risk_assign")
    assert item.org_unit_id == unit_id("T01") and item.due_at == legal_due_at(item.created_at, 3, DayUnit.WORKING)
    assign(branch.id)
    branch = db.session.get(Branch, branch.id)
    assert branch.info["stability"] == {"name": "王建国", "post": "乡党委副书记", "phone": "13800001111"}
    assert branch.info["resolution"]["name"] == "刘芳"
    for n in range(1, 4):
        at = next_round(branch.id, INTERVAL["high"])
        item = open_branch_item(branch.id, "risk_followup")
        assert item.org_unit_id == unit_id("T01") and item.lane == "属地乡镇"
        assert item.created_at == at and item.due_at == legal_due_at(at, 3, DayUnit.WORKING)
        assert item.due_at - at >= timedelta(days=3)
        with frozen_at(at + timedelta(hours=2)):
            followup(branch.id, method=["visit", "phone", "interview"][n - 1])
        branch = db.session.get(Branch, branch.id)
        assert len(branch.info["followups"]) == n and branch.status == BranchStatus.OPEN
    assert [f["method"] for f in branch.info["followups"]] == ["visit", "phone", "interview"]
    at = next_round(branch.id, INTERVAL["high"])
    with frozen_at(at + timedelta(hours=1)):
        followup(branch.id, state="resolved", notes="经协调，双方重新确认边界，本人书面表示息诉罢访")
        close = open_branch_item(branch.id, "risk_close")
        assert close.lane == "中心主任"
        do_branch_step(branch.id, "risk_close", "director", {"confirmed": "yes",
                                                             "opinion": "经核实，矛盾已化解，同意销号"})
    branch = db.session.get(Branch, branch.id)
    assert branch.status == BranchStatus.CLOSED and branch.outcome == BranchOutcome.RESOLVED
    assert branch.next_timer_due_at is None and "销号" in branch.decision_reason
    assert len(branch.info["followups"]) == 4 and branch.info["last_state"] == "resolved"
    done = db.session.query(WorkItem).filter_by(branch_id=branch.id, form_key="risk_followup",
                                                status=WorkItemStatus.DONE).count()
    assert done == 4
    actions = [a.action for a in db.session.query(AuditEvent).filter_by(case_id=case_id)]
    assert actions.count("branch.step") == 8 and actions.count("branch.timer") == 4


def test_dozens_of_rounds_stay_small(make_case):
    """The loop is folded: the saved workflow does not grow with the rounds."""
    case_id = make_case("handle")
    branch = opened(case_id)
    sizes = []
    for _ in range(12):
        at = next_round(branch.id, INTERVAL["high"])
        with frozen_at(at):
            followup(branch.id)
        sizes.append(len(db.session.get(Branch, branch.id).wf_state))
    assert sizes[-1] <= sizes[1] * 1.1


def test_raising_the_level_shortens_the_next_interval(make_case):
    case_id = make_case("handle")
    branch = opened(case_id, risk_level="low")
    assert branch.next_timer_due_at - _last_step_at(branch.id) >= timedelta(days=30)
    at = next_round(branch.id, INTERVAL["low"])
    with frozen_at(at):
        before = row_counts()
        with pytest.raises(ValidationFailed, match="异常|unrest"):  # raised only on signs of unrest
            followup(branch.id, state="stable", new_level="high")
        with pytest.raises(ValidationFailed, match="高于|higher"):
            followup(branch.id, state="abnormal", new_level="low")
        assert row_counts() == before
        followup(branch.id, state="abnormal", new_level="medium", notes="近日在村里串联他人，准备集体上访")
    branch = db.session.get(Branch, branch.id)
    assert branch.risk_level == "medium" and branch.info["followups"][-1]["level"] == "medium"
    at = next_round(branch.id, INTERVAL["medium"])  # 15 days now, not 30
    with frozen_at(at):
        followup(branch.id, state="abnormal", new_level="high")
    next_round(branch.id, INTERVAL["high"])
    assert db.session.get(Branch, branch.id).info["initial_level"] == "low"


def test_director_may_refuse_to_confirm_and_the_follow_up_goes_on(make_case):
    case_id = make_case("handle")
    branch = opened(case_id, risk_level="medium")
    at = next_round(branch.id, INTERVAL["medium"])
    with frozen_at(at):
        followup(branch.id, state="resolved")
        do_branch_step(branch.id, "risk_close", "director", {"confirmed": "no",
                                                             "opinion": "未见书面息诉承诺，继续跟进"})
    branch = db.session.get(Branch, branch.id)
    assert branch.status == BranchStatus.OPEN and branch.outcome is None
    next_round(branch.id, INTERVAL["medium"])
    assert open_branch_item(branch.id, "risk_followup")


def test_missed_follow_up_deadline_goes_to_the_director(make_case):
    case_id = make_case("handle")
    branch = opened(case_id)
    next_round(branch.id, INTERVAL["high"])
    item = open_branch_item(branch.id, "risk_followup")
    with frozen_at(item.due_at + timedelta(minutes=1)):
        assert fire_due_branch_timers() == 1
        supervise = open_branch_item(branch.id, "aid_supervise")
        assert supervise.lane == "中心主任" and supervise.org_unit_id == unit_id("CENTER")
        assert open_branch_item(branch.id, "risk_followup").id == item.id  # the follow-up itself stays open
        [row] = risk_ledger(user("director"), state="overdue")
        assert row.branch_id == branch.id and row.overdue and row.state == "overdue"
        followup(branch.id)
    # the director has not yet written the supervision: the next round runs beside it, with its deadline
    at = next_round(branch.id, INTERVAL["high"])
    assert open_branch_item(branch.id, "risk_followup").due_at == legal_due_at(at, 3, DayUnit.WORKING)
    assert open_branch_item(branch.id, "aid_supervise").id == supervise.id
    with frozen_at(at):
        do_branch_step(branch.id, "aid_supervise", "director", {"note": "已电话督促乡里按期走访，不得再超期"})
        followup(branch.id)
    assert db.session.get(WorkItem, supervise.id).status == WorkItemStatus.DONE
    at = next_round(branch.id, INTERVAL["high"])
    assert open_branch_item(branch.id, "risk_followup").due_at == legal_due_at(at, 3, DayUnit.WORKING)
    assert len(db.session.get(Branch, branch.id).info["followups"]) == 2


def test_missed_assignment_deadline_goes_to_the_director(make_case):
    case_id = make_case("handle")
    branch = start_branch(user("director"), case_id, "risk_control", assessment(case_id))
    letter(branch.id)
    item = open_branch_item(branch.id, "risk_assign")
    with frozen_at(item.due_at + timedelta(minutes=1)):
        fire_due_branch_timers()
    assert open_branch_item(branch.id, "aid_supervise")


def test_one_open_file_per_person(make_case):
    case_id = make_case("handle")
    first = start_branch(user("dispatch"), case_id, "risk_control", assessment(case_id))
    other_case = make_case("handle")  # the same person (same ID number) in another case
    before = row_counts()
    with pytest.raises(ValidationFailed, match="张三") as refused:
        start_branch(user("dispatch"), other_case, "risk_control", assessment(other_case, basis="final_judgment"))
    assert refused.value.field == "party_id" and "已在风险管控中" in str(refused.value)
    assert row_counts() == before
    # another person of the case may be taken under control
    start_branch(user("dispatch"), case_id, "risk_control", assessment(case_id, party=1))
    assert db.session.get(Branch, first.id).status == BranchStatus.OPEN


def test_assessment_refusals_save_nothing(make_case):
    case_id = make_case("handle")
    before = row_counts()
    refusals = [
        ({"risk_reasons": "  "}, "risk_reasons"),
        ({"risk_level": "extreme"}, "risk_level"),
        ({"basis": "other", "basis_other": ""}, "basis_other"),
        ({"basis_document": ""}, "basis_document"),
        ({"basis_date": local_today() + timedelta(days=1)}, "basis_date"),
        ({"demands": ""}, "demands"),
        ({"sector_unit": unit_id("T01")}, "sector_unit"),  # a township is not a sector department
    ]
    for overrides, field in refusals:
        with pytest.raises(ValidationFailed) as refused:
            start_branch(user("dispatch"), case_id, "risk_control", assessment(case_id, **overrides))
        assert refused.value.field == field, overrides
        assert row_counts() == before
    with pytest.raises(TaskNotYoursError):  # the window does not assess risks
        start_branch(user("window"), case_id, "risk_control", assessment(case_id))
    assert row_counts() == before


def test_step_refusals_save_nothing(make_case):
    case_id = make_case("handle")
    branch = start_branch(user("dispatch"), case_id, "risk_control", assessment(case_id))
    before = row_counts()
    with pytest.raises(ValidationFailed, match="日期|date"):
        letter(branch.id, issued_on=local_today() - timedelta(days=3))  # before the file was opened
    with pytest.raises(ValidationFailed):
        letter(branch.id, measures=" ")
    assert row_counts() == before and db.session.get(Branch, branch.id).number is None
    letter(branch.id)
    before = row_counts()
    with pytest.raises(ValidationFailed) as refused:
        assign(branch.id, stability_phone="打电话找他")
    assert refused.value.field == "stability_phone"
    with pytest.raises(ValidationFailed):
        assign(branch.id, resolution_name="")
    assert row_counts() == before
    assert "stability" not in db.session.get(Branch, branch.id).info


def test_letter_numbers_run_on_within_the_year(make_case):
    first = opened(make_case("handle"))
    second_case = make_case("handle")
    second = start_branch(user("dispatch"), second_case, "risk_control", assessment(second_case, party=1))
    letter(second.id)
    year = local_today().year
    assert first.number == f"风险管控提示函（{year}）第1号"
    assert db.session.get(Branch, second.id).number == f"风险管控提示函（{year}）第2号"


def test_ledger_rows_and_states(make_case):
    case_id = make_case("handle")
    running = opened(case_id, risk_level="medium")          # waiting for its first follow-up
    resolved = start_branch(user("dispatch"), case_id, "risk_control", assessment(case_id, party=1))
    letter(resolved.id)
    assign(resolved.id)
    at = next_round(resolved.id, INTERVAL["high"])  # before the other file's first follow-up
    with frozen_at(at):
        followup(resolved.id, state="resolved", method="phone")
        do_branch_step(resolved.id, "risk_close", "director", {"confirmed": "yes", "opinion": "已化解"})
    rows = risk_ledger(user("director"))
    assert [r.branch_id for r in rows] == [running.id, resolved.id]  # running first
    row = rows[0]
    assert (row.person, row.case_id, row.township_id, row.level, row.basis) == \
        ("张三", case_id, unit_id("T01"), "medium", "petition_ended")
    assert row.case_code == db.session.get(Case, case_id).code and row.township
    assert row.letter_number == running.number and row.stability["name"] == "王建国"
    assert row.resolution["phone"] == "0571-8888123"
    assert row.state == "open" and not row.overdue and row.step is None and row.rounds == 0
    assert row.next_due == running.next_timer_due_at  # when the first follow-up falls due
    done = rows[1]
    assert done.state == "resolved" and done.outcome == "resolved" and done.next_due is None
    with frozen_at(at):
        assert done.last_followup_on == local_today().isoformat()
    assert done.last_state == "resolved" and done.rounds == 1 and done.person == "李四"
    assert [r.branch_id for r in risk_ledger(user("director"), state="open")] == [running.id]
    assert [r.branch_id for r in risk_ledger(user("director"), state="resolved")] == [resolved.id]
    assert risk_ledger(user("director"), state="overdue") == []
    assert risk_ledger(user("director"), township_id=unit_id("T02")) == []
    assert risk_ledger(user("renshe")) == []  # a department with no step of the case sees none of it
    assert len(risk_ledger(user("director"), township_id=unit_id("T01"))) == 2
    # the follow-up falls due, then its 3 working days pass
    at = next_round(running.id, INTERVAL["medium"])
    [row] = risk_ledger(user("director"), state="open")
    item = open_branch_item(running.id, "risk_followup")
    assert row.step == item.name and row.next_due == item.due_at and row.state == "open"
    with frozen_at(item.due_at + timedelta(hours=1)):
        [row] = risk_ledger(user("director"), state="overdue")
        assert row.branch_id == running.id and row.overdue and row.state == "overdue"
        # overdue files are open too
        assert [r.branch_id for r in risk_ledger(user("director"), state="open")] == [running.id]
        followup(running.id, state="abnormal")
        [row] = risk_ledger(user("director"), state="open")
        assert not row.overdue and row.last_state == "abnormal" and row.rounds == 1
    with pytest.raises(ValidationFailed):
        risk_ledger(user("director"), state="lost")


def test_forms_offer_the_departments_and_leave_the_level_alone(make_case):
    from flask import current_app
    from werkzeug.datastructures import MultiDict

    from portal.forms.aid import FORMS
    case_id = make_case("handle")
    case = db.session.get(Case, case_id)
    with current_app.test_request_context():
        form = FORMS["risk_assess"](formdata=None)
        form.prepare(case, None)
        units = dict(form.sector_unit.choices)
        assert unit_id("D06") in units and unit_id("T01") not in units
        assert [name for _, name in form.party_id.choices][0].startswith("张三")
        form = FORMS["risk_followup"](formdata=MultiDict({"contacted_on": local_today().isoformat(),
                                                          "method": "phone", "state": "stable", "new_level": "",
                                                          "notes": "电话联系，情绪平稳"}))
        assert form.validate(), form.errors
        assert form.data["new_level"] == ""
        form = FORMS["risk_close"](formdata=MultiDict({"opinion": "同意"}))
        assert not form.validate() and "confirmed" in form.errors  # the decision must be answered


def _letter_text(client, case_id: int, pages: int) -> str:
    """The printed 风险管控提示函, one letter per file, as its text without spaces."""
    from tests.pdfcheck import cjk_font_embedded, pdf_pages, pdf_text
    pdf = client.get(f"/cases/{case_id}/documents/risk_notice").data
    assert cjk_font_embedded(pdf) and pdf_pages(pdf) == pages
    return "".join(pdf_text(pdf, raw=True).split())


def test_the_notice_is_filled_from_the_risk_file(make_case, login_as):
    case_id = make_case("handle")
    branch = opened(case_id, risk_level="medium")
    at = next_round(branch.id, INTERVAL["medium"])
    with frozen_at(at):
        followup(branch.id, state="abnormal", new_level="high", notes="近日在村里串联他人，准备集体上访")
    at = next_round(branch.id, INTERVAL["high"])
    with frozen_at(at):
        followup(branch.id, state="resolved", notes="经协调，双方重新确认边界，本人书面表示息诉罢访")
        do_branch_step(branch.id, "risk_close", "director", {"confirmed": "yes",
                                                             "opinion": "经核实，矛盾已化解，同意销号"})
        text = _letter_text(login_as("sifa"), case_id, pages=1)
    number = db.session.get(Branch, branch.id).number
    for expected in (number, f"{unit_name('T01')}党委、人民政府，{unit_name('D06')}：", "存在高风险",
                     "的申请人张三，其信访事项已经复核", "11010519491231002X", "√信访终结（复核后或依法终结）",
                     "文书编号：县信复核〔2024〕12号",
                     "要求重新划定宅基地边界并赔偿损失5万元", "高（研判时为中，跟进中调高）",
                     "多次扬言到省进京上访，近一月三次到县政府门前聚集", "管控措施：落实一对一稳控，每周走访一次",
                     "王建国（乡党委副书记）电话：13800001111", "刘芳（乡司法所所长）电话：0571-8888123",
                     "已上门见面，明确包保干部，建立联系台账", "属地乡镇每7日跟踪回访一次", "已跟踪回访2次",
                     "本人书面表示息诉罢访", "经确认矛盾已化解，解除风险管控：经核实，矛盾已化解，同意销号"):
        assert expected in text, expected
    assert "本文书缺少以下内容" not in text  # the township named its persons: the letter lacks nothing


def test_the_notice_of_a_running_file_says_what_it_still_lacks(make_case, login_as):
    case_id = make_case("handle")
    assessed = start_branch(user("dispatch"), case_id, "risk_control", assessment(case_id))
    lettered = start_branch(user("dispatch"), case_id, "risk_control", assessment(
        case_id, party=1, basis="final_judgment", basis_document="（2025）示民终字第7号", risk_level="low"))
    letter(lettered.id)
    number = db.session.get(Branch, lettered.id).number
    text = _letter_text(login_as("sifa"), case_id, pages=2)
    assert "本文书缺少以下内容" in text
    assert "尚未受理的申请" not in text  # the assessed file has no letter number yet: it is named by its person
    assert "张三：提示函文号及管控措施、稳控责任人、化解责任人及已采取措施（尚在办理：" in text
    assert f"{number}：稳控责任人、化解责任人及已采取措施（尚在办理：" in text
    page = text.split(f"{number}案件编号")[-1]
    assert "的被申请人李四，其纠纷已经人民法院终审判决" in page and "√诉讼终审" in page
    assert "文书编号：（2025）示民终字第7号" in page and "属地乡镇每30日跟踪回访一次" in page
    assert "稳控责任人、化解责任人及已采取措施由属地乡镇落实后在门户中记录" in page
    assert db.session.get(Branch, assessed.id).number is None
