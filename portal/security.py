"""The portal's security manager: FAB's, with the org unit on the user and logins audited."""
from __future__ import annotations

from flask_appbuilder.security.sqla.manager import SecurityManager

from portal.models import PortalUser


class PortalSecurityManager(SecurityManager):
    user_model = PortalUser

    def on_user_login(self, user) -> None:
        from portal.services.audit import record_login
        record_login(user, success=True)

    def on_user_login_failed(self, user) -> None:
        from portal.services.audit import record_login
        record_login(user, success=False)
