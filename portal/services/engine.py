"""The app's one Engine instance (it caches restored specs)."""
from __future__ import annotations

from flask import current_app

from portal.bpmn import Engine


def get_engine() -> Engine:
    engine = current_app.extensions.get("portal_engine")
    if engine is None:
        engine = current_app.extensions["portal_engine"] = Engine()
    return engine


def spec_for(process_version_id: int) -> str:
    """A process version's spec JSON. Versions never change once stored, so it is cached per app."""
    from portal.extensions import db
    from portal.models import ProcessVersion
    cache = current_app.extensions.setdefault("portal_specs", {})
    spec = cache.get(process_version_id)
    if spec is None:
        spec = cache[process_version_id] = db.session.get(ProcessVersion, process_version_id).spec_json
    return spec
