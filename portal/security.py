"""The portal's security manager: FAB's, with the org unit on the user and logins audited."""
from __future__ import annotations

from flask_appbuilder.security.sqla.manager import SecurityManager
from flask_appbuilder.security.sqla.models import Group, Permission, PermissionView, ViewMenu, assoc_permissionview_role
from sqlalchemy import bindparam, select
from sqlalchemy.orm import joinedload

from portal.models import PortalUser
from portal.request_cache import request_cache

# Both run on every request, so they are built once: building a statement with its loader
# options costs more than running it.
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


class PortalSecurityManager(SecurityManager):
    user_model = PortalUser

    def get_user_by_id(self, pk):
        """The user of a request, with everything a permission check reads, in one round of queries."""
        return self.session.scalars(_USER_BY_ID, {"pk": int(pk)}).unique().first()

    def exist_permission_on_roles(self, view_name: str, permission_name: str, role_ids: list[int]) -> bool:
        """Whether one of the roles has the permission on the view. The roles' permissions are read in one
        query, once per request (a page's menu asks about twenty of them)."""
        known = request_cache("permissions")
        key = frozenset(role_ids)
        if key not in known:
            rows = self.session.execute(_PERMISSIONS_OF_ROLES, {"role_ids": sorted(key)})
            known[key] = {(view, permission) for view, permission in rows}
        return (view_name, permission_name) in known[key]

    def on_user_login(self, user) -> None:
        from portal.services.audit import record_login
        record_login(user, success=True)

    def on_user_login_failed(self, user) -> None:
        from portal.services.audit import record_login
        record_login(user, success=False)
