"""An administrator lets a system use the API, then tries a call with its token in the Swagger page, which the
portal serves itself (no request leaves it)."""
from __future__ import annotations

import re
from pathlib import Path

from tests.browser.test_chain import login
from tests.conftest import unit_id

SHOTS = Path(__file__).resolve().parents[2] / "test-artifacts"


def test_admin_creates_a_token_and_tries_it_in_swagger(page, app):
    SHOTS.mkdir(exist_ok=True)
    with app.app_context():
        center = unit_id("CENTER")
    login(page, "admin")
    page.goto(page.live_url + "/apiclients/add")
    page.fill("#name", "12345热线-浏览器测试")
    page.select_option("select#role_name", "intake_clerk", force=True)
    page.select_option("select#org_unit_id", str(center), force=True)
    page.check("input[name=scopes][value='cases:read']")
    page.click("#create-client")
    token = page.inner_text("#api-token").strip()
    assert re.fullmatch(r"mtk_[\w-]{40,}", token)
    page.screenshot(path=str(SHOTS / "api_token.png"), full_page=True)
    page.goto(page.live_url + "/apiclients/")
    assert "12345热线-浏览器测试" in page.inner_text("#client-list") and token not in page.content()
    page.screenshot(path=str(SHOTS / "api_clients.png"), full_page=True)

    page.goto(page.live_url + "/apiclients/docs")
    page.wait_for_selector("#operations-default-changedCases")
    page.click("button.authorize")
    page.fill(".auth-container input", token)
    page.click(".auth-btn-wrapper button.authorize")
    page.click(".auth-btn-wrapper button.btn-done")
    page.click("#operations-default-changedCases .opblock-summary")
    page.click("#operations-default-changedCases button.try-out__btn")
    page.click("#operations-default-changedCases button.execute")
    status = page.wait_for_selector("#operations-default-changedCases .live-responses-table tbody .response-col_status")
    assert status.inner_text().strip() == "200"
    assert '"items"' in page.inner_text("#operations-default-changedCases .live-responses-table")
    page.screenshot(path=str(SHOTS / "api_swagger.png"), full_page=True)
