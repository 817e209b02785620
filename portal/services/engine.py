"""The app's one Engine instance (it caches restored specs)."""
from __future__ import annotations

from flask import current_app

from portal.bpmn import Engine


def get_engine() -> Engine:
    engine = current_app.extensions.get("portal_engine")
    if engine is None:
        engine = current_app.extensions["portal_engine"] = Engine()
    return engine
