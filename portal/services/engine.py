"""The app's one Engine instance (it caches restored specs)."""
from __future__ import annotations

from datetime import datetime, timezone

from flask import current_app

from portal.bpmn import Engine
from portal.workdays import DayUnit


def get_engine() -> Engine:
    engine = current_app.extensions.get("portal_engine")
    if engine is None:
        engine = current_app.extensions["portal_engine"] = Engine(deadline=county_deadline)
    return engine


def county_deadline(start: datetime, days: int, working: bool) -> datetime:
    """A statutory period by the county's calendar and time zone (what a diagram's
    ``workdays_after(10)`` means): the end, 23:59:59 local, of its last day."""
    from portal.services.deadlines import legal_due_at
    naive = start.astimezone(timezone.utc).replace(tzinfo=None)
    end = legal_due_at(naive, days, DayUnit.WORKING if working else DayUnit.CALENDAR)
    return end.replace(tzinfo=timezone.utc)


def spec_for(process_version_id: int) -> str:
    """A process version's spec JSON. Versions never change once stored, so it is cached per app."""
    from portal.extensions import db
    from portal.models import ProcessVersion
    cache = current_app.extensions.setdefault("portal_specs", {})
    spec = cache.get(process_version_id)
    if spec is None:
        spec = cache[process_version_id] = db.session.get(ProcessVersion, process_version_id).spec_json
    return spec
