"""Form definitions: the forms administrators define for new steps (add, change, delete), and where the
published processes use them. What a definition may hold is checked in ``portal.services.formspecs``."""
from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from lxml import etree
from sqlalchemy import func, select
from sqlalchemy.orm.exc import StaleDataError

from portal.clock import utcnow
from portal.extensions import db
from portal.models import FormDefinition, ProcessStatus, ProcessVersion, WorkItem
from portal.services._tx import transaction
from portal.services.audit import audit
from portal.services.errors import DomainError
from portal.services.formspecs import (
    DefinitionInvalidError,
    FormSpec,
    check_definition,
    clean_values,
    fields_json,
    spec_from_row,
)

# The forms of the work items that live beside the workflow (supervision cards, extension decisions).
SIDE_FORM_KEYS = frozenset({"supervision_card", "extension_decision", "paper_delivery"})


class FormNotFoundError(DomainError):
    status_code = 404
    message = _l("There is no form with that key.")


class FormChangedError(DomainError):
    status_code = 409
    message = _l("Someone else changed this form since you opened it; nothing was saved. "
                 "Reload the form and make your changes again.")


class FormInUseError(DomainError):
    status_code = 409
    message = _l("The form %(key)s is used by the published process %(process)s (version %(version)s, "
                 "step %(step)s); it cannot be deleted.")


class FormHasRecordsError(DomainError):
    status_code = 409
    message = _l("Steps of %(n)s case(s) were done or are open with the form %(key)s: their records need it, "
                 "so it cannot be deleted.")


@dataclass
class DefinitionDraft:
    """What the editor sends: the fields as JSON (a list of objects: name, label, type, required, choices,
    help, min, max, max_length)."""

    key: str
    title: str
    description: str
    fields: str


@dataclass(frozen=True)
class FormUse:
    process_id: str
    process_name: str
    version: int
    step_id: str
    step_name: str


def shipped_form_keys() -> set[str]:
    """The keys of the forms the portal ships (a defined form may not take one)."""
    from portal.services.aid import BRANCH_STEPS
    from portal.services.steps import STEPS
    return set(STEPS) | set(BRANCH_STEPS) | SIDE_FORM_KEYS


def definitions() -> list[FormDefinition]:
    return list(db.session.scalars(select(FormDefinition).order_by(FormDefinition.key)))


def definition_for(key: str) -> FormDefinition | None:
    return db.session.scalar(select(FormDefinition).where(FormDefinition.key == key))


def defined_keys() -> set[str]:
    return set(db.session.scalars(select(FormDefinition.key)))


def spec_of(definition: FormDefinition) -> FormSpec:
    return spec_from_row(definition.key, definition.title, definition.description, definition.fields)


def definition_or_404(key: str) -> FormDefinition:
    definition = definition_for(key)
    if definition is None:
        raise FormNotFoundError()
    return definition


_PARSER = etree.XMLParser(resolve_entities=False, no_network=True)
_TASKS_WITH_KEY = etree.XPath("//*[local-name()='property'][@name='formKey'][@value=$key]"
                              "/ancestor::*[local-name()='userTask'][1]")


def uses_of(key: str) -> list[FormUse]:
    """The steps of published process versions whose form is ``key``."""
    versions = db.session.scalars(select(ProcessVersion).where(
        ProcessVersion.status == ProcessStatus.PUBLISHED, ProcessVersion.bpmn_xml.contains(key))
        .order_by(ProcessVersion.process_id, ProcessVersion.version))
    uses = []
    for version in versions:
        root = etree.fromstring(version.bpmn_xml.encode("utf-8"), _PARSER)
        uses += [FormUse(version.process_id, version.name, version.version, task.get("id"),
                         task.get("name") or task.get("id")) for task in _TASKS_WITH_KEY(root, key=key)]
    return uses


@transaction
def add_definition(user, draft: DefinitionDraft) -> FormDefinition:
    """Store a new form; refused (DefinitionInvalidError listing every problem, nothing saved) when the
    definition does not hold together or its key is taken."""
    spec = check_definition(draft.key, draft.title, draft.description, draft.fields, shipped_form_keys())
    if definition_for(spec.key) is not None:
        raise DefinitionInvalidError([_l("A form with the key %(key)s exists already.", key=spec.key)])
    now = utcnow()
    definition = FormDefinition(key=spec.key, title=spec.title, description=spec.description or None,
                                fields=fields_json(spec.fields), created_at=now, created_by_id=user.id,
                                updated_at=now, updated_by_id=user.id)
    db.session.add(definition)
    db.session.flush()
    audit("form.add", user=user, key=spec.key, fields=[f.name for f in spec.fields])
    return definition


@transaction
def update_definition(user, key: str, draft: DefinitionDraft, lock_version) -> FormDefinition:
    """Change a form's title, description and fields (its key stays: diagrams name it). Refused with
    FormChangedError when someone saved it after ``lock_version`` was read; nothing is saved then."""
    definition = definition_or_404(key)
    if str(definition.lock_version) != str(lock_version).strip():
        raise FormChangedError()
    spec = check_definition(key, draft.title, draft.description, draft.fields,
                            shipped_form_keys() - {key})
    before = [f.name for f in spec_of(definition).fields]
    definition.title, definition.description = spec.title, spec.description or None
    definition.fields = fields_json(spec.fields)
    definition.updated_at, definition.updated_by_id = utcnow(), user.id
    try:
        db.session.flush()
    except StaleDataError:
        raise FormChangedError() from None
    audit("form.edit", user=user, key=key, fields=[f.name for f in spec.fields], before=before)
    return definition


@transaction
def delete_definition(user, key: str) -> None:
    """Delete a form that no published process version uses (FormInUseError names the first use) and no
    case's step has used (its record is shown with the form's labels)."""
    definition = definition_or_404(key)
    uses = uses_of(key)
    if uses:
        use = uses[0]
        raise FormInUseError(key=key, process=use.process_name, version=use.version, step=use.step_name)
    cases = db.session.scalar(select(func.count(func.distinct(WorkItem.case_id))).where(WorkItem.form_key == key))
    if cases:
        raise FormHasRecordsError(key=key, n=cases)
    db.session.delete(definition)
    db.session.flush()
    audit("form.delete", user=user, key=key)


def try_values(key: str, data: dict) -> dict:
    """What a step of the form would give the workflow for ``data`` (the preview; nothing is saved), or
    ValidationFailed naming the field."""
    return clean_values(spec_of(definition_or_404(key)), dict(data))
