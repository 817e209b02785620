"""Values kept for the length of one request: what a page asks for many times over and what cannot change
while it is answered (the user's permissions, the lanes of the user's roles)."""
from __future__ import annotations

from flask import g, has_request_context, request


def request_cache(name: str) -> dict:
    """A dict that lives as long as the current request; outside a request, an empty one that is not kept.

    Kept in ``g`` with the request it belongs to: when requests share an application context (a test's
    client inside an app context), the next request starts afresh."""
    if not has_request_context():
        return {}
    current = request._get_current_object()
    kept = g.get("portal_request_cache")
    if kept is None or kept[0] is not current:
        kept = g.portal_request_cache = (current, {})
    return kept[1].setdefault(name, {})
