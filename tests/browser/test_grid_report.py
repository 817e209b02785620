"""流动调 on a phone: a grid member reports an incident from the scene, with the phone's position and a
photo, and it waits in the township's worklist."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.models import Case, CaseAttachment, GridReport
from tests import papers
from tests.browser.test_chain import SHOTS, login

PHONE = {"width": 390, "height": 844}
SCENE = {"latitude": 30.657421, "longitude": 104.065735, "accuracy": 20}


@pytest.fixture
def phone(browser, live_url):
    """A phone-sized page that may know where it is; nothing may load from outside the portal."""
    context = browser.new_context(viewport=PHONE, locale="zh-CN", geolocation=SCENE, is_mobile=True, has_touch=True)
    context.grant_permissions(["geolocation"], origin=live_url)
    outside = []
    context.on("request", lambda r: outside.append(r.url) if not r.url.startswith(live_url)
               and not r.url.startswith("data:") else None)
    page = context.new_page()
    page.live_url = live_url
    yield page
    context.close()
    assert outside == [], f"pages loaded something from outside: {outside}"


def _fits_the_phone(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


def test_a_grid_member_reports_from_a_phone_and_the_township_finds_it_in_its_worklist(phone, ctx):
    SHOTS.mkdir(exist_ok=True)
    page = phone
    login(page, "grid")
    page.goto(page.live_url + "/grid/report")
    page.wait_for_selector("#location-status.located")
    assert "30.657421" in page.inner_text("#location-status")
    assert page.locator("#on-the-spot").is_hidden()
    page.select_option("#dispute_type_id", label="噪音")
    page.fill("#facts", "楼上住户夜间跳绳，楼下住户多次敲门理论，双方在楼道争吵。")
    page.fill("#place_detail", "解放路12号3单元楼道")
    page.fill("#parties-0-name", "王芳")
    page.fill("#parties-0-phone", "13800138001")
    page.fill("#parties-1-name", "赵强")
    page.click("#add-party")
    page.fill("#parties-2-name", "赵强之妻")
    page.select_option("#parties-2-kind", "respondent")
    page.set_input_files("#photos", files=[{"name": "IMG_0001.jpg", "mimeType": "image/jpeg",
                                            "buffer": papers.jpeg(size=(640, 480))}])
    assert "IMG_0001.jpg" in page.inner_text("#photo-list")
    assert _fits_the_phone(page)
    page.screenshot(path=str(SHOTS / "grid_report_phone.png"), full_page=True)
    page.click("#submit-report")
    page.wait_for_url("**/grid/reports")
    message = page.inner_text(".alert-success")
    code = db.session.scalar(select(Case.code))
    assert f"案件 {code} 已登记，已交城关镇窗口受理" in message
    assert page.locator(f".grid-report[data-code='{code}'] .case-status").inner_text() == "待接件"
    assert _fits_the_phone(page)
    page.screenshot(path=str(SHOTS / "grid_reports_phone.png"), full_page=True)

    report = db.session.scalar(select(GridReport))
    assert (report.latitude, report.longitude, report.accuracy_m) == (30.657421, 104.065735, 20.0)
    assert [p.name for p in report.case.parties] == ["王芳", "赵强", "赵强之妻"]
    assert db.session.scalar(select(CaseAttachment.content_type)) == "image/jpeg"
    db.session.rollback()

    page.set_viewport_size({"width": 1300, "height": 900})             # 城关镇's staff, at their desk
    login(page, "xiang")
    row = page.locator("#worklist tbody tr", has_text=code)
    assert "接件" in row.inner_text() and "王芳与赵强噪音纠纷" in row.inner_text()
    page.screenshot(path=str(SHOTS / "grid_report_township_worklist.png"), full_page=True)


def _large_png() -> bytes:
    """A photo-sized PNG of noise (about 11 MB): the page redraws it as a smaller JPEG before sending."""
    import io
    import os

    from PIL import Image
    out = io.BytesIO()
    Image.frombytes("RGB", (2400, 1600), os.urandom(2400 * 1600 * 3)).save(out, "PNG", compress_level=1)
    return out.getvalue()


def test_resolved_on_the_spot_from_a_phone_closes_the_case(phone, ctx):
    SHOTS.mkdir(exist_ok=True)
    page = phone
    login(page, "grid")
    page.goto(page.live_url + "/grid/report")
    page.select_option("#dispute_type_id", label="噪音")
    page.fill("#facts", "楼上住户夜间跳绳，双方争吵。")
    page.fill("#place_detail", "解放路12号3单元")
    page.fill("#parties-0-name", "王芳")
    page.fill("#parties-0-phone", "13800138001")
    page.fill("#parties-1-name", "赵强")
    photo = _large_png()
    page.set_input_files("#photos", files=[{"name": "IMG_0003.png", "mimeType": "image/png", "buffer": photo}])
    page.check("input[name=outcome][value=on_the_spot]")
    assert page.locator("#on-the-spot").is_visible() and page.inner_text("#submit-report") == "就地化解并结案"
    page.fill("#applicant_statement", "夜里跳绳影响休息")
    page.fill("#respondent_statement", "以后晚上十点后不跳")
    page.fill("#how_resolved", "网格员到场说明相邻关系，双方当面商定")
    page.fill("#terms", "楼上住户每晚十点后不再跳绳")
    page.check("input[name=fulfilment][value=n_a]")
    page.check("#both_agreed")
    page.select_option("#applicant_satisfaction", "satisfied")
    page.select_option("#respondent_satisfaction", "basically")
    assert _fits_the_phone(page)
    page.screenshot(path=str(SHOTS / "grid_report_on_the_spot_phone.png"), full_page=True)
    page.click("#submit-report")
    page.wait_for_url("**/grid/reports")
    code = db.session.scalar(select(Case.code))
    assert f"案件 {code} 已登记，并以就地化解结案" in page.inner_text(".alert-success")
    assert page.locator(f".grid-report[data-code='{code}'] .case-status").inner_text() == "已结案"
    kept = db.session.scalar(select(CaseAttachment))
    assert (kept.content_type, kept.filename) == ("image/jpeg", "IMG_0003.jpg") and kept.size < len(photo) / 4
    assert db.session.scalar(select(GridReport.latitude)) == 30.657421
    db.session.rollback()
