"""A case's (or a branch's) diagram as its page draws it: the version it runs on, with what is done,
what is open now and which timers wait."""
from __future__ import annotations

from typing import Any

from portal.models import Branch, Case
from portal.services.engine import get_engine, spec_for


def workflow_diagram(holder: Case | Branch) -> dict[str, Any]:
    version = holder.process_version
    engine = get_engine()
    wf = engine.restore(holder.wf_state, spec_for(holder.process_version_id))
    return {"xml": version.bpmn_xml, "process": version.name, "version": version.version, **engine.trace(wf)}
