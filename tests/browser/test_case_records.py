"""The handling unit on the case page in a real browser: it records an investigation, attaches a scan,
and sees both listed; the scan opens as an image."""
from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from tests import papers
from tests.browser.test_chain import login

SHOTS = Path(__file__).resolve().parents[2] / "test-artifacts"


def test_the_unit_records_an_investigation_and_attaches_a_scan_on_the_case_page(page, make_case):
    SHOTS.mkdir(exist_ok=True)
    case_id = make_case(until="handle")
    login(page, "sifa")
    page.goto(page.live_url + f"/cases/{case_id}")

    page.click("#record-investigation")
    page.fill("#held_at", datetime.now(ZoneInfo("Asia/Shanghai")).strftime("%Y-%m-%dT%H:%M"))
    page.fill("#place", "文庙社区二组刘五家中")
    page.fill("#investigators", "王明、赵丽")
    page.fill("#recorder", "赵丽")
    page.fill("#subject", "刘五")
    page.fill("#subject_info", "男，62岁，二组村民小组长，双方邻居")
    page.fill("#matter", "宅基地老界址的位置")
    page.fill("#content", "问：你知道两家老界址在哪里吗？\n答：在老核桃树往东一米，组里的人都晓得。\n"
                          "问：李四新砌的围墙越过老界址没有？\n答：越过了，大概三十公分。")
    page.click("#submit-action")
    page.wait_for_selector("#investigation-list")
    assert page.locator(".alert-success").count() == 1
    listed = page.inner_text("#investigation-list")
    assert "宅基地老界址的位置" in listed and "刘五" in listed and "往东一米" in listed

    page.select_option("select#category", value="identity", force=True)
    page.fill("#title", "申请人身份证复印件")
    page.set_input_files("#file", files=[{"name": "身份证.png", "mimeType": "image/png", "buffer": papers.png()}])
    page.click("#upload-attachment")
    page.wait_for_selector("#attachment-list")
    assert page.locator(".alert-success").count() == 1
    listed = page.inner_text("#attachment-list")
    assert "申请人身份证复印件" in listed and "身份证.png" in listed
    page.screenshot(path=str(SHOTS / "case_records.png"), full_page=True)

    link = page.locator("#attachment-list a", has_text="申请人身份证复印件").get_attribute("href")
    shown = page.request.get(page.live_url + link)
    assert shown.status == 200 and shown.headers["content-type"] == "image/png" and shown.body() == papers.png()

    page.set_input_files("#file", files=[{"name": "假图片.png", "mimeType": "image/png", "buffer": b"not an image"}])
    page.fill("#title", "假的")
    page.click("#upload-attachment")
    page.wait_for_selector(".alert-danger")
    assert page.locator("#upload-form .field-error").count() == 1
    assert "假的" not in page.inner_text("#attachment-list")
