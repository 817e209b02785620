"""Systems that use the REST API: administrators create and revoke them; every request's token is
checked here, and every call is audited."""
from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, field

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from werkzeug.security import generate_password_hash

from portal.clock import utcnow
from portal.extensions import db
from portal.models import ApiClient, ApiScope, OrgKind, OrgUnit, PortalUser
from portal.roles import ROLE_BY_NAME
from portal.services._tx import transaction
from portal.services.audit import audit
from portal.services.errors import DomainError, ValidationFailed, required_text

TOKEN_PREFIX = "mtk_"
_LONGEST_TOKEN = 200


class ApiAuthError(DomainError):
    status_code = 401
    message = _l("A valid API token is required: send it as “Authorization: Bearer <token>”.")


class ScopeMissingError(DomainError):
    status_code = 403
    message = _l("This API client is not allowed this operation (%(scope)s).")


class ApiClientNotFoundError(DomainError):
    status_code = 404
    message = _l("There is no such API client.")


@dataclass
class ApiClientData:
    """What an administrator sets for a new client."""

    name: str
    role_name: str
    org_unit_id: int | None
    township_id: int | None = None
    scopes: list[str] = field(default_factory=list)


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def _check(data: ApiClientData) -> tuple[str, OrgUnit, OrgUnit | None, list[str]]:
    name = required_text(data.name, "name")
    if db.session.scalar(select(ApiClient.id).where(ApiClient.name == name)) is not None:
        raise ValidationFailed(_l("An API client of that name exists already."), field="name")
    if data.role_name not in ROLE_BY_NAME:
        raise ValidationFailed(_l("Choose a valid value."), field="role_name")
    unit = db.session.get(OrgUnit, data.org_unit_id) if data.org_unit_id else None
    if unit is None:
        raise ValidationFailed(_l("Choose the unit the client works for."), field="org_unit_id")
    township = db.session.get(OrgUnit, data.township_id) if data.township_id else None
    if data.township_id and (township is None or township.kind != OrgKind.TOWNSHIP):
        raise ValidationFailed(_l("Choose a township."), field="township_id")
    try:
        scopes = sorted({ApiScope(s).value for s in data.scopes})
    except ValueError:
        raise ValidationFailed(_l("Choose a valid value."), field="scopes") from None
    if not scopes:
        raise ValidationFailed(_l("Allow the client at least one operation."), field="scopes")
    return name, unit, township, scopes


@transaction
def create_api_client(admin, data: ApiClientData) -> tuple[ApiClient, str]:
    """Create a client, its service account (which cannot log in to the pages) and its token.
    The token is returned this once; only its digest is kept."""
    name, unit, township, scopes = _check(data)
    role = current_app.appbuilder.sm.find_role(data.role_name)
    if role is None:  # roles not synced yet
        raise ValidationFailed(_l("Choose a valid value."), field="role_name")
    username = f"api-{secrets.token_hex(6)}"
    account = PortalUser(username=username, first_name=name, last_name="API", email=f"{username}@api.portal.local",
                         active=False, roles=[role], org_unit=unit,
                         password=generate_password_hash(secrets.token_urlsafe(32)))
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    client = ApiClient(name=name, role_name=data.role_name, org_unit=unit, township=township, scopes=" ".join(scopes),
                       user=account, token_hash=token_digest(token), token_prefix=token[:10], active=True,
                       created_at=utcnow(), created_by_id=getattr(admin, "id", None))
    db.session.add_all([account, client])
    db.session.flush()
    audit("api_client.create", user=admin, client=name, account=username, role=data.role_name, unit=unit.code,
          township=township.code if township else None, scopes=scopes)
    return client, token


@transaction
def revoke_api_client(admin, client_id: int) -> ApiClient:
    """Withdraw a client's token for good: its next request is refused (401)."""
    client = db.session.get(ApiClient, client_id)
    if client is None:
        raise ApiClientNotFoundError()
    if client.active:
        client.active, client.revoked_at = False, utcnow()
        audit("api_client.revoke", user=admin, client=client.name)
    return client


def api_clients() -> list[ApiClient]:
    return list(db.session.scalars(select(ApiClient).order_by(ApiClient.active.desc(), ApiClient.name)))


def client_for_token(token: str | None) -> ApiClient:
    """The active client holding ``token``, or ApiAuthError (unknown, revoked or malformed alike)."""
    if not token or len(token) > _LONGEST_TOKEN or not token.startswith(TOKEN_PREFIX):
        raise ApiAuthError()
    client = db.session.scalar(select(ApiClient).where(ApiClient.token_hash == token_digest(token)))
    if client is None or not client.active:
        raise ApiAuthError()
    return client


@transaction
def record_api_call(client: ApiClient | None, method: str, endpoint: str, status: int) -> None:
    """Audit one API call (refused ones too) and note when the client was last heard from."""
    if client is not None:
        client.last_used_at = utcnow()
    audit("api.call", user=client.user if client else None, client=client.name if client else None,
          method=method, endpoint=endpoint[:200], status=status)
