"""Roles, permissions, lane mappings and staff accounts."""
from __future__ import annotations

from flask import current_app
from flask_appbuilder.security.manager import BaseSecurityManager
from sqlalchemy import select

from portal.extensions import db
from portal.models import LaneRole, OrgUnit, PortalUser
from portal.roles import ALLOW_SCRIPTS, LANE_ROLES, ROLES
from portal.services._tx import transaction
from portal.services.audit import audit
from portal.services.errors import ValidationFailed


@transaction
def sync_roles() -> dict[str, int]:
    """Make roles and permissions match ``portal.roles`` and add missing lane mappings.

    Idempotent. Roles get exactly the permissions the table lists; lane
    mappings added by administrators are kept.
    """
    appbuilder = current_app.appbuilder
    sm = appbuilder.sm
    BaseSecurityManager.create_db(sm)              # Admin and Public roles
    appbuilder.add_permissions(update_perms=True)  # permissions of every registered view and menu
    for role_def in ROLES:
        role = sm.find_role(role_def.name) or sm.add_role(role_def.name)
        role.permissions = [sm.add_permission_view_menu(p, v) for p, v in role_def.permissions]
    allow_scripts = sm.add_permission_view_menu(*ALLOW_SCRIPTS)  # a right of its own, not a view's
    admin = sm.find_role(sm.auth_role_admin)
    if allow_scripts not in admin.permissions:
        sm.add_permission_role(admin, allow_scripts)
    existing = {(lr.lane, lr.role_name) for lr in db.session.scalars(select(LaneRole))}
    added = 0
    for lane, roles in LANE_ROLES.items():
        for role_name in roles:
            if (lane, role_name) not in existing:
                db.session.add(LaneRole(lane=lane, role_name=role_name))
                added += 1
    audit("roles.sync", roles=len(ROLES), lane_mappings_added=added)
    return {"roles": len(ROLES), "lane_mappings_added": added}


@transaction
def create_user(username: str, full_name: str, role_names: list[str], org_code: str | None,
                password: str) -> PortalUser:
    """Create a staff account in one org unit with the given roles."""
    sm = current_app.appbuilder.sm
    roles = [sm.find_role(n) for n in role_names]
    if not all(roles):
        raise ValidationFailed("unknown role in %(r)s", r=role_names)
    org = None
    if org_code:
        org = db.session.scalar(select(OrgUnit).where(OrgUnit.code == org_code))
        if org is None:
            raise ValidationFailed("unknown org unit %(c)s", c=org_code)
    if sm.find_user(username=username) is not None:
        raise ValidationFailed("user %(u)s exists", u=username)
    user = sm.add_user(username, full_name or username, "",
                       f"{username}@portal.local", roles, password=password, commit=False)
    user.org_unit = org
    db.session.flush()
    audit("user.create", username=username, roles=role_names, org=org_code)
    return user
