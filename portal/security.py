"""The portal's security manager: FAB's, with the org unit on the user and logins audited."""
from __future__ import annotations

from flask_appbuilder.security.sqla.manager import SecurityManager
from flask_appbuilder.security.sqla.models import Group
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from portal.models import PortalUser


class PortalSecurityManager(SecurityManager):
    user_model = PortalUser

    def get_user_by_id(self, pk):
        """The user of a request, with everything a permission check reads, in one round of queries."""
        return self.session.scalars(
            select(PortalUser).where(PortalUser.id == int(pk))
            .options(joinedload(PortalUser.roles), joinedload(PortalUser.groups).joinedload(Group.roles))
            .execution_options(populate_existing=True)).unique().first()

    def on_user_login(self, user) -> None:
        from portal.services.audit import record_login
        record_login(user, success=True)

    def on_user_login_failed(self, user) -> None:
        from portal.services.audit import record_login
        record_login(user, success=False)
