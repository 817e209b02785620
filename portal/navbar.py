"""The menu bar at the top of every page, drawn once per user and language.

FAB draws it on every page: a permission check and a translation for each of its twenty-odd entries,
a tenth of a page's time. What it shows depends only on the user (name and roles), the language and
the security tables, so an app server keeps each user's bar for as long as the security version it
was drawn at (``portal.security``) is current: a changed role, menu permission or user name draws it
afresh on the next page, on every app server. A visitor who is not logged in gets it drawn each time.
"""
from __future__ import annotations

import threading

from flask import current_app, g, render_template
from flask_babel import get_locale
from markupsafe import Markup

_KEPT_MAX = 2000  # users x languages an app server keeps; beyond, it starts afresh
_lock = threading.Lock()


def navbar() -> Markup:
    user = getattr(g, "user", None)
    snapshot = current_app.appbuilder.sm.security_snapshot()
    if user is None or not getattr(user, "is_authenticated", False) or snapshot is None:
        return Markup(render_template("portal/_navbar.html", appbuilder=current_app.appbuilder))
    kept = current_app.extensions.setdefault("portal_navbar", {})
    key = (snapshot.version, user.id, str(get_locale()))
    html = kept.get(key)
    if html is None:
        html = Markup(render_template("portal/_navbar.html", appbuilder=current_app.appbuilder))
        with _lock:
            if len(kept) >= _KEPT_MAX:
                kept.clear()
            kept[key] = html
    return html
