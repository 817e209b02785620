"""A citizen on a phone (390×844), without an account: files a dispute with a photo, gets the case code and its
QR code, follows the case, opens a document the window served electronically (the receipt is recorded), and
rates the case once it is closed."""
from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.models import Case, CitizenRating, DeliveryStatus, DocumentDelivery, PartyKind
from portal.services.delivery import serve_document
from tests import papers
from tests.browser.qrread import read_qr
from tests.conftest import CHAIN, do_step, user
from tests.online import APPLICANT_ID, clean_online  # noqa: F401

SHOTS = Path(__file__).resolve().parents[2] / "test-artifacts"


@pytest.fixture
def phone(browser, live_url):
    context = browser.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True,
                                  has_touch=True, locale="zh-CN")
    outside = []
    context.on("request", lambda r: outside.append(r.url) if not r.url.startswith(live_url)
               and not r.url.startswith("data:") else None)
    page = context.new_page()
    page.live_url = live_url
    yield page
    context.close()
    assert outside == [], f"pages loaded something from outside: {outside}"


def fits_the_screen(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def file_the_dispute(page) -> str:
    page.goto(page.live_url + "/public/")
    page.click("#go-file")
    page.fill("#applicant_name", "王小丽")
    page.fill("#applicant_id_number", APPLICANT_ID)
    page.fill("#applicant_phone", "13712345678")
    page.fill("#applicant_address", "广东省东莞市长安镇")
    page.fill("#respondent_name", "刘大成")
    page.fill("#respondent_phone", "13900139000")
    page.select_option("#dispute_type_id", label="宅基地")
    page.select_option("#township_id", label="城关镇")
    page.select_option("#village_id", label="文庙社区")
    page.fill("#place_detail", "二组老屋")
    page.fill("#facts", "刘大成在我家老屋旁新砌围墙，占了我家宅基地约三十公分。")
    page.fill("#requests", "请求拆除越界围墙，按老界址确定边界。")
    page.set_input_files("#files", files=[{"name": "围墙.jpg", "mimeType": "image/jpeg", "buffer": papers.jpeg()}])
    assert fits_the_screen(page)
    page.click("#submit-filing")                                     # no consent ticked yet
    page.wait_for_selector(".alert-danger")
    assert "须同时同意线上办理和电子送达" in page.inner_text("main")
    assert page.input_value("#facts").startswith("刘大成在我家老屋旁")       # kept as typed
    page.set_input_files("#files", files=[{"name": "围墙.jpg", "mimeType": "image/jpeg", "buffer": papers.jpeg()}])
    page.check("#consent_online")
    page.check("#consent_e_service")
    page.screenshot(path=str(SHOTS / "public_file.png"), full_page=True)
    page.click("#submit-filing")
    page.wait_for_selector("#filed")
    assert page.locator("#case-qr svg").count() == 1 and fits_the_screen(page)
    page.screenshot(path=str(SHOTS / "public_filed.png"), full_page=True)
    code = page.inner_text("#case-code").strip()
    scanned = read_qr(page.locator("#case-qr svg").screenshot())        # what a phone reads off the screen
    assert scanned.endswith(f"/public/track?code={code}") and scanned.startswith("http")
    return code


def test_a_citizen_files_follows_receives_and_rates_on_a_phone(phone, ctx):
    SHOTS.mkdir(exist_ok=True)
    page = phone
    code = file_the_dispute(page)
    case = db.session.scalar(select(Case).where(Case.code == code))
    assert case.source_channel.value == "online" and case.village.name == "文庙社区"

    page.click("#go-track")                                          # the QR code's link: the code is filled in
    assert page.input_value("#code") == code
    page.fill("#phone_tail", "0000")
    page.click("#submit-track")
    page.wait_for_selector("#track-error")
    page.fill("#code", code)
    page.fill("#phone_tail", "5678")
    page.click("#submit-track")
    page.wait_for_selector("#case-summary")
    assert "研判" in page.inner_text("#next-steps") and "一窗受理" in page.inner_text("#steps-done")
    assert "13900139000" not in page.content() and "刘大成" not in page.content()
    assert fits_the_screen(page)
    page.screenshot(path=str(SHOTS / "public_track.png"), full_page=True)

    applicant = case.parties_of(PartyKind.APPLICANT)[0]
    delivery = serve_document(user("window"), case.id, "rights_notice", applicant.id)   # the window serves it
    page.reload()
    page.click("#deliveries a.delivery-link")
    page.wait_for_selector("#delivery")
    assert "人民调解当事人权利义务告知书" in page.inner_text("#delivery") and page.inner_text("#received-at").strip()
    pdf = page.request.get(page.live_url + page.get_attribute("#open-pdf", "href"))
    assert pdf.status == 200 and pdf.headers["content-type"] == "application/pdf" and pdf.body()[:5] == b"%PDF-"
    page.screenshot(path=str(SHOTS / "public_delivery.png"), full_page=True)
    db.session.expire_all()
    delivery = db.session.get(DocumentDelivery, delivery.id)
    assert delivery.status == DeliveryStatus.RECEIVED and delivery.received_from == "127.0.0.1"
    assert delivery.opens == 2

    for step in CHAIN:                                              # the center works the case to closed
        do_step(case.id, step)
    page.goto(page.live_url + "/public/case")
    assert "已办结" in page.inner_text("#case-status") or "结案" in page.inner_text("#steps-done")
    page.click("label[for=star-4]")
    page.fill("#comment", "调解员很耐心，没让我跑回老家。")
    page.click("#submit-rating")
    page.wait_for_selector("#rated")
    assert page.inner_text("#rated").strip() == "★★★★☆" and page.locator("#rating-form").count() == 0
    assert fits_the_screen(page)
    page.screenshot(path=str(SHOTS / "public_rated.png"), full_page=True)
    ratings = list(db.session.scalars(select(CitizenRating).where(CitizenRating.case_id == case.id)))
    assert [(r.stars, r.comment) for r in ratings] == [(4, "调解员很耐心，没让我跑回老家。")]
