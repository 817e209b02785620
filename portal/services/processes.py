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
    """Rules the engine does not know: every user task names a known form (of the chain, or of the
    branches for the other processes, or one an administrator defined) and a case status."""
    from portal.services.aid import BRANCH_STEPS
    from portal.services.formdefs import defined_keys
    forms = STEPS if parsed.process_id == MAIN_PROCESS_ID else BRANCH_STEPS
    defined = defined_keys()  # the forms administrators defined serve either
    problems = []
    for task in parsed.user_tasks:
        if task.form_key not in forms and task.form_key not in defined:
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


# Inputs the triage tables are probed with: every dispute type of the second level, with head counts and
# amounts on both sides of the thresholds a county is likely to draw.
PROBE_PEOPLE = (1, 2, 3, 5, 10, 30, 100)
PROBE_AMOUNTS = (0.0, 1000.0, 9999.0, 10000.0, 50000.0, 99999.0, 100000.0, 1000000.0)


def check_decision_coverage(decisions: dict[str, bytes]) -> None:
    """Every decision table must give every case type an answer: a table edit that leaves a dispute
    type (with some head count or amount) without a matching rule is refused, naming the combination."""
    from portal.models import DisputeType, OrgKind, OrgUnit
    types = db.session.execute(select(DisputeType.code, DisputeType.name)
                               .where(DisputeType.parent_id.is_not(None)).order_by(DisputeType.code)).all()
    township = db.session.scalar(select(OrgUnit.code).where(OrgUnit.kind == OrgKind.TOWNSHIP).limit(1)) or ""
    names = dict(types)
    probes = [{"dispute_type": code, "people_count": people, "amount": amount, "township": township,
               "source_channel": "walk_in", "route": "mediation"}
              for code, _name in types for people in PROBE_PEOPLE for amount in PROBE_AMOUNTS]
    problems = []
    engine = get_engine()
    for file_name, xml in sorted(decisions.items()):
        gaps = engine.decision_gaps(file_name, xml, probes)
        missing_types = list(dict.fromkeys(g["dispute_type"] for g in gaps))
        for code in missing_types[:5]:
            g = next(g for g in gaps if g["dispute_type"] == code)
            problems.append((file_name, None, code, str(_l(
                "no rule for dispute type %(code)s %(name)s with %(people)s people and %(amount)s yuan",
                code=code, name=names[code], people=g["people_count"], amount=f"{g['amount']:.0f}"))))
        if len(missing_types) > 5:
            problems.append((file_name, None, "", str(_l("and %(n)s more dispute types without a rule",
                                                         n=len(missing_types) - 5))))
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
        version = _publish(user, file_name, xml, decisions)
        if version is not None:
            published.append(version)
    return published


@transaction
def publish_process(user, file_name: str, xml: bytes, decisions: dict[str, bytes]) -> ProcessVersion | None:
    """Publish an edited diagram with its decision tables, after every check; None when this exact
    content is already published. Refused (DiagramInvalidError, nothing saved) when a check fails."""
    return _publish(user, file_name, xml, decisions)


def _publish(user, file_name: str, xml: bytes, decisions: dict[str, bytes]) -> ProcessVersion | None:
    process_id = file_name.rsplit(".", 1)[0]
    checksum = hashlib.sha256(xml + b"".join(decisions[k] for k in sorted(decisions))).hexdigest()
    existing = db.session.scalars(select(ProcessVersion).where(
        ProcessVersion.process_id == process_id, ProcessVersion.checksum == checksum)).first()
    if existing is not None:
        return None
    parsed = get_engine().parse({file_name: xml, **decisions}, process_id)
    check_portal_rules(parsed, file_name)
    check_decision_coverage(decisions)
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
    return version
