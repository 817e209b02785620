"""A department clerk at work in a real browser: claim from the worklist, fill the department's own
form, and the case moves on; a village mediator cannot open another village's case."""
from __future__ import annotations

from pathlib import Path

from portal.extensions import db
from portal.models import Case, OrgUnit
from portal.services.cases import complete_task
from tests.browser.test_chain import choose, fill_written_agreement, login
from tests.conftest import do_step, open_item, record_session, unit_id, user

SHOTS = Path(__file__).resolve().parents[2] / "test-artifacts"


def test_labour_clerk_claims_fills_the_labour_form_and_the_case_moves_on(page, make_case):
    SHOTS.mkdir(exist_ok=True)
    case_id = make_case(until="dispatch", title="刘某等8人追索劳动报酬纠纷")
    do_step(case_id, "dispatch", assigned_unit_id=unit_id("D06"))
    complete_task(user("renshe"), open_item(case_id, "accept").id, {"accepted": "yes"})
    record_session(case_id, "renshe")
    code = db.session.get(Case, case_id).code

    login(page, "renshe")
    row = page.locator("#worklist tbody tr", has_text=code)
    row.get_by_role("button", name="领取").click()
    page.wait_for_selector(f"#worklist tbody tr:has-text('{code}') button[name=release]")  # now the clerk's
    page.locator("#worklist tbody tr", has_text=code).get_by_role("link", name="办理").click()
    fill_written_agreement(page, "组织用人单位与劳动者调解，约定分两期支付。")
    page.click("#submit-task")                                 # the labour fields are missing: kept, refused
    page.wait_for_selector(".alert-danger")
    assert "未保存" in page.inner_text("body")
    page.fill("#employer_name", "示范县宏达建筑有限公司")
    page.fill("#wages_owed", "86000")
    page.fill("#months_owed", "3")
    page.fill("#workers_involved", "8")
    choose(page, "labour_route", "劳动人事争议仲裁")
    page.screenshot(path=str(SHOTS / "labour_form.png"), full_page=True)
    page.click("#submit-task")
    page.wait_for_selector("#case-status")
    assert page.inner_text("#case-status") == "待反馈"
    assert "示范县宏达建筑有限公司" in page.inner_text("body")
    db.session.expire_all()
    details = db.session.get(Case, case_id).dept_details
    assert "86000" in details and "宏达" in details


def test_a_village_mediator_cannot_open_another_villages_case(page, make_case):
    other = db.session.query(OrgUnit).filter_by(code="T01V03").one()
    theirs = make_case(until="dispatch", village_id=other.id, title="北门社区噪音纠纷")
    login(page, "cun")
    response = page.goto(page.live_url + f"/cases/{theirs}")
    assert response.status == 403 and "北门社区噪音纠纷" not in page.inner_text("body")
    page.goto(page.live_url + "/worklist/unit")
    assert "北门社区噪音纠纷" not in page.inner_text("body")
