"""What the modeler's properties panel offers: the registered forms and the roles of each lane."""
from __future__ import annotations

from collections import defaultdict

from sqlalchemy import select

from portal.extensions import db
from portal.models import LaneRole


def form_choices() -> list[dict[str, str]]:
    """Every form a user task may name: its key and what the shipped diagrams call the step (or the
    title an administrator gave a form defined in the browser)."""
    from portal.bpmn import form_keys, shipped_diagrams
    from portal.forms import FORMS
    names: dict[str, str] = {}
    for xml in shipped_diagrams().values():
        for key, name in form_keys(xml):
            names.setdefault(key, name)
    from portal.services.formdefs import definitions
    shipped = [{"key": key, "label": names.get(key, key)} for key in FORMS if key != "intake"]
    defined = [{"key": d.key, "label": d.title} for d in definitions()]  # forms an administrator defined
    return sorted(shipped + defined, key=lambda f: f["key"])


def lane_roles() -> dict[str, list[str]]:
    lanes: dict[str, list[str]] = defaultdict(list)
    for lane, role in db.session.execute(select(LaneRole.lane, LaneRole.role_name).order_by(LaneRole.role_name)):
        lanes[lane].append(role)
    return dict(lanes)
