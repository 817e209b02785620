"""The portal's security manager: FAB's, with the org unit on the user and logins audited.

Each request needs its user (with roles, groups and org unit) and one or more permission answers.
An app server keeps what it has read of them, per process, for as long as the security version
(``security_version``, raised by database triggers on every change to a user, role, permission,
lane or unit, whoever makes it) stays the number it read: each request reads that one number, so a
revoked role or a deactivated user takes effect on the next request, on every app server.
"""
from __future__ import annotations

from flask import has_request_context, request
from flask_appbuilder.security.sqla.manager import SecurityManager
from flask_appbuilder.security.sqla.models import Group, Permission, PermissionView, ViewMenu, assoc_permissionview_role
from sqlalchemy import bindparam, select
from sqlalchemy.orm import joinedload

from portal.models import PortalUser, SecurityVersion
from portal.request_cache import request_cache

# Built once: building a statement with its loader options costs more than running it.
_USER_BY_ID = (
    select(PortalUser).where(PortalUser.id == bindparam("pk"))
    .options(joinedload(PortalUser.roles), joinedload(PortalUser.groups).joinedload(Group.roles))
    .execution_options(populate_existing=True))
_PERMISSIONS_OF_ROLES = (
    select(ViewMenu.name, Permission.name).distinct()
    .join(PermissionView, PermissionView.view_menu_id == ViewMenu.id)
    .join(Permission, Permission.id == PermissionView.permission_id)
    .join(assoc_permissionview_role, assoc_permissionview_role.c.permission_view_id == PermissionView.id)
    .where(assoc_permissionview_role.c.role_id.in_(bindparam("role_ids", expanding=True))))
_VERSION = select(SecurityVersion.version).where(SecurityVersion.id == 1)
_REQUEST_KEY = "portal.security_snapshot"


class SecuritySnapshot:
    """What the security tables said at one version, filled as requests ask: users (detached from any
    session, never changed), the (view, permission) pairs of sets of roles, the BPMN lanes of sets of role
    names, and lists of units and dispute types that forms offer (detached, read only)."""

    def __init__(self, version: int) -> None:
        self.version = version
        self.users: dict[int, PortalUser | None] = {}
        self.permissions: dict[frozenset[int], frozenset[tuple[str, str]]] = {}
        self.lanes: dict[frozenset[str], frozenset[str]] = {}
        # the county's units and dispute types: lists (queries.reference_list) and rows by id (queries.reference_row)
        self.reference: dict[tuple, tuple | dict] = {}


class PortalSecurityManager(SecurityManager):
    user_model = PortalUser
    _snapshot: SecuritySnapshot | None = None

    def security_snapshot(self) -> SecuritySnapshot | None:
        """The snapshot this request may use: the version is read once per request, and a version other
        than the kept one starts an empty snapshot. None outside a request (commands, tests' services
        read the tables each time) or when the version row is missing."""
        if not has_request_context():
            return None
        environ = request.environ
        if _REQUEST_KEY not in environ:
            version = self.session.connection().scalar(_VERSION)  # a column: no ORM around it (0.1 ms less)
            snapshot = self._snapshot
            if version is not None and (snapshot is None or snapshot.version != version):
                snapshot = self._snapshot = SecuritySnapshot(version)
            environ[_REQUEST_KEY] = snapshot if version is not None else None
        return environ[_REQUEST_KEY]

    def get_user_by_id(self, pk):
        """The user of a request, with everything a permission check reads: from the snapshot when it has
        the user (a copy in this request's session, no query), else read once into the snapshot."""
        pk = int(pk)
        snapshot = self.security_snapshot()
        if snapshot is None:
            return self.session.scalars(_USER_BY_ID, {"pk": pk}).unique().first()
        if pk not in snapshot.users:
            snapshot.users[pk] = self._detached_user(pk)
        kept = snapshot.users[pk]
        return None if kept is None else self.session.merge(kept, load=False)

    def _detached_user(self, pk: int) -> PortalUser | None:
        """The user with roles, groups and org unit, read in a session of its own and detached from it
        (read after the version: never older than the snapshot it is kept in)."""
        from portal.services._tx import read_apart
        return read_apart(lambda session: session.scalars(_USER_BY_ID, {"pk": pk}).unique().first())

    def exist_permission_on_roles(self, view_name: str, permission_name: str, role_ids: list[int]) -> bool:
        """Whether one of the roles has the permission on the view. The roles' permissions are read in one
        query (a page's menu asks about twenty of them), kept with the snapshot, or for the request when
        there is none."""
        snapshot = self.security_snapshot()
        known = snapshot.permissions if snapshot is not None else request_cache("permissions")
        key = frozenset(role_ids)
        if key not in known:
            rows = self.session.execute(_PERMISSIONS_OF_ROLES, {"role_ids": sorted(key)})
            known[key] = frozenset((view, permission) for view, permission in rows)
        return (view_name, permission_name) in known[key]

    def on_user_login(self, user) -> None:
        from portal.services.audit import record_login
        record_login(user, success=True)

    def on_user_login_failed(self, user) -> None:
        from portal.services.audit import record_login
        record_login(user, success=False)
