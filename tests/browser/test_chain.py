"""A new user's path in a real browser: register a case, then each role works its step until closed."""
from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from tests.browser.qrread import read_qr
from tests.conftest import PASSWORD

SHOTS = Path(__file__).resolve().parents[2] / "test-artifacts"


def login(page, username):
    page.goto(page.live_url + "/logout/")
    page.goto(page.live_url + "/login/")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url("**/worklist/")


def choose(page, field, label):
    page.select_option(f"select#{field}", label=label, force=True)


def work_open_step(page, username, step_name, fill):
    login(page, username)
    row = page.locator("#worklist tbody tr", has_text=step_name).filter(has_text=page.case_code)
    row.get_by_role("link", name="办理").click()
    fill(page)
    page.click("#submit-task")
    if page.locator("#case-status").count() == 0:
        page.screenshot(path=str(SHOTS / f"failed_{step_name}.png"), full_page=True)
    page.wait_for_selector("#case-status")
    assert page.locator(".alert-success").count() == 1


def fill_written_agreement(page, notes):
    """The common part of a handling form: a written agreement signed by both, effective today."""
    choose(page, "result", "调解成功（书面协议）")
    page.fill("#process_notes", notes)
    page.fill("#agreement_date", page.evaluate("new Date().toISOString().slice(0, 10)"))
    page.check("#applicant_signed")
    page.check("#respondent_signed")
    page.fill("#agreement_facts", "双方因宅基地边界发生争执，申请人新砌围墙越界，负主要责任")
    page.fill("#agreement_terms", "申请人于十日内拆除越界围墙，边界按原老界址确定")
    page.fill("#performance_terms", "申请人自行拆除，十日内履行完毕")


def record_session(page):
    """On the case page the handling unit records a mediation session (county wall-clock time)."""
    page.click("#record-session")
    page.fill("#held_at", datetime.now(ZoneInfo("Asia/Shanghai")).strftime("%Y-%m-%dT%H:%M"))
    choose(page, "kind", "人民调解")
    page.fill("#place", "中心第二调解室")
    page.fill("#mediators", "王明")
    page.fill("#applicant_statement", "要求赵家改正排水方向。")
    page.fill("#respondent_statement", "同意改建排水沟。")
    choose(page, "result", "达成协议")
    page.screenshot(path=str(SHOTS / "session.png"), full_page=True)
    page.click("#submit-action")
    page.wait_for_selector("#sessions")
    assert "同意改建排水沟" in page.inner_text("#sessions")


def test_a_case_from_the_window_to_closed(page):
    SHOTS.mkdir(exist_ok=True)
    login(page, "window")
    page.click("text=案件")
    page.click("text=登记案件")
    page.fill("#applicants-0-name", "王小明")
    page.fill("#applicants-0-id_number", "11010519491231002X")
    page.fill("#applicants-0-phone", "13800138000")
    page.fill("#respondents-0-name", "赵大成")
    page.fill("#title", "王小明与赵大成排水纠纷")
    choose(page, "dispute_type_id", "排水")
    choose(page, "township_id", "城关镇")
    page.fill("#facts", "赵家改建房屋后雨水排入王家院内。")
    page.fill("#requests", "请求赵家改正排水方向。")
    page.screenshot(path=str(SHOTS / "register.png"), full_page=True)
    page.click("#submit-intake")
    page.wait_for_selector("#case-code")
    page.case_code = page.inner_text("#case-code")
    assert page.case_code.startswith("MT")
    assert read_qr(page.locator("#case-qr svg").screenshot()) == page.case_code   # 一案一码: a phone reads it
    assert page.inner_text("#case-status") == "研判中"

    def triage(p):
        choose(p, "complexity", "一般（3日内办结）")
        choose(p, "risk_level", "低")
        choose(p, "resolution_mode", "中心调解")
        p.fill("#opinion", "邻里排水纠纷，事实清楚。")

    def dispatch(p):
        choose(p, "assigned_unit_id", "县司法局")
        p.fill("#instructions", "请在中心调解室组织调解。")

    def accept(p):
        p.check("input[name=accepted][value=yes]")

    def handle(p):
        fill_written_agreement(p, "中心调解，双方签订协议。")

    def feedback(p):
        choose(p, "fulfilment", "已履行")
        p.fill("#summary", "赵家已改正排水方向。")

    def followup(p):
        choose(p, "applicant_satisfaction", "满意")
        choose(p, "respondent_satisfaction", "基本满意")
        choose(p, "fulfilment", "已履行")
        p.fill("#notes", "电话回访，双方均满意。")

    def verify(p):
        p.check("input[name=passed][value=yes]")

    def close(p):
        choose(p, "closing_type", "调解成功")
        p.fill("#summary", "案结事了。")

    for username, step, fill in [("dispatch", "研判", triage), ("dispatch", "分流交办", dispatch),
                                 ("sifa", "接件", accept)]:
        work_open_step(page, username, step, fill)
    record_session(page)  # the unit records the sitting the agreement rests on
    for username, step, fill in [("sifa", "办理", handle), ("sifa", "反馈", feedback),
                                 ("verify", "回访", followup), ("verify", "核查", verify), ("dispatch", "结案", close)]:
        work_open_step(page, username, step, fill)
    assert page.inner_text("#case-status") == "已结案"
    assert page.locator("#history tbody tr, #history tr.step-done").count() >= 7
    page.screenshot(path=str(SHOTS / "closed_case.png"), full_page=True)
