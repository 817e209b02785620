"""临时救助 through every path: county approval, the township's own small amounts, emergency payment
first, refusals with reasons, a missed deadline escalated, and the application's refusals."""
from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from portal.clock import frozen_at, utcnow
from portal.extensions import db
from portal.models import AuditEvent, Branch, BranchOutcome, BranchStatus, WorkItem, WorkItemStatus
from portal.services.branches import fire_due_branch_timers, start_branch
from portal.services.deadlines import local_today
from portal.services.errors import ValidationFailed
from tests.conftest import do_branch_step, open_branch_item, row_counts, unit_id, user

ALL_MATERIALS = ["application", "identity", "income", "cause"]


def application(case_id: int, **overrides) -> dict:
    from portal.models import Case
    party = db.session.get(Case, case_id).parties[0]
    return {"party_id": party.id, "hardship": "fire", "situation": "房屋失火，家中财物全部烧毁，一家四口暂住亲戚家",
            "household_size": 4, "monthly_income": Decimal("1200"), "residence": "二组12号",
            "amount_requested": Decimal("5000"), "by_proxy": False, "emergency": False, "emergency_reason": "",
            "materials": ALL_MATERIALS, **overrides}


def investigate(branch_id: int, **overrides):
    return do_branch_step(branch_id, "relief_investigate", "xiang", {
        "visited_on": local_today(), "investigators": "乡民政办王芳、村委会刘强",
        "findings": "房屋主体烧毁，家庭无其他收入来源", "hardship_confirmed": "yes", "democratic_review": False,
        "proposed_amount": Decimal("5000"), **overrides})


def notice_and_wait(branch_id: int):
    do_branch_step(branch_id, "relief_notice", "xiang", {"posted_on": local_today(), "place": "村务公开栏"})
    branch = db.session.get(Branch, branch_id)
    assert branch.current_step is None and branch.next_timer_due_at is not None  # the notice is up
    assert branch.next_timer_due_at - utcnow() > timedelta(days=6)
    # 7 calendar days from the posting date, later when they end on a rest day: fire just after the due moment
    with frozen_at(branch.next_timer_due_at + timedelta(minutes=1)):
        assert fire_due_branch_timers() >= 1
    return db.session.get(Branch, branch_id)


def opinion(branch_id: int, **overrides):
    return do_branch_step(branch_id, "relief_opinion", "xiang", {
        "objections": False, "objection_notes": "", "materials_completed": False, "agrees": "yes",
        "amount": Decimal("5000"), "reason": "情况属实，公示无异议，同意救助", **overrides})


def pay(branch_id: int, username="xiang", **overrides):
    return do_branch_step(branch_id, "relief_pay", username, {
        "amount": Decimal("5000"), "paid_on": local_today(), "method": "bank", "note": "", **overrides})


def test_relief_with_county_approval(make_case):
    case_id = make_case("handle")
    branch = start_branch(user("window"), case_id, "relief", application(case_id))
    assert branch.number.startswith(f"LSJZ{utcnow().year}-") and branch.status == BranchStatus.OPEN
    item = open_branch_item(branch.id, "relief_investigate")
    assert item.org_unit_id == unit_id("T01") and item.due_at is not None
    assert branch.due_at is not None and (branch.due_at - branch.started_at).days >= 15  # 15 working days
    investigate(branch.id, democratic_review=True)
    do_branch_step(branch.id, "relief_review", "xiang", {"held_on": local_today(), "participants": 9,
                                                         "agreed": "yes", "opinion": "一致同意"})
    branch = notice_and_wait(branch.id)
    assert open_branch_item(branch.id, "relief_opinion")
    opinion(branch.id)
    approve = open_branch_item(branch.id, "relief_approve")
    assert approve.org_unit_id == unit_id("D13")
    do_branch_step(branch.id, "relief_approve", "minzheng", {"approved": "yes", "amount": Decimal("4500"),
                                                            "reason": "经核对，同意救助4500元"})
    pay(branch.id, amount=Decimal("4500"))
    branch = db.session.get(Branch, branch.id)
    assert branch.status == BranchStatus.CLOSED and branch.outcome == BranchOutcome.GRANTED
    assert branch.amount_granted == Decimal("4500") and branch.amount_paid == Decimal("4500")
    steps = [a.action for a in db.session.query(AuditEvent).filter_by(case_id=case_id)]
    assert steps.count("branch.step") == 7 and "branch.start" in steps and "branch.timer" in steps


def test_township_approves_a_small_amount_alone(make_case):
    case_id = make_case("handle")
    branch = start_branch(user("xiang"), case_id, "relief", application(case_id, amount_requested=Decimal("800")))
    investigate(branch.id, proposed_amount=Decimal("800"))
    notice_and_wait(branch.id)
    opinion(branch.id, amount=Decimal("800"))
    pay(branch.id, amount=Decimal("800"))  # no county approval: straight to payment
    branch = db.session.get(Branch, branch.id)
    assert branch.outcome == BranchOutcome.GRANTED and branch.amount_paid == Decimal("800")
    assert not db.session.query(WorkItem).filter_by(branch_id=branch.id, form_key="relief_approve").count()


def test_emergency_pays_first_and_the_file_follows(make_case):
    case_id = make_case("handle")
    form = application(case_id, emergency=True, emergency_reason="一家四口无处居住，急需生活费用",
                       materials=["identity"])
    branch = start_branch(user("window"), case_id, "relief", form)
    do_branch_step(branch.id, "relief_emergency_pay", "xiang",
                   {"amount": Decimal("2000"), "paid_on": local_today(), "method": "cash"})
    assert db.session.get(Branch, branch.id).amount_paid == Decimal("2000")
    investigate(branch.id)
    notice_and_wait(branch.id)
    with pytest.raises(ValidationFailed, match="申请书"):  # the file must be complete before the opinion
        opinion(branch.id)
    opinion(branch.id, materials_completed=True)
    do_branch_step(branch.id, "relief_approve", "minzheng", {"approved": "yes", "amount": Decimal("5000"),
                                                            "reason": "同意"})
    with pytest.raises(ValidationFailed, match="2000"):  # 2000 paid first + 5000 > 5000 granted
        pay(branch.id)
    pay(branch.id, amount=Decimal("3000"))
    branch = db.session.get(Branch, branch.id)
    assert branch.amount_paid == Decimal("5000") and branch.outcome == BranchOutcome.GRANTED


def test_refusals_need_reasons(make_case):
    case_id = make_case("handle")
    branch = start_branch(user("window"), case_id, "relief", application(case_id))
    investigate(branch.id, hardship_confirmed="no", proposed_amount=None)
    # hardship not confirmed: no notice, straight to the township's opinion
    before = row_counts()
    with pytest.raises(ValidationFailed):
        opinion(branch.id, agrees="no", reason="  ")
    assert row_counts() == before
    opinion(branch.id, agrees="no", reason="经入户调查，家庭收入较高，不符合临时救助条件")
    branch = db.session.get(Branch, branch.id)
    assert branch.status == BranchStatus.CLOSED and branch.outcome == BranchOutcome.REFUSED
    assert "不符合" in branch.decision_reason and branch.amount_paid is None


def test_county_refuses(make_case):
    case_id = make_case("handle")
    branch = start_branch(user("window"), case_id, "relief", application(case_id))
    investigate(branch.id)
    notice_and_wait(branch.id)
    opinion(branch.id)
    do_branch_step(branch.id, "relief_approve", "minzheng",
                   {"approved": "no", "amount": None, "reason": "经济状况核对显示家庭有存款20万元"})
    branch = db.session.get(Branch, branch.id)
    assert branch.outcome == BranchOutcome.REFUSED and branch.status == BranchStatus.CLOSED


def test_missed_deadline_is_escalated_to_the_director(make_case):
    case_id = make_case("handle")
    branch = start_branch(user("window"), case_id, "relief", application(case_id))
    item = open_branch_item(branch.id, "relief_investigate")
    with frozen_at(item.due_at + timedelta(minutes=1)):
        fire_due_branch_timers()
    supervise = open_branch_item(branch.id, "aid_supervise")
    assert supervise.lane == "中心主任"
    assert open_branch_item(branch.id, "relief_investigate").id == item.id  # the step itself stays open
    do_branch_step(branch.id, "aid_supervise", "director", {"note": "已电话督促乡民政办两日内完成入户调查"})
    assert db.session.get(WorkItem, supervise.id).status == WorkItemStatus.DONE


def test_application_refusals_save_nothing(make_case):
    case_id = make_case("handle")
    before = row_counts()
    with pytest.raises(ValidationFailed) as missing:
        start_branch(user("window"), case_id, "relief", application(case_id, hardship="illness",
                                                                     materials=["identity"]))
    for item in ("申请书", "家庭收入证明", "困难原因证明", "健康状况证明"):
        assert item in str(missing.value)  # every missing material, listed at once
    assert row_counts() == before
    start_branch(user("window"), case_id, "relief", application(case_id))
    before = row_counts()
    with pytest.raises(ValidationFailed, match="一年|once a year"):
        start_branch(user("window"), case_id, "relief", application(case_id))
    assert row_counts() == before
    # another matter for the same person is a new application
    start_branch(user("window"), case_id, "relief", application(case_id, hardship="illness",
                                                                 materials=ALL_MATERIALS + ["health"]))


def test_only_the_window_or_township_starts_relief(make_case):
    from portal.services.errors import TaskNotYoursError
    case_id = make_case("handle")
    with pytest.raises(TaskNotYoursError):
        start_branch(user("verify"), case_id, "relief", application(case_id))


def test_the_approval_form_is_filled_from_the_relief_file(make_case, login_as):
    from tests.pdfcheck import cjk_font_embedded, pdf_text
    case_id = make_case("handle")
    branch = start_branch(user("window"), case_id, "relief", application(case_id))
    investigate(branch.id, democratic_review=True)
    do_branch_step(branch.id, "relief_review", "xiang", {"held_on": local_today(), "participants": 9,
                                                         "agreed": "yes", "opinion": "与会代表一致同意救助"})
    notice_and_wait(branch.id)
    opinion(branch.id)
    do_branch_step(branch.id, "relief_approve", "minzheng", {"approved": "yes", "amount": Decimal("4500"),
                                                            "reason": "经核对，同意救助4500元"})
    pay(branch.id, amount=Decimal("4500"))
    number = db.session.get(Branch, branch.id).number
    pdf = login_as("sifa").get(f"/cases/{case_id}/documents/relief_form").data
    assert cjk_font_embedded(pdf)
    text = "".join(pdf_text(pdf, raw=True).split())
    for expected in (number, "房屋失火", "4人", "房屋主体烧毁", "乡民政办王芳", "参加代表9人", "与会代表一致同意救助",
                     "村务公开栏", "无异议", "情况属实，公示无异议，同意救助", "批准。经核对，同意救助4500元",
                     "已发放4,500.00元", "申请金额5,000.00元"):
        assert expected in text, expected
    assert "本文书缺少以下内容" not in text  # the finished file lacks nothing


def test_the_handler_ticks_the_need_and_the_application_waits_at_the_window(make_case):
    from tests.conftest import do_step, open_item
    case_id = make_case("handle")
    do_step(case_id, "handle", assistance_needs=["relief", "legal_aid"])
    branches = db.session.query(Branch).filter_by(case_id=case_id).order_by(Branch.id).all()
    assert [b.kind.value for b in branches] == ["relief", "legal_aid"]
    assert all(b.party_id is None and b.number is None for b in branches)  # nothing applied for yet
    apply = open_branch_item(branches[0].id, "relief_apply")
    assert apply.lane == "受理窗口" and open_branch_item(branches[1].id, "legal_aid_apply")
    assert open_item(case_id).form_key == "feedback"  # the chain goes on beside them
    do_branch_step(branches[0].id, "relief_apply", "window", application(case_id))
    branch = db.session.get(Branch, branches[0].id)
    assert branch.number and branch.person_name == "张三"
    assert open_branch_item(branch.id, "relief_investigate").org_unit_id == unit_id("T01")
    steps = [a.detail for a in db.session.query(AuditEvent).filter_by(case_id=case_id, action="branch.start")]
    assert len(steps) == 2 and all('"by_step": true' in d for d in steps)


@pytest.mark.parametrize("amount,county", [(Decimal("1000.00"), False), (Decimal("1000.01"), True)])
def test_the_townships_limit_at_its_edge(make_case, amount, county):
    case_id = make_case("handle")
    branch = start_branch(user("xiang"), case_id, "relief", application(case_id, amount_requested=amount))
    investigate(branch.id, proposed_amount=amount)
    notice_and_wait(branch.id)
    opinion(branch.id, amount=amount)
    open_keys = {w.form_key for w in
                 db.session.query(WorkItem).filter_by(branch_id=branch.id, status=WorkItemStatus.OPEN)}
    assert open_keys == ({"relief_approve"} if county else {"relief_pay"})


def test_emergency_payment_at_its_limit(make_case):
    case_id = make_case("handle")
    form = application(case_id, emergency=True, emergency_reason="无处居住", materials=["identity"])
    branch = start_branch(user("window"), case_id, "relief", form)
    before = row_counts()
    with pytest.raises(ValidationFailed, match="3000"):  # the reserve fund pays at most 3000.00 first
        do_branch_step(branch.id, "relief_emergency_pay", "xiang",
                       {"amount": Decimal("3000.01"), "paid_on": local_today(), "method": "cash"})
    assert row_counts() == before
    do_branch_step(branch.id, "relief_emergency_pay", "xiang",
                   {"amount": Decimal("3000.00"), "paid_on": local_today(), "method": "cash"})
    assert db.session.get(Branch, branch.id).amount_paid == Decimal("3000.00")
