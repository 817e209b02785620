"""API clients for the API's tests: made once per module (their names unique to the run), with helpers to
call the API with a client's token."""
from __future__ import annotations

import uuid

import pytest
from sqlalchemy import delete

from portal.extensions import db
from tests.conftest import unit_id, user

EVERY_OPERATION = ["cases:create", "cases:read", "tasks:complete", "documents:read"]
# name -> (role, unit, township it is bound to, operations)
CLIENTS = {
    "hotline": ("intake_clerk", "CENTER", None, EVERY_OPERATION),        # 12345: files cases, follows them
    "court": ("dept_handler", "D04", None, EVERY_OPERATION),              # 县人民法院's platform
    "dispatch": ("dispatcher", "CENTER", None, EVERY_OPERATION),
    "town": ("township_staff", "T01", None, EVERY_OPERATION),             # 城关镇's own system
    "hotline_t2": ("intake_clerk", "CENTER", "T02", EVERY_OPERATION),     # a hotline desk bound to 东城街道
    "reader": ("intake_clerk", "CENTER", None, ["cases:read"]),
}


@pytest.fixture(scope="module")
def tokens(app):
    """name -> token of each client in CLIENTS."""
    from portal.services.api_clients import ApiClientData, create_api_client
    run = uuid.uuid4().hex[:6]
    made = {}
    with app.app_context():
        for name, (role, unit, township, scopes) in CLIENTS.items():
            _client, token = create_api_client(user("admin"), ApiClientData(
                f"{name}-{run}", role, unit_id(unit), unit_id(township) if township else None, scopes))
            made[name] = token
    return made


@pytest.fixture(autouse=True)
def _forget_idempotency_keys(app):
    """The keys name cases that the suite's cleanup deletes after each test."""
    yield
    from portal.models import ApiIdempotencyKey
    with app.app_context():
        db.session.execute(delete(ApiIdempotencyKey))
        db.session.commit()


@pytest.fixture(autouse=True)
def _no_rate_limit(app, monkeypatch):
    """Tests make many calls a minute; the limit is tested on its own."""
    monkeypatch.setitem(app.config, "PORTAL_API_RATE_LIMIT", "")


@pytest.fixture
def call(client, tokens):
    """call(name, method, path, **kwargs): the API called with that client's token (no cookie)."""
    def _call(name: str | None, method: str, path: str, headers: dict | None = None, **kwargs):
        client.delete_cookie("session")
        auth = {"Authorization": f"Bearer {tokens[name]}"} if name else {}
        return client.open(f"/api/v1{path}", method=method, headers={**auth, **(headers or {})}, **kwargs)
    return _call
