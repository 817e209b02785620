"""Process versions: validate a diagram, store its spec once, publish it.

Validation lists every problem at once, each as (file, line, element id, message): the
engine facade reads the files safely and lints them (XML attacks, the expression allow-list,
timers, scripts, the flow graph) and parses them; the portal's own rules (known forms,
lanes mapped to roles, case statuses, deadlines) and the decision tables' coverage of every
case type are checked here, where the database is.
"""
from __future__ import annotations

import hashlib
import json

from flask import current_app
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from sqlalchemy import bindparam, func, select

from portal.bpmn import (
    MAIN_PROCESS_ID,
    DiagramInvalidError,
    Message,
    ParsedProcess,
    Problem,
    iso_duration,
    outline_diagram,
    shipped_decisions,
    shipped_diagrams,
)
from portal.clock import utcnow
from portal.extensions import db
from portal.models import CaseStatus, LaneRole, ProcessStatus, ProcessVersion
from portal.roles import ALLOW_SCRIPTS
from portal.services._tx import transaction
from portal.services.audit import audit
from portal.services.engine import get_engine
from portal.services.errors import ProcessNotPublishedError, ScriptsNotAllowedError
from portal.services.steps import STEPS

_STATUSES = {s.value for s in CaseStatus}


def may_allow_scripts(user) -> bool:
    """Whether ``user`` may publish a diagram with scripts: the FAB permission can_allow_scripts on
    Processes (the Admin role holds every permission)."""
    if user is None:
        return False
    sm = current_app.appbuilder.sm
    roles = sm.get_user_roles(user)  # the user's own roles and those of the groups it is in
    if any(r.name == sm.auth_role_admin for r in roles):
        return True
    permission, view = ALLOW_SCRIPTS
    return bool(roles) and sm.exist_permission_on_roles(view, permission, [r.id for r in roles])


def shown(message) -> str:
    """A problem's message in the user's language (the facade's messages carry their msgid)."""
    if not isinstance(message, Message):
        return str(message)
    params = {k: "; ".join(shown(m) for m in v) if isinstance(v, list) else shown(v) if isinstance(v, Message)
              else v for k, v in message.params.items()}
    return gettext(message.msgid, **params)


def _task_rule_messages(task, forms) -> list:
    """What is wrong with one user task by the portal's rules."""
    messages = []
    if task.form_key not in forms:
        messages.append(_l("unknown form key %(key)r", key=task.form_key))
    status = task.properties.get("caseStatus")
    if status is not None and status not in _STATUSES:
        messages.append(_l("unknown case status %(s)r", s=status))
    due_after = task.properties.get("dueAfter")
    if due_after is not None:
        try:
            iso_duration(due_after)
        except ValueError:
            messages.append(_l("dueAfter %(d)r is not a duration such as PT1H or P3D", d=due_after))
    unit_var = task.properties.get("orgUnitVar")
    if unit_var is not None and not (unit_var.isidentifier() and not unit_var.startswith("_")):
        messages.append(_l("orgUnitVar %(v)r must be the name of a data field, such as assigned_unit_id", v=unit_var))
    if task.lane is None or not task.lane.name:
        messages.append(_l("user task outside any lane"))
    return messages


def check_portal_rules(file_name: str, xml: bytes) -> list[Problem]:
    """Rules the engine does not know, for every user task of the diagram: a known form (of the chain,
    or of the branches for the other processes, or one an administrator defined), a lane mapped to a
    role, a known case status, a deadline that is a duration, and an org-unit variable that is a plain
    data name."""
    from portal.services.aid import BRANCH_STEPS
    from portal.services.formdefs import defined_keys
    outline = outline_diagram(file_name, xml)
    if outline is None:
        return []  # unreadable: the lint says why
    forms = set(STEPS if file_name.rsplit(".", 1)[0] == MAIN_PROCESS_ID else BRANCH_STEPS) | defined_keys()
    mapped = set(db.session.scalars(select(LaneRole.lane).distinct()))
    problems: list[Problem] = []
    unmapped: set[str] = set()
    for task in outline.user_tasks:
        problems.extend((file_name, task.line, task.bpmn_id, str(m)) for m in _task_rule_messages(task, forms))
        lane = task.lane
        if lane is not None and lane.name and lane.name not in mapped and lane.bpmn_id not in unmapped:
            unmapped.add(lane.bpmn_id)
            problems.append((file_name, lane.line, lane.bpmn_id, str(_l(
                "the lane %(lane)s is mapped to no role: nobody could work its tasks", lane=lane.name))))
    return problems


# Inputs the triage tables are probed with: every dispute type of the second level, with head counts and
# amounts on both sides of the thresholds a county is likely to draw.
PROBE_PEOPLE = (1, 2, 3, 5, 10, 30, 100)
PROBE_AMOUNTS = (0.0, 1000.0, 9999.0, 10000.0, 50000.0, 99999.0, 100000.0, 1000000.0)


def check_decision_coverage(decisions: dict[str, bytes]) -> None:
    """Raise DiagramInvalidError when a decision table leaves a case type without an answer."""
    problems = decision_coverage_problems(decisions)
    if problems:
        raise DiagramInvalidError(problems)


def decision_coverage_problems(decisions: dict[str, bytes]) -> list[Problem]:
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
        try:
            gaps = engine.decision_gaps(file_name, xml, probes)
        except DiagramInvalidError as exc:
            problems.extend(exc.problems)
            continue
        missing_types = list(dict.fromkeys(g["dispute_type"] for g in gaps))
        for code in missing_types[:5]:
            g = next(g for g in gaps if g["dispute_type"] == code)
            problems.append((file_name, None, code, str(_l(
                "no rule for dispute type %(code)s %(name)s with %(people)s people and %(amount)s yuan",
                code=code, name=names[code], people=g["people_count"], amount=f"{g['amount']:.0f}"))))
        if len(missing_types) > 5:
            problems.append((file_name, None, "", str(_l("and %(n)s more dispute types without a rule",
                                                         n=len(missing_types) - 5))))
    return problems


def _validate(file_name: str, xml: bytes, decisions: dict[str, bytes],
              allow_scripts: bool) -> tuple[ParsedProcess | None, list[Problem]]:
    process_id = file_name.rsplit(".", 1)[0]
    if not file_name.endswith(".bpmn"):
        return None, [(file_name, None, "", str(_l("a diagram must be a .bpmn file")))]
    for name, data in {file_name: xml, **decisions}.items():
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            return None, [(name, None, "", str(_l("the file must be saved as UTF-8 text")))]
    parsed, problems = get_engine().check({file_name: xml, **decisions}, process_id, allow_scripts)
    problems = list(problems)
    problems.extend(check_portal_rules(file_name, xml))
    if not any(p[0] in decisions for p in problems):  # the tables read and passed the lint: try them
        problems.extend(decision_coverage_problems(decisions))
    return parsed, [(f, line, element, shown(message)) for f, line, element, message in problems]


def validate_upload(file_name: str, xml: bytes, decisions: dict[str, bytes],
                    allow_scripts: bool = False) -> list[Problem]:
    """Every problem of a diagram and the decision tables it calls, as publishing would find them,
    without saving anything: (file, line, element id, message in the user's language)."""
    return _validate(file_name, xml, decisions, allow_scripts)[1]


def published_version(process_id: str = MAIN_PROCESS_ID) -> ProcessVersion:
    """The newest published version of a process."""
    version = db.session.get(ProcessVersion, published_version_id(process_id))
    if version is None:
        raise ProcessNotPublishedError()
    return version


def published_version_id(process_id: str = MAIN_PROCESS_ID) -> int:
    """The id of the newest published version of a process (its spec: ``engine.spec_for``, kept per app:
    a case registered needs only that, not the version's diagrams and tables read again)."""
    version_id = db.session.scalar(_PUBLISHED, {"process_id": process_id})
    if version_id is None:
        raise ProcessNotPublishedError()
    return version_id


_PUBLISHED = (select(ProcessVersion.id).where(ProcessVersion.process_id == bindparam("process_id"),
                                              ProcessVersion.status == ProcessStatus.PUBLISHED)
              .order_by(ProcessVersion.version.desc()).limit(1))


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
def publish_process(user, file_name: str, xml: bytes, decisions: dict[str, bytes],
                    allow_scripts: bool = False) -> ProcessVersion | None:
    """Publish an edited diagram with its decision tables, after every check; None when this exact
    content is already published. Refused (DiagramInvalidError listing every problem, nothing saved)
    when a check fails. Scripts are refused unless ``allow_scripts``, which only a user who
    ``may_allow_scripts`` may ask for (ScriptsNotAllowedError otherwise); allowed scripts still pass
    the restricted compiler and run in the restricted environment."""
    if allow_scripts and not may_allow_scripts(user):
        raise ScriptsNotAllowedError()
    return _publish(user, file_name, xml, decisions, allow_scripts)


def publish_checked(user, file_name: str, xml: bytes, decisions: dict[str, bytes],
                    allow_scripts: bool = False) -> ProcessVersion | None:
    """``publish_process`` inside the caller's transaction (the designer publishes a draft with it)."""
    if allow_scripts and not may_allow_scripts(user):
        raise ScriptsNotAllowedError()
    return _publish(user, file_name, xml, decisions, allow_scripts)


def _publish(user, file_name: str, xml: bytes, decisions: dict[str, bytes],
             allow_scripts: bool = False) -> ProcessVersion | None:
    process_id = file_name.rsplit(".", 1)[0]
    checksum = hashlib.sha256(xml + b"".join(decisions[k] for k in sorted(decisions))).hexdigest()
    existing = db.session.scalars(select(ProcessVersion).where(  # a rolled-back content may come back
        ProcessVersion.process_id == process_id, ProcessVersion.checksum == checksum,
        ProcessVersion.status == ProcessStatus.PUBLISHED)).first()
    if existing is not None:
        return None
    parsed, problems = _validate(file_name, xml, decisions, allow_scripts)
    if problems or parsed is None:
        raise DiagramInvalidError(problems)
    last = db.session.scalar(select(func.max(ProcessVersion.version))
                             .where(ProcessVersion.process_id == process_id)) or 0
    version = ProcessVersion(process_id=process_id, version=last + 1, name=parsed.name,
                             status=ProcessStatus.PUBLISHED, checksum=checksum,
                             bpmn_xml=xml.decode("utf-8"), spec_json=parsed.spec_json, created_at=utcnow(),
                             decision_files=json.dumps({k: v.decode("utf-8") for k, v in decisions.items()},
                                                       ensure_ascii=False))
    db.session.add(version)
    db.session.flush()
    audit("process.publish", user=user, process_id=process_id, version=version.version,
          **({"scripts_allowed": True} if allow_scripts else {}))
    return version
