"""The branch pages: start an application from the case page, follow it, the ledger's totals, and the
settings administrators keep for the assistance processes."""
from __future__ import annotations

from decimal import Decimal

from portal.extensions import db
from portal.models import Branch, BranchKind
from portal.services.branches import start_branch
from portal.services.settings import get_setting
from tests.branches.test_relief import application, notice_and_wait
from tests.conftest import do_branch_step, row_counts, user


def _form(case_id: int, **overrides) -> dict:
    data = application(case_id, **overrides)
    form = {k: ("y" if v is True else str(v)) for k, v in data.items() if v not in (False, None) and k != "materials"}
    return form, data["materials"]


def test_relief_is_started_from_the_case_page_and_refusals_keep_the_form(login_as, make_case):
    case_id = make_case("handle")
    client = login_as("window")
    page = client.get(f"/cases/{case_id}").get_data(as_text=True)
    assert f"/branches/start/{case_id}/relief" in page and "id=\"branch-list\"" in page
    assert f"/branches/start/{case_id}/risk_control" not in page  # the window does not assess risks
    form, _materials = _form(case_id)
    before = row_counts()
    resp = client.post(f"/branches/start/{case_id}/relief", data={**form, "materials": ["identity"]})
    text = resp.get_data(as_text=True)
    assert resp.status_code == 400 and "申请书" in text and "家庭收入证明" in text and "房屋失火" in text
    assert row_counts() == before
    resp = client.post(f"/branches/start/{case_id}/relief",
                       data={**form, "materials": ["application", "identity", "income", "cause"]})
    assert resp.status_code == 302 and "/branches/" in resp.headers["Location"]
    branch = db.session.query(Branch).filter_by(case_id=case_id).one()
    page = client.get(resp.headers["Location"]).get_data(as_text=True)
    assert branch.number in page and "入户调查" in page and "张三" in page
    assert branch.number in client.get(f"/cases/{case_id}").get_data(as_text=True)


def test_the_ledger_totals_are_the_sum_of_the_payments(login_as, make_case):
    from datetime import timedelta

    from portal.clock import frozen_at, utcnow
    from portal.services.deadlines import local_today, utc_to_local
    case_id = make_case("handle")
    paid = []
    for amount, hardship in ((Decimal("800.50"), "fire"), (Decimal("600"), "illness")):
        materials = ["application", "identity", "income", "cause", "health"]
        branch = start_branch(user("xiang"), case_id, "relief",
                              application(case_id, amount_requested=amount, hardship=hardship, materials=materials))
        do_branch_step(branch.id, "relief_investigate", "xiang", {
            "visited_on": local_today(), "investigators": "王芳", "findings": "属实", "hardship_confirmed": "yes",
            "democratic_review": False, "proposed_amount": amount})
        notice_and_wait(branch.id)
        do_branch_step(branch.id, "relief_opinion", "xiang", {"objections": False, "agrees": "yes", "amount": amount,
                                                              "reason": "同意"})
        do_branch_step(branch.id, "relief_pay", "xiang", {"amount": amount, "paid_on": local_today(),
                                                          "method": "bank"})
        paid.append(amount)
    from tests.services.test_referrals import service
    with frozen_at(utcnow() + timedelta(hours=3)):  # served an hour and two after the case was registered
        later = utc_to_local(utcnow()).replace(second=0, microsecond=0)
        service(case_id, served_at=later - timedelta(hours=2), persons=3)
        service(case_id, served_at=later - timedelta(hours=1), persons=2)
    client = login_as("director")
    page = client.get("/branches/?kind=relief").get_data(as_text=True)
    assert f"{sum(paid):,.2f}" in page  # 1,400.50
    totals = page.split('id="service-totals"')[1].split("</p>")[0]
    assert "<strong>2</strong>" in totals and "<strong>5</strong>" in totals  # 2 services, 5 person-times
    assert "1,400.50" in client.get(f"/cases/{case_id}").get_data(as_text=True)
    assert client.get("/branches/?kind=legal_aid").status_code == 200


def test_settings_page_changes_a_value_and_refuses_a_bad_one(login_as, ctx):
    client = login_as("admin")
    assert "judicial_aid_monthly_wage" in client.get("/settings/values/").get_data(as_text=True)
    old = get_setting("judicial_aid_monthly_wage")
    try:
        resp = client.post("/settings/values/", data={"key": "judicial_aid_monthly_wage", "value": "abc"})
        assert resp.status_code == 400 and "abc" in resp.get_data(as_text=True)
        assert get_setting("judicial_aid_monthly_wage") == old
        resp = client.post("/settings/values/", data={"key": "judicial_aid_monthly_wage", "value": "8123.40"})
        assert resp.status_code == 302
        assert get_setting("judicial_aid_monthly_wage") == Decimal("8123.40")
        resp = client.post("/settings/values/", data={"key": "relief_office", "value": "NO-SUCH-UNIT"})
        assert resp.status_code == 400
    finally:
        from portal.services.settings import set_setting
        set_setting(None, "judicial_aid_monthly_wage", str(old))
    assert BranchKind.RELIEF.pays_money
