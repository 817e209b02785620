"""Process versions: validate a diagram, store its spec once, publish it."""
from __future__ import annotations

import hashlib
import json

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from portal.bpmn import (
    MAIN_PROCESS_ID,
    DiagramInvalidError,
    ParsedProcess,
    iso_duration,
    shipped_decisions,
    shipped_diagrams,
)
from portal.clock import utcnow
from portal.extensions import db
from portal.models import CaseStatus, ProcessStatus, ProcessVersion
from portal.services._tx import transaction
from portal.services.audit import audit
from portal.services.engine import get_engine
from portal.services.errors import ProcessNotPublishedError
from portal.services.steps import STEPS

_STATUSES = {s.value for s in CaseStatus}


def check_portal_rules(parsed: ParsedProcess, file_name: str) -> None:
    """Rules the engine does not know: every user task names a known form and a case status."""
    problems = []
    for task in parsed.user_tasks:
        if task.form_key not in STEPS:
            problems.append((file_name, None, task.bpmn_id, str(_l("unknown form key %(key)r", key=task.form_key))))
        status = task.properties.get("caseStatus")
        if status is not None and status not in _STATUSES:
            problems.append((file_name, None, task.bpmn_id, str(_l("unknown case status %(s)r", s=status))))
        due_after = task.properties.get("dueAfter")
        if due_after is not None:
            try:
                iso_duration(due_after)
            except ValueError:
                problems.append((file_name, None, task.bpmn_id,
                                 str(_l("dueAfter %(d)r is not a duration such as PT1H or P3D", d=due_after))))
        if not task.lane:
            problems.append((file_name, None, task.bpmn_id, str(_l("user task outside any lane"))))
    if problems:
        raise DiagramInvalidError(problems)


def published_version(process_id: str = MAIN_PROCESS_ID) -> ProcessVersion:
    """The newest published version of a process."""
    version = db.session.scalars(
        select(ProcessVersion).where(ProcessVersion.process_id == process_id,
                                     ProcessVersion.status == ProcessStatus.PUBLISHED)
        .order_by(ProcessVersion.version.desc()).limit(1)).first()
    if version is None:
        raise ProcessNotPublishedError()
    return version


@transaction
def publish_shipped_processes(user=None) -> list[ProcessVersion]:
    """Publish the diagrams shipped in portal/bpmn (with the decision tables they call),
    once per distinct content (idempotent)."""
    decisions = shipped_decisions()
    published = []
    for file_name, xml in shipped_diagrams().items():
        process_id = file_name.rsplit(".", 1)[0]
        checksum = hashlib.sha256(xml + b"".join(decisions[k] for k in sorted(decisions))).hexdigest()
        existing = db.session.scalars(select(ProcessVersion).where(
            ProcessVersion.process_id == process_id, ProcessVersion.checksum == checksum)).first()
        if existing is not None:
            continue
        parsed = get_engine().parse({file_name: xml, **decisions}, process_id)
        check_portal_rules(parsed, file_name)
        last = db.session.scalar(select(func.max(ProcessVersion.version))
                                 .where(ProcessVersion.process_id == process_id)) or 0
        version = ProcessVersion(process_id=process_id, version=last + 1, name=parsed.name,
                                 status=ProcessStatus.PUBLISHED, checksum=checksum,
                                 bpmn_xml=xml.decode("utf-8"), spec_json=parsed.spec_json, created_at=utcnow(),
                                 decision_files=json.dumps({k: v.decode("utf-8") for k, v in decisions.items()},
                                                           ensure_ascii=False))
        db.session.add(version)
        db.session.flush()
        audit("process.publish", user=user, process_id=process_id, version=version.version)
        published.append(version)
    return published
