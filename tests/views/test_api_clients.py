"""The administrators' pages for the REST API: a system's token is made, shown once and kept only as a digest;
revoking it shuts the system out; the Swagger page is served by the portal itself."""
from __future__ import annotations

import hashlib
import json
import re

from sqlalchemy import func, select

from portal.extensions import db
from portal.models import ApiClient, AuditEvent, PortalUser
from tests.conftest import unit_id


def _form(**overrides) -> dict:
    data = {"name": "12345政务服务便民热线", "role_name": "intake_clerk", "org_unit_id": unit_id("CENTER"),
            "township_id": "", "scopes": ["cases:create", "cases:read"]}
    data.update(overrides)
    return data


def _count() -> int:
    return db.session.scalar(select(func.count()).select_from(ApiClient))


def test_an_admin_makes_a_token_that_is_shown_once_and_kept_as_a_digest(ctx, login_as, app):
    client = login_as("admin")
    resp = client.post("/apiclients/add", data=_form(name="热线-页面测试", township_id=unit_id("T02")))
    page = resp.get_data(as_text=True)
    assert resp.status_code == 200 and resp.headers["Cache-Control"] == "no-store"
    token = re.search(r'<pre id="api-token"[^>]*>(mtk_[\w-]+)</pre>', page).group(1)
    made = db.session.scalar(select(ApiClient).where(ApiClient.name == "热线-页面测试"))
    assert made.token_hash == hashlib.sha256(token.encode()).hexdigest() and token not in made.token_hash
    assert made.township.code == "T02" and made.scopes == "cases:create cases:read"
    account = db.session.get(PortalUser, made.user_id)
    assert account.active is False and [r.name for r in account.roles] == ["intake_clerk"]
    assert account.org_unit.code == "CENTER"
    audit = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "api_client.create"))
    assert audit.username == "admin" and token not in audit.detail and json.loads(audit.detail)["township"] == "T02"
    # the list shows who it is and the token's first characters, never the token
    listing = client.get("/apiclients/").get_data(as_text=True)
    assert "热线-页面测试" in listing and made.token_prefix in listing and token not in listing
    assert "东城街道" in listing and "查询案件及其变化" in listing
    # it works, until the admin revokes it
    api = app.test_client()
    assert api.get("/api/v1/cases", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    resp = client.post(f"/apiclients/{made.id}/revoke")
    assert resp.status_code == 302
    assert api.get("/api/v1/cases", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    db.session.refresh(made)
    assert made.active is False and made.revoked_at is not None
    assert "已吊销" in client.get("/apiclients/").get_data(as_text=True)


def test_a_bad_client_form_is_refused_and_nothing_is_saved(ctx, login_as):
    client = login_as("admin")
    client.post("/apiclients/add", data=_form(name="重名-测试"))
    before = _count()
    for data, message in ((_form(name="重名-测试"), "已有同名的接入系统。"),
                          (_form(name="无操作-测试", scopes=[]), "该字段是必填字段。"),
                          (_form(name="乡镇-测试", township_id=unit_id("D03")), "不是有效的选择"),
                          (_form(name="角色-测试", role_name="Admin"), "不是有效的选择")):
        resp = client.post("/apiclients/add", data=data)
        assert resp.status_code == 400 and message in resp.get_data(as_text=True), data
        assert "mtk_" not in resp.get_data(as_text=True)
    assert _count() == before


def test_the_swagger_page_is_served_by_the_portal(login_as):
    page = login_as("admin").get("/apiclients/docs").get_data(as_text=True)
    assert "vendor/swagger-ui/swagger-ui-bundle.js" in page and 'data-spec-url="/api/v1/openapi.json"' in page
    assert "validatorUrl: null" in page and "https://" not in page.split("<body")[1]
