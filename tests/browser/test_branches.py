"""Temporary relief in a real browser: the window starts it from the case page (a missing material is
refused and named), the township finds the investigation in its worklist and completes it, and the
director sees the file in the ledger."""
from __future__ import annotations

from datetime import date
from pathlib import Path

from tests.browser.test_chain import login

SHOTS = Path(__file__).resolve().parents[2] / "test-artifacts"


def test_relief_from_the_case_page_to_the_township_and_the_ledger(page, make_case):
    SHOTS.mkdir(exist_ok=True)
    case_id = make_case(until="handle")
    login(page, "window")
    page.goto(page.live_url + f"/cases/{case_id}")
    page.click("#start-relief")
    page.select_option("select#party_id", index=0, force=True)
    page.select_option("select#hardship", value="fire", force=True)
    page.fill("#situation", "房屋失火，家中财物全部烧毁，一家四口暂住亲戚家")
    page.fill("#household_size", "4")
    page.fill("#amount_requested", "3000")
    for material in ("application", "identity", "income"):  # the proof of the cause is missing
        page.check(f"#materials input[value='{material}']")
    page.click("#submit-action")
    page.wait_for_selector(".alert-danger")
    assert "困难原因证明" in page.inner_text(".alert-danger")
    assert page.input_value("#situation").startswith("房屋失火")  # the form keeps what was typed
    page.check("#materials input[value='cause']")
    page.click("#submit-action")
    page.wait_for_selector("#branch-summary")
    number = page.inner_text("h3")
    assert "临时救助" in number and "LSJZ" in number
    assert "入户调查" in page.inner_text("#branch-history")
    page.screenshot(path=str(SHOTS / "relief_started.png"), full_page=True)

    login(page, "xiang")
    page.goto(page.live_url + "/worklist/")
    row = page.locator("tr", has_text="入户调查")
    assert row.count() == 1
    row.locator("a[href*='/cases/task/']").click()
    page.wait_for_selector("#task-form")
    assert "临时救助" in page.inner_text("#branch-summary")
    page.fill("#visited_on", date.today().isoformat())
    page.fill("#investigators", "乡民政办王芳")
    page.fill("#findings", "房屋主体烧毁，家庭无其他收入")
    page.check("input[name='hardship_confirmed'][value='yes']")
    page.fill("#proposed_amount", "3000")
    page.screenshot(path=str(SHOTS / "relief_investigation.png"), full_page=True)
    page.click("#submit-task")
    page.wait_for_selector(".alert-success")
    assert "张榜公示" in page.inner_text("#branch-list")
    page.screenshot(path=str(SHOTS / "case_branches.png"), full_page=True)

    login(page, "director")
    page.goto(page.live_url + "/branches/?kind=relief")
    listed = page.inner_text("#branch-list")
    assert "LSJZ" in listed and "张榜公示" in listed
    page.screenshot(path=str(SHOTS / "assistance_ledger.png"), full_page=True)
