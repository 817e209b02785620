"""The process designer's unit of work: drafts of the diagram files, publishing them, rolling a
version back, and the difference between two versions.

A draft is one file (``mediation_chain.bpmn``, ``triage_tier.dmn`` …) as an administrator last saved
it. Each save raises its revision; a save or a publish that starts from an older revision is
refused, so two administrators never silently overwrite each other. Publishing a process draft
makes a new version for new cases (running cases stay on theirs); publishing a decision-table
draft makes a new version of every process that calls the table.
"""
from __future__ import annotations

import json
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from portal.bpmn import (
    DiagramInvalidError,
    called_decisions,
    decision_ids,
    diagram_diff,
    from_camunda,
    shipped_decisions,
    shipped_diagrams,
)
from portal.clock import utcnow
from portal.extensions import db
from portal.models import ProcessDraft, ProcessStatus, ProcessVersion
from portal.services._tx import transaction
from portal.services.audit import audit
from portal.services.errors import DomainError, ValidationFailed


class DraftConflictError(DomainError):
    status_code = 409
    message = _l("%(who)s saved this draft at %(when)s, after you opened it; nothing was saved. Reload the "
                 "draft to see their changes, then make yours again.")


class UnknownFileError(DomainError):
    status_code = 404
    message = _l("There is no such process or decision table.")


@dataclass(frozen=True)
class DesignFile:
    """A diagram file the designer edits, with its published version and its draft, if any."""

    file_name: str
    kind: str                       # "bpmn" or "dmn"
    name: str                       # the process's or the table's name
    published: ProcessVersion | None
    draft: ProcessDraft | None
    used_by: tuple[str, ...] = ()   # for a table: the processes that call it


def _check_name(file_name: str) -> str:
    if file_name not in shipped_diagrams() and file_name not in shipped_decisions():
        raise UnknownFileError()
    return file_name


def newest_version(process_id: str, published_only: bool = True) -> ProcessVersion | None:
    query = select(ProcessVersion).where(ProcessVersion.process_id == process_id)
    if published_only:
        query = query.where(ProcessVersion.status == ProcessStatus.PUBLISHED)
    return db.session.scalars(query.order_by(ProcessVersion.version.desc()).limit(1)).first()


def current_decisions() -> dict[str, bytes]:
    """The decision tables new cases use: as the newest published version of a process that calls
    each one carries it, else as shipped."""
    tables = dict(shipped_decisions())
    for file_name in tables:
        for process_file in shipped_diagrams():
            version = newest_version(process_file.rsplit(".", 1)[0])
            stored = json.loads(version.decision_files or "{}") if version else {}
            if file_name in stored and decision_ids(tables[file_name]) & called_decisions(
                    version.bpmn_xml.encode("utf-8")):
                tables[file_name] = stored[file_name].encode("utf-8")
                break
    return tables


def current_text(file_name: str) -> bytes:
    """What new cases run now: the published version (or the shipped file before any)."""
    _check_name(file_name)
    if file_name.endswith(".dmn"):
        return current_decisions()[file_name]
    version = newest_version(file_name.rsplit(".", 1)[0])
    return version.bpmn_xml.encode("utf-8") if version else shipped_diagrams()[file_name]


def _users(file_name: str, decisions: dict[str, bytes]) -> tuple[str, ...]:
    """The process files whose published version calls the table."""
    ids = decision_ids(decisions[file_name])
    return tuple(name for name in shipped_diagrams() if ids & called_decisions(current_text(name)))


def design_files() -> list[DesignFile]:
    drafts = {d.file_name: d for d in db.session.scalars(select(ProcessDraft))}
    decisions = current_decisions()
    files = []
    for file_name in shipped_diagrams():
        version = newest_version(file_name.rsplit(".", 1)[0])
        files.append(DesignFile(file_name, "bpmn", version.name if version else file_name, version,
                                drafts.get(file_name)))
    for file_name, xml in decisions.items():
        files.append(DesignFile(file_name, "dmn", "、".join(sorted(decision_ids(xml))), None, drafts.get(file_name),
                                _users(file_name, decisions)))
    return files


def open_draft(file_name: str) -> tuple[bytes, int, ProcessDraft | None]:
    """The text to edit (the draft, or what new cases run now) and the revision to save against
    (0 when there is no draft yet)."""
    draft = db.session.scalar(select(ProcessDraft).where(ProcessDraft.file_name == _check_name(file_name)))
    if draft is not None:
        return draft.xml.encode("utf-8"), draft.revision, draft
    return current_text(file_name), 0, None


def _draft_at(file_name: str, revision: int) -> ProcessDraft | None:
    """The draft, checked to be at ``revision`` (0: there must be none yet); locked for the update."""
    draft = db.session.scalar(select(ProcessDraft).where(ProcessDraft.file_name == file_name).with_for_update())
    current = draft.revision if draft is not None else 0
    if current != revision:
        who = (draft.updated_by.first_name or draft.updated_by.username) if draft and draft.updated_by else "?"
        raise DraftConflictError(who=who, when=f"{draft.updated_at:%Y-%m-%d %H:%M}" if draft else "?")
    return draft


def _well_formed(file_name: str, xml: bytes) -> None:
    """A draft must at least be XML the portal reads (through its one door): no DOCTYPE, well-formed."""
    from portal.bpmn.xmlsafe import parse_xml
    from portal.services.processes import shown
    root, problems = parse_xml(file_name, xml)
    if root is None:
        raise DiagramInvalidError([(f, line, element, shown(message)) for f, line, element, message in problems])


@transaction
def save_draft(user, file_name: str, xml: bytes, base_revision: int) -> ProcessDraft:
    """Save the administrator's working copy; refused when someone saved it since ``base_revision``."""
    _check_name(file_name)
    if not xml.strip():
        raise ValidationFailed(_l("The diagram is empty."))
    _well_formed(file_name, xml)
    if file_name.endswith(".bpmn"):
        xml = from_camunda(xml)  # drawn in Camunda Modeler 7: its form keys as the portal reads them
    from portal.services.locks import lock_name
    lock_name(f"draft:{file_name}")
    draft = _draft_at(file_name, base_revision)
    now = utcnow()
    if draft is None:
        version = newest_version(file_name.rsplit(".", 1)[0]) if file_name.endswith(".bpmn") else None
        draft = ProcessDraft(file_name=file_name, revision=0, based_on_version_id=version.id if version else None)
        db.session.add(draft)
    draft.xml, draft.revision = xml.decode("utf-8"), draft.revision + 1
    draft.updated_by_id, draft.updated_at = getattr(user, "id", None), now
    db.session.flush()
    audit("process.draft_save", user=user, file=file_name, revision=draft.revision)
    return draft


@transaction
def discard_draft(user, file_name: str, revision: int) -> None:
    from portal.services.locks import lock_name
    lock_name(f"draft:{_check_name(file_name)}")
    draft = _draft_at(file_name, revision)
    if draft is not None:
        db.session.delete(draft)
        audit("process.draft_discard", user=user, file=file_name, revision=revision)


@transaction
def publish_draft(user, file_name: str, revision: int, reason: str, allow_scripts: bool = False
                  ) -> list[ProcessVersion]:
    """Publish the draft saved at ``revision`` with the administrator's reason: a process draft
    becomes its process's next version; a table draft, the next version of every process calling
    it. All checks first; refused (DiagramInvalidError), nothing is saved and the draft stays."""
    from portal.services.locks import lock_name
    from portal.services.processes import publish_checked
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(_l("Say why this version is published (it is kept with the version)."),
                               field="reason")
    lock_name(f"draft:{_check_name(file_name)}")
    draft = _draft_at(file_name, revision)
    if draft is None:
        raise ValidationFailed(_l("There is no saved draft to publish; save the diagram first."))
    xml = draft.xml.encode("utf-8")
    decisions = current_decisions()
    if file_name.endswith(".dmn"):
        decisions[file_name] = xml
        targets = {name: current_text(name) for name in _users(file_name, decisions)}
        if not targets:
            raise ValidationFailed(_l("No process calls this decision table; nothing to publish."))
    else:
        targets = {file_name: xml}
    published = []
    for target, text in targets.items():
        version = publish_checked(user, target, text, decisions, allow_scripts=allow_scripts)
        if version is not None:
            version.reason, version.published_by_id = reason, getattr(user, "id", None)
            published.append(version)
    if not published:
        raise ValidationFailed(_l("The draft is the same as the published version; nothing to publish."))
    db.session.delete(draft)
    audit("process.publish_draft", user=user, file=file_name, revision=revision, reason=reason,
          versions=[f"{v.process_id} v{v.version}" for v in published])
    return published


def versions_of(process_id: str) -> list[ProcessVersion]:
    return list(db.session.scalars(select(ProcessVersion).where(ProcessVersion.process_id == process_id)
                                   .order_by(ProcessVersion.version.desc())))


def version(version_id: int) -> ProcessVersion:
    found = db.session.get(ProcessVersion, version_id)
    if found is None:
        raise UnknownFileError()
    return found


@transaction
def roll_back(user, version_id: int, reason: str) -> ProcessVersion:
    """Withdraw a published version (and any newer one) for new cases: they start on the newest
    version left. Running cases stay on the version they run. Returns the version new cases get."""
    target = version(version_id)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(_l("Say why the version is rolled back."), field="reason")
    if target.status != ProcessStatus.PUBLISHED:
        raise ValidationFailed(_l("Only a published version can be rolled back."))
    older = db.session.scalars(select(ProcessVersion).where(
        ProcessVersion.process_id == target.process_id, ProcessVersion.status == ProcessStatus.PUBLISHED,
        ProcessVersion.version < target.version).order_by(ProcessVersion.version.desc()).limit(1)).first()
    if older is None:
        raise ValidationFailed(_l("This is the first published version: there is no older one for new cases."))
    withdrawn = list(db.session.scalars(select(ProcessVersion).where(
        ProcessVersion.process_id == target.process_id, ProcessVersion.status == ProcessStatus.PUBLISHED,
        ProcessVersion.version >= target.version)))
    for v in withdrawn:
        v.status = ProcessStatus.ROLLED_BACK
        v.reason = f"{v.reason or ''}\n{reason}".strip()
    audit("process.rollback", user=user, process_id=target.process_id,
          versions=[v.version for v in withdrawn], now_current=older.version, reason=reason)
    return older


# What can differ in an element between two versions (portal.bpmn.diagrams names them in English).
ASPECT_LABELS = {"type": _l("type"), "name": _l("name"), "connections or settings": _l("connections or settings"),
                 "properties": _l("properties"), "condition": _l("condition"), "timer": _l("timer"),
                 "lane members": _l("lane members"), "decision table": _l("decision table"),
                 "instructions": _l("instructions")}


@dataclass(frozen=True)
class VersionDiff:
    old: ProcessVersion
    new: ProcessVersion
    added: list[tuple[str, str]]     # (element id, name)
    removed: list[tuple[str, str]]
    changed: list[tuple[str, str, list[str]]]  # (element id, name, what changed)


def compare(old_id: int, new_id: int) -> VersionDiff:
    old, new = version(old_id), version(new_id)
    if old.process_id != new.process_id:
        raise ValidationFailed(_l("Compare two versions of the same process."))
    diff = diagram_diff(old.bpmn_xml.encode("utf-8"), new.bpmn_xml.encode("utf-8"))
    return VersionDiff(old, new, diff.added, diff.removed, diff.changed)


def check_text(file_name: str, xml: bytes, allow_scripts: bool = False) -> list[tuple[str, int | None, str, str]]:
    """Every problem publishing this text would meet (all of them), without saving anything."""
    from portal.services.processes import validate_upload
    _check_name(file_name)
    decisions = current_decisions()
    if not file_name.endswith(".dmn"):
        return validate_upload(file_name, xml, decisions, allow_scripts)
    decisions[file_name] = xml
    problems = []
    # the table is checked (and probed) with the processes that call it, or with any one if none does
    for name in _users(file_name, decisions) or list(shipped_diagrams())[:1]:
        found = validate_upload(name, current_text(name), decisions, allow_scripts)
        problems += [p for p in found if p not in problems]
    return problems
