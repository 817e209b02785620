"""Creating API clients: what the service refuses (nothing saved), and the token check."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from portal.extensions import db
from portal.models import ApiClient, PortalUser
from portal.services.api_clients import (
    ApiAuthError,
    ApiClientData,
    client_for_token,
    create_api_client,
    revoke_api_client,
)
from portal.services.errors import ValidationFailed
from tests.conftest import unit_id, user


def _data(**overrides) -> ApiClientData:
    values = dict(name="法院平台-服务测试", role_name="dept_handler", org_unit_id=unit_id("D04"), township_id=None,
                  scopes=["cases:read", "tasks:complete"])
    values.update(overrides)
    return ApiClientData(**values)


def _counts() -> tuple[int, int]:
    return (db.session.scalar(select(func.count()).select_from(ApiClient)),
            db.session.scalar(select(func.count()).select_from(PortalUser)))


@pytest.mark.parametrize("overrides,field", [
    ({"name": "  "}, "name"), ({"role_name": "Admin"}, "role_name"), ({"org_unit_id": None}, "org_unit_id"),
    ({"org_unit_id": 999999}, "org_unit_id"), ({"township_id": "D03"}, "township_id"),
    ({"scopes": ["cases:delete"]}, "scopes"), ({"scopes": []}, "scopes"),
])
def test_bad_client_data_is_refused_and_nothing_saved(ctx, overrides, field):
    if overrides.get("township_id") == "D03":
        overrides = {"township_id": unit_id("D03")}
    before = _counts()
    with pytest.raises(ValidationFailed) as refused:
        create_api_client(user("admin"), _data(**overrides))
    assert refused.value.field == field
    assert _counts() == before


def test_a_token_is_checked_by_its_digest_and_refused_once_revoked(ctx):
    made, token = create_api_client(user("admin"), _data(name="法院平台-令牌测试"))
    assert client_for_token(token).id == made.id
    assert made.user.org_unit.code == "D04" and made.user.active is False
    for wrong in (None, "", token[:-1], token + "x", token.removeprefix("mtk_"), "mtk_" + "a" * 300):
        with pytest.raises(ApiAuthError):
            client_for_token(wrong)
    revoke_api_client(user("admin"), made.id)
    with pytest.raises(ApiAuthError):
        client_for_token(token)
