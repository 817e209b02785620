"""Systems that talk to the portal through its REST API (the 12345 hotline, the court's platform):
each is a client with its token, its role and its scope, acting as a service user of its own."""
from __future__ import annotations

import enum

from flask_appbuilder import Model
from flask_babel import lazy_gettext as _l
from sqlalchemy import Boolean, Column, DateTime, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import relationship


class ApiScope(enum.Enum):
    """What a client may call (besides what its role and unit allow)."""

    CREATE_CASES = "cases:create"
    READ_CASES = "cases:read"
    COMPLETE_TASKS = "tasks:complete"
    READ_DOCUMENTS = "documents:read"

    @property
    def label(self):
        return {ApiScope.CREATE_CASES: _l("Register cases"), ApiScope.READ_CASES: _l("Read cases and their changes"),
                ApiScope.COMPLETE_TASKS: _l("Complete steps"),
                ApiScope.READ_DOCUMENTS: _l("Download documents")}[self]


class ApiClient(Model):
    """An integrating system. Its token is stored only as a SHA-256 digest (the token is long and random,
    so the digest can be looked up directly); ``token_prefix`` lets staff recognise which token is which.

    The client acts as ``user``: an account that cannot log in to the pages (inactive), holding the client's
    role in its org unit, so the portal's own scoping (cases the unit sees, lanes, the unit of a step)
    decides what the client may read and do. ``township`` narrows it further to one township's cases."""

    __tablename__ = "api_client"
    id = Column(Integer, primary_key=True)
    name = Column(String(100), nullable=False, unique=True)
    role_name = Column(String(64), nullable=False)
    org_unit_id = Column(Integer, ForeignKey("org_unit.id", name="fk_api_client_org_unit"), nullable=False)
    township_id = Column(Integer, ForeignKey("org_unit.id", name="fk_api_client_township"), nullable=True)
    scopes = Column(String(200), nullable=False)  # space-separated ApiScope values
    user_id = Column(Integer, ForeignKey("ab_user.id", name="fk_api_client_user"), nullable=False, unique=True)
    token_hash = Column(String(64), nullable=False, unique=True)
    token_prefix = Column(String(16), nullable=False)
    active = Column(Boolean, nullable=False, default=True)
    created_at = Column(DateTime, nullable=False)
    created_by_id = Column(Integer, ForeignKey("ab_user.id", name="fk_api_client_created_by"), nullable=True)
    last_used_at = Column(DateTime, nullable=True)
    revoked_at = Column(DateTime, nullable=True)

    org_unit = relationship("OrgUnit", foreign_keys=[org_unit_id], lazy="joined")
    township = relationship("OrgUnit", foreign_keys=[township_id], lazy="joined")
    user = relationship("PortalUser", foreign_keys=[user_id], lazy="joined")

    @property
    def scope_set(self) -> set[ApiScope]:
        return {ApiScope(s) for s in self.scopes.split()}


class ApiIdempotencyKey(Model):
    """A case registered through the API under the client's ``Idempotency-Key``: a retry of the same
    request gets the same case back instead of a second one."""

    __tablename__ = "api_idempotency_key"
    __table_args__ = (UniqueConstraint("client_id", "key", name="uq_api_idempotency_client_key"),)
    id = Column(Integer, primary_key=True)
    client_id = Column(Integer, ForeignKey("api_client.id", name="fk_api_idempotency_client"), nullable=False)
    key = Column(String(100), nullable=False)
    request_hash = Column(String(64), nullable=False)  # SHA-256 of the request body
    case_id = Column(Integer, ForeignKey("mediation_case.id", name="fk_api_idempotency_case"), nullable=False,
                     index=True)
    created_at = Column(DateTime, nullable=False)
