"""Settings read from the environment: the login cookie over HTTPS only when the deployment says so."""
from __future__ import annotations

import pytest

from portal import config
from tests.conftest import PASSWORD


@pytest.mark.parametrize(("value", "secure"), [(None, False), ("0", False), ("1", True)])
def test_cookie_secure_follows_the_setting(monkeypatch, value, secure):
    if value is None:
        monkeypatch.delenv("PORTAL_COOKIE_SECURE", raising=False)
    else:
        monkeypatch.setenv("PORTAL_COOKIE_SECURE", value)
    settings = config.load()
    assert settings["SESSION_COOKIE_SECURE"] is secure
    assert settings["REMEMBER_COOKIE_SECURE"] is secure


def test_a_login_cookie_is_marked_secure_when_https_is_required(app):
    app.config["SESSION_COOKIE_SECURE"] = True
    try:
        resp = app.test_client().post("/login/", data={"username": "window", "password": PASSWORD})
        cookies = [h for h in resp.headers.getlist("Set-Cookie") if h.startswith("session=")]
        assert resp.status_code == 302 and cookies
        assert all("; Secure" in c for c in cookies)
    finally:
        app.config["SESSION_COOKIE_SECURE"] = False
    resp = app.test_client().post("/login/", data={"username": "window", "password": PASSWORD})
    assert not any("; Secure" in c for c in resp.headers.getlist("Set-Cookie"))
