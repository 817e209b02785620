"""国家司法救助 through every path: granted and paid, refused by the review group, granted although the
case organ did not support it; the amount rules (the cap from the settings, the actual loss) at each
step that names an amount; once per case per person; the materials; the deadlines."""
from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from portal.clock import frozen_at, utcnow
from portal.extensions import db
from portal.models import AuditEvent, Branch, BranchOutcome, BranchStatus, Case, WorkItem, WorkItemStatus
from portal.services.aid.judicial_aid import MATERIALS
from portal.services.branches import fire_due_branch_timers, start_branch
from portal.services.deadlines import legal_due_at, local_today
from portal.services.errors import TaskNotYoursError, ValidationFailed
from portal.services.queries import center_id
from portal.services.settings import get_setting, set_setting
from portal.workdays import DayUnit
from tests.conftest import do_branch_step, open_branch_item, row_counts, unit_id, user

ALL_MATERIALS = ["application", "identity", "hardship", "compensation", "loss", "judgment"]
CAP = Decimal("270000.00")  # 36 months × 7500.00, the defaults


def application(case_id: int, party: int = 0, **overrides) -> dict:
    person = db.session.get(Case, case_id).parties[party]
    return {"party_id": person.id, "situation": "victim_injured", "petition": False,
            "case_organ_unit": unit_id("D04"), "original_case_number": "（2024）示刑初字第38号",
            "facts": "申请人被故意伤害致重伤二级，被告人无赔偿能力，家庭生活困难",
            "loss_amount": Decimal("80000"), "compensation_received": Decimal("20000"),
            "amount_requested": Decimal("50000"), "bank_account": "", "materials": ALL_MATERIALS, **overrides}


def opinion(branch_id: int, **overrides):
    return do_branch_step(branch_id, "judicial_aid_opinion", "fayuan", {
        "supports": "yes", "amount": Decimal("50000"), "reason": "经核实，被告人无赔偿能力，申请人生活困难，建议救助",
        **overrides})


def review(branch_id: int, **overrides):
    return do_branch_step(branch_id, "judicial_aid_review", "zhengfa", {
        "granted": "yes", "amount": Decimal("45000"), "decided_on": local_today(),
        "reason": "符合国家司法救助条件，决定救助45000元", **overrides})


def funds(branch_id: int):
    return do_branch_step(branch_id, "judicial_aid_funds", "zhengfa",
                          {"arrived_on": local_today(), "voucher": "示财拨〔2024〕12号"})


def notify(branch_id: int, **overrides):
    return do_branch_step(branch_id, "judicial_aid_notify", "fayuan", {
        "notified_on": local_today(), "notify_method": "phone", "amount": Decimal("45000"),
        "paid_on": local_today(), "note": "", **overrides})


def refused(match: str, action, *args, **kwargs) -> ValidationFailed:
    """``action`` is refused with a message matching ``match`` and changes no row."""
    before = row_counts()
    with pytest.raises(ValidationFailed, match=match) as refusal:
        action(*args, **kwargs)
    db.session.rollback()
    assert row_counts() == before
    return refusal.value


def test_judicial_aid_granted_and_paid(make_case):
    case_id = make_case("handle")
    branch = start_branch(user("window"), case_id, "judicial_aid", application(case_id))
    assert branch.number == f"（{utcnow().year}）司救申字第1号" and branch.status == BranchStatus.OPEN
    assert branch.matter == "victim_injured" and branch.actual_loss == Decimal("60000.00")
    assert branch.amount_requested == Decimal("50000") and branch.person_key == "11010519491231002X"
    item = open_branch_item(branch.id, "judicial_aid_opinion")
    assert item.org_unit_id == unit_id("D04") and item.lane == "办案机关"
    assert item.due_at == legal_due_at(item.created_at, 10, DayUnit.WORKING)
    with pytest.raises(TaskNotYoursError):  # the justice bureau did not handle the original case
        do_branch_step(branch.id, "judicial_aid_opinion", "sifa", {"supports": "yes", "amount": Decimal("1"),
                                                                   "reason": "同意"})
    db.session.rollback()
    opinion(branch.id)
    item = open_branch_item(branch.id, "judicial_aid_review")
    assert item.org_unit_id == unit_id("D01") and item.lane == "司法救助审核小组"
    assert item.due_at == legal_due_at(item.created_at, 10, DayUnit.WORKING)
    review(branch.id)
    assert open_branch_item(branch.id, "judicial_aid_funds").org_unit_id == unit_id("D01")
    funds(branch.id)
    assert open_branch_item(branch.id, "judicial_aid_notify").org_unit_id == unit_id("D04")
    refused("45000", notify, branch.id, amount=Decimal("45000.01"))  # more than granted
    notify(branch.id)
    branch = db.session.get(Branch, branch.id)
    assert branch.status == BranchStatus.CLOSED and branch.outcome == BranchOutcome.GRANTED
    assert branch.amount_granted == Decimal("45000") and branch.amount_paid == Decimal("45000")
    assert branch.paid_at is not None and branch.decision_reason.startswith("符合")
    info = branch.info
    assert info["organ_supports"] is True and info["organ_amount"] == "50000"
    assert info["original_case_number"] == "（2024）示刑初字第38号" and info["notify_method"] == "phone"
    steps = [a.action for a in db.session.query(AuditEvent).filter_by(case_id=case_id)]
    assert steps.count("branch.step") == 5 and steps.count("branch.start") == 1
    # granted: the same person gets no second judicial aid in this case
    refused("once per case|只救助一次|一次", start_branch, user("window"), case_id, "judicial_aid",
            application(case_id))


def test_review_group_refuses_with_reasons(make_case):
    case_id = make_case("handle")
    branch = start_branch(user("window"), case_id, "judicial_aid", application(case_id))
    opinion(branch.id)
    assert refused(None, review, branch.id, granted="no", amount=None, reason="  ").field == "reason"
    assert refused(None, review, branch.id, granted="yes", amount=None).field == "amount"  # granting names it
    review(branch.id, granted="no", amount=None, reason="申请人已通过民事诉讼获得足额赔偿，不符合救助条件")
    branch = db.session.get(Branch, branch.id)
    assert branch.status == BranchStatus.CLOSED and branch.outcome == BranchOutcome.REFUSED
    assert "不符合" in branch.decision_reason and branch.amount_granted is None and branch.amount_paid is None
    assert not db.session.query(WorkItem).filter_by(branch_id=branch.id, form_key="judicial_aid_funds").count()
    # refused: the person may apply again (with new facts)
    again = start_branch(user("window"), case_id, "judicial_aid", application(case_id))
    assert again.number == f"（{utcnow().year}）司救申字第2号"


def test_group_decides_although_the_case_organ_does_not_support(make_case):
    case_id = make_case("handle")
    branch = start_branch(user("window"), case_id, "judicial_aid", application(case_id))
    assert refused(None, opinion, branch.id, supports="yes", amount=None).field == "amount"  # supporting names it
    assert refused(None, opinion, branch.id, supports="no", amount=None, reason="").field == "reason"
    opinion(branch.id, supports="no", amount=None, reason="申请人尚可通过执行程序获得部分赔偿")
    assert db.session.get(Branch, branch.id).info["organ_supports"] is False
    review(branch.id, amount=Decimal("30000"), reason="执行终本，确无可供执行财产，决定救助30000元")
    funds(branch.id)
    notify(branch.id, amount=Decimal("30000"))
    branch = db.session.get(Branch, branch.id)
    assert branch.outcome == BranchOutcome.GRANTED and branch.amount_paid == Decimal("30000")


def test_amount_edges_at_application(make_case):
    case_id = make_case("handle")
    big_loss = dict(loss_amount=Decimal("400000"), compensation_received=None)
    refused("270000.00", start_branch, user("window"), case_id, "judicial_aid",
            application(case_id, amount_requested=CAP + Decimal("0.01"), **big_loss))
    refused("60000.00", start_branch, user("window"), case_id, "judicial_aid",  # 80000 loss − 20000 received
            application(case_id, amount_requested=Decimal("60000.01")))
    refused("20000", start_branch, user("window"), case_id, "judicial_aid",  # nothing left of the loss
            application(case_id, loss_amount=Decimal("20000")))
    branch = start_branch(user("window"), case_id, "judicial_aid",
                          application(case_id, amount_requested=CAP, **big_loss))
    assert branch.amount_requested == CAP and branch.actual_loss == Decimal("400000")
    other = start_branch(user("window"), case_id, "judicial_aid",  # exactly the actual loss
                         application(case_id, party=1, amount_requested=Decimal("60000")))
    assert other.actual_loss == other.amount_requested == Decimal("60000")


def test_amount_edges_at_opinion_and_decision(make_case):
    case_id = make_case("handle")
    above_cap = start_branch(user("window"), case_id, "judicial_aid",
                             application(case_id, loss_amount=Decimal("300000"), compensation_received=None))
    refused("270000.00", opinion, above_cap.id, amount=CAP + Decimal("0.01"))
    opinion(above_cap.id, amount=CAP)
    refused("270000.00", review, above_cap.id, amount=CAP + Decimal("0.01"))
    review(above_cap.id, amount=CAP)
    assert db.session.get(Branch, above_cap.id).amount_granted == CAP
    small = start_branch(user("window"), case_id, "judicial_aid", application(case_id, party=1))
    refused("60000.00", opinion, small.id, amount=Decimal("60000.01"))
    opinion(small.id, amount=Decimal("60000"))
    refused("60000.00", review, small.id, amount=Decimal("60000.01"))
    review(small.id, amount=Decimal("60000"))
    assert db.session.get(Branch, small.id).amount_granted == Decimal("60000")


def test_the_cap_follows_the_settings(make_case):
    case_id = make_case("handle")
    before = str(get_setting("judicial_aid_monthly_wage"))
    set_setting(None, "judicial_aid_monthly_wage", "8000.00")
    try:
        refused("288000.00", start_branch, user("window"), case_id, "judicial_aid",
                application(case_id, loss_amount=Decimal("400000"), amount_requested=Decimal("288000.01")))
        branch = start_branch(user("window"), case_id, "judicial_aid",
                              application(case_id, loss_amount=Decimal("400000"),
                                          amount_requested=Decimal("288000.00")))
        assert branch.amount_requested == Decimal("288000.00") > CAP
    finally:
        set_setting(None, "judicial_aid_monthly_wage", before)
    assert get_setting("judicial_aid_monthly_wage") == Decimal(before)


def test_once_per_case_per_person(make_case):
    case_id = make_case("handle")
    first = start_branch(user("window"), case_id, "judicial_aid", application(case_id))
    error = refused("once per case|一次", start_branch, user("window"), case_id, "judicial_aid",
                    application(case_id, situation="other"))
    assert first.number in str(error)
    # the other party of the case, and the same person in another case, may apply
    start_branch(user("window"), case_id, "judicial_aid", application(case_id, party=1))
    other_case = make_case("handle")
    start_branch(user("window"), other_case, "judicial_aid", application(other_case))
    with pytest.raises(TaskNotYoursError):  # applications are taken at the window
        start_branch(user("xiang"), other_case, "judicial_aid", application(other_case, party=1))


def test_missing_materials_are_listed_at_once(make_case):
    case_id = make_case("handle")
    error = refused(None, start_branch, user("window"), case_id, "judicial_aid",
                    application(case_id, petition=True, materials=["identity"]))
    for key in ("application", "hardship", "compensation", "loss", "judgment", "pledge"):
        assert str(MATERIALS[key]) in str(error)  # every missing material, petition pledge included
    assert str(MATERIALS["identity"]) not in str(error)
    # a petitioner hands in the pledge; an applicant who is not one does not need it
    start_branch(user("window"), case_id, "judicial_aid",
                 application(case_id, petition=True, materials=ALL_MATERIALS + ["pledge"]))
    branch = start_branch(user("window"), case_id, "judicial_aid", application(case_id, party=1))
    assert "pledge" not in branch.info["materials"]


def test_missed_deadline_is_escalated_to_the_director(make_case):
    case_id = make_case("handle")
    branch = start_branch(user("window"), case_id, "judicial_aid", application(case_id))
    item = open_branch_item(branch.id, "judicial_aid_opinion")
    with frozen_at(item.due_at - timedelta(minutes=1)):
        fire_due_branch_timers()
    assert not db.session.query(WorkItem).filter_by(branch_id=branch.id, form_key="aid_supervise").count()
    with frozen_at(item.due_at + timedelta(minutes=1)):
        assert fire_due_branch_timers() == 1
    supervise = open_branch_item(branch.id, "aid_supervise")
    assert supervise.lane == "中心主任" and supervise.org_unit_id == center_id()
    assert open_branch_item(branch.id, "judicial_aid_opinion").id == item.id  # the step itself stays open
    do_branch_step(branch.id, "aid_supervise", "director", {"note": "已电话督促县法院三日内提出意见"})
    assert db.session.get(WorkItem, supervise.id).status == WorkItemStatus.DONE


def test_notice_is_due_two_working_days_after_the_funds_arrive(make_case):
    case_id = make_case("handle")
    later = utcnow() + timedelta(days=10)
    friday = (later + timedelta(days=(4 - later.weekday()) % 7)).replace(hour=2, minute=0, second=0, microsecond=0)
    with frozen_at(friday):
        branch = start_branch(user("window"), case_id, "judicial_aid", application(case_id))
        opinion(branch.id)
        review(branch.id)
        funds(branch.id)
        item = open_branch_item(branch.id, "judicial_aid_notify")
    assert item.due_at == legal_due_at(friday, 2, DayUnit.WORKING)
    assert item.due_at - friday > timedelta(days=2)  # the weekend is not counted
    with frozen_at(item.due_at + timedelta(minutes=1)):
        fire_due_branch_timers()
    assert open_branch_item(branch.id, "aid_supervise").lane == "中心主任"


def test_the_application_form_offers_the_departments_and_the_parties(app, make_case):
    from portal.forms.aid.judicial_aid import JudicialAidApplyForm
    case_id = make_case("handle")
    with app.test_request_context():
        form = JudicialAidApplyForm(formdata=None, meta={"csrf": False})
        form.prepare(db.session.get(Case, case_id), None)
    organs = dict(form.case_organ_unit.choices)
    assert unit_id("D04") in organs and unit_id("D05") in organs and unit_id("T01") not in organs
    assert [p for p, _ in form.party_id.choices] == [p.id for p in db.session.get(Case, case_id).parties]


def _form_text(client, case_id: int, pages: int) -> str:
    """The printed 国家司法救助申请登记表, one page per application, as its text without spaces."""
    from tests.pdfcheck import cjk_font_embedded, pdf_pages, pdf_text
    pdf = client.get(f"/cases/{case_id}/documents/judicial_aid_form").data
    assert cjk_font_embedded(pdf) and pdf_pages(pdf) == pages
    return "".join(pdf_text(pdf, raw=True).split())


def test_the_registration_form_is_filled_from_the_judicial_aid_file(make_case, login_as):
    from portal.models import OrgUnit
    case_id = make_case("handle")
    branch = start_branch(user("window"), case_id, "judicial_aid", application(
        case_id, petition=True, materials=ALL_MATERIALS + ["pledge"],
        bank_account="示范县农商银行 6217 0000 1111 2222"))
    opinion(branch.id)
    review(branch.id)
    funds(branch.id)
    notify(branch.id)
    number = db.session.get(Branch, branch.id).number
    court = db.session.get(OrgUnit, unit_id("D04")).name
    text = _form_text(login_as("sifa"), case_id, pages=1)
    for expected in (number, "姓名：张三", "11010519491231002X", "√涉诉信访人（已承诺息诉息访）", f"办案机关：{court}",
                     "案号：（2024）示刑初字第38号", "√刑事被害人受到犯罪侵害致重伤或者严重残疾",
                     "申请人被故意伤害致重伤二级", "损失金额80,000.00元", "20,000.00元", "实际损失60,000.00元",
                     "请求救助金额50,000.00元", "示范县农商银行6217000011112222", "√息诉息访承诺书",
                     "√支持救助", "建议救助金额：50,000.00元", "经核实，被告人无赔偿能力", f"{court}（盖章）",
                     "√给予司法救助", "决定救助金额：45,000.00元符合国家司法救助条件，决定救助45000元",
                     "拨付凭证：示财拨〔2024〕12号", "以电话方式通知申请人领取", "已发放45,000.00元"):
        assert expected in text, expected
    assert "√不支持救助" not in text and "√不予司法救助" not in text
    assert "本文书缺少以下内容" not in text  # the finished file lacks nothing


def test_the_form_of_a_running_file_says_what_it_still_lacks(make_case, login_as):
    case_id = make_case("handle")
    refused = start_branch(user("window"), case_id, "judicial_aid", application(case_id))
    opinion(refused.id)
    review(refused.id, granted="no", amount=None, reason="申请人已通过民事诉讼获得足额赔偿，不符合救助条件")
    running = start_branch(user("window"), case_id, "judicial_aid",
                           application(case_id, party=1, compensation_received=None))
    opinion(running.id, supports="no", amount=None, reason="申请人尚可通过执行程序获得部分赔偿")
    text = _form_text(login_as("sifa"), case_id, pages=2)
    refused_number, number = (db.session.get(Branch, b.id).number for b in (refused, running))
    lacks = f"{number}：审核小组决定、救助金拨付、通知领取及发放（尚在办理："
    assert f"本文书缺少以下内容，需补充后方可归档：{lacks}" in text
    assert f"{refused_number}：" not in text.split("申请人姓名")[0]  # the refused file is finished
    assert "√不予司法救助" in text and "申请人已通过民事诉讼获得足额赔偿，不符合救助条件" in text
    page = text.split(f"编号：{number}")[-1]
    assert "姓名：李四" in page and "已获赔偿、救助金额无" in page and "实际损失80,000.00元" in page
    assert "√不支持救助" in page
    assert "申请人尚可通过执行程序获得部分赔偿" in page and "已发放" not in page
