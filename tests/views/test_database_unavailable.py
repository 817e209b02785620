"""A database that cannot be opened: pages answer 503 with the Chinese message and Retry-After (HTML,
and JSON under /api/v1), without reading the user or the menu; a fault of the portal stays a 500."""
from __future__ import annotations

import json

import pytest

from portal import create_app

DB_DOWN = "数据库暂时无法连接，请稍后重试。"


def _portal(app, url: str):
    return create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "unavailable", "TESTING": True,
                       "WTF_CSRF_ENABLED": False,
                       "UPLOAD_FOLDER": app.config["UPLOAD_FOLDER"],
                       "PORTAL_PRINT_FOLDER": app.config["PORTAL_PRINT_FOLDER"]})


@pytest.fixture(scope="module")
def unreachable(app, tmp_path_factory):
    """A portal whose SQLite "file" is a directory: every connection fails (unable to open database file)."""
    return _portal(app, f"sqlite:///{tmp_path_factory.mktemp('not-a-file')}").test_client()


@pytest.mark.parametrize("method, path", [("GET", "/worklist/"), ("GET", "/cases/1"), ("POST", "/cases/task/1"),
                                          ("GET", "/public/file")])
def test_pages_say_the_database_cannot_be_reached(unreachable, method, path):
    resp = unreachable.open(path, method=method, data={} if method == "POST" else None)
    page = resp.get_data(as_text=True)
    assert resp.status_code == 503 and resp.headers["Retry-After"] == "30"
    assert resp.mimetype == "text/html" and DB_DOWN in page and "Traceback" not in page
    assert ("可能没有保存" in page) == (method == "POST")   # a POST may not have been saved
    assert ('href="' + path in page) == (method == "GET")   # a page is simply asked again


def test_the_api_answers_in_json(unreachable):
    resp = unreachable.get("/api/v1/cases", headers={"Authorization": "Bearer whatever"})
    assert resp.status_code == 503 and resp.headers["Retry-After"] == "30" and resp.mimetype == "application/json"
    assert json.loads(resp.get_data(as_text=True)) == {
        "error": {"code": "database_unavailable", "message": DB_DOWN}}


def test_a_missing_table_is_a_fault_not_an_outage(app, tmp_path):
    """SQLite's OperationalError also says "no such table": that is an unmigrated database, not one to retry."""
    client = _portal(app, f"sqlite:///{tmp_path / 'empty.db'}").test_client()
    client.application.config["PROPAGATE_EXCEPTIONS"] = False
    assert client.get("/worklist/").status_code == 500
    resp = client.get("/api/v1/cases", headers={"Authorization": "Bearer whatever"})
    assert resp.status_code == 500 and json.loads(resp.get_data(as_text=True))["error"]["code"] == "internal_error"
