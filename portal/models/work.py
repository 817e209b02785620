"""Work items (the ready user tasks, projected), process versions and the audit log."""
from __future__ import annotations

import enum

from flask_appbuilder import Model
from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    event,
    literal,
    text,
)
from sqlalchemy.orm import relationship

from portal.models.base import enum_column_type


class WorkItemKind(enum.Enum):
    TASK = "task"    # a BPMN user task of the case's workflow
    CARD = "card"    # a supervision card (督办卡) to a unit's leader, outside the workflow
    APPROVAL = "approval"  # a request (延期) awaiting the director's decision, outside the workflow
    DELIVERY = "delivery"  # a document not opened when served electronically, to be served on paper


class WorkItemStatus(enum.Enum):
    OPEN = "open"
    DONE = "done"
    CANCELLED = "cancelled"


class WorkItem(Model):
    """A user task of a case's workflow, as worklists see it (no workflow is loaded to list them)."""

    __tablename__ = "work_item"
    __table_args__ = (
        # a worklist: the open steps of the user's lanes, soonest deadline first, read in that order a page
        # at a time (the id orders steps of the same moment, as a bulk import makes many)
        Index("ix_work_item_open_lane_due", "status", "lane", "due_at", "created_at", "id"),
        Index("ix_work_item_case_status", "case_id", "status"),
        # the process heat map: what waits at each step (and since when, until when), how long the done ones took
        Index("ix_work_item_status_step", "status", "bpmn_id", "due_at"),
        Index("ix_work_item_status_due_created", "status", "due_at", "created_at", "id"),  # several lanes at once
        Index("ix_work_item_status_completed", "status", "completed_at"),
        Index("ix_work_item_kind_created", "kind", "created_at", "status"),  # the figures: cards raised, open
        # the heat map: what waits at each step now; the steps done that the dwell rollup has not taken
        # yet; the steps done in one dwell bucket of a period (the exact 90th percentile)
        # the worker's outbox: the steps whose unit has not been told yet (a handful among all steps)
        Index("ix_work_item_not_notified", "id", sqlite_where=text("notified IS 0"),
              postgresql_where=text("notified IS false")),
        Index("ix_work_item_open_task_step", "bpmn_id", "due_at", "branch_id",
              sqlite_where=text("status = 'open' AND kind = 'task'"),
              postgresql_where=text("status = 'open' AND kind = 'task'")),
        Index("ix_work_item_done_unbucketed", "completed_at",
              sqlite_where=text("status = 'done' AND kind = 'task' AND dwell_bucket IS NULL"),
              postgresql_where=text("status = 'done' AND kind = 'task' AND dwell_bucket IS NULL")),
        Index("ix_work_item_step_bucket", "bpmn_id", "dwell_bucket", "completed_at", "created_at", "branch_id",
              sqlite_where=text("dwell_bucket IS NOT NULL"), postgresql_where=text("dwell_bucket IS NOT NULL")),
        # A looped step runs again under its first run's task id: one OPEN item per task at a time.
        Index("ux_work_item_open_task", "task_id", unique=True, sqlite_where=text("status = 'open'"),
              postgresql_where=text("status = 'open'")),
    )
    id = Column(Integer, primary_key=True)
    case_id = Column(Integer, ForeignKey("mediation_case.id"), nullable=False)  # indexed with status
    task_id = Column(String(36), nullable=False)  # the engine's (random): found by case, never by itself
    bpmn_id = Column(String(64), nullable=False)
    name = Column(String(100), nullable=False)
    lane = Column(String(100), nullable=True)
    form_key = Column(String(64), nullable=False)
    kind = Column(enum_column_type(WorkItemKind), nullable=False, default=WorkItemKind.TASK)
    org_unit_id = Column(Integer, ForeignKey("org_unit.id"), nullable=True, index=True)
    status = Column(enum_column_type(WorkItemStatus), nullable=False, default=WorkItemStatus.OPEN)
    created_at = Column(DateTime, nullable=False)
    due_at = Column(DateTime, nullable=True)
    completed_at = Column(DateTime, nullable=True)
    completed_by_id = Column(Integer, ForeignKey("ab_user.id"), nullable=True, index=True)
    result = Column(Text, nullable=True)  # JSON of what the form recorded
    form_defaults = Column(Text, nullable=True)  # JSON: values the form opens with (rule proposals)
    claimed_by_id = Column(Integer, ForeignKey("ab_user.id"), nullable=True, index=True)  # who in the unit has it
    claimed_at = Column(DateTime, nullable=True)
    notified = Column(Boolean, nullable=False, default=False, server_default="0")  # outbox: worker tells the unit
    branch_id = Column(Integer, ForeignKey("case_branch.id"), nullable=True, index=True)  # a step of a branch
    # a done task's dwell-time bucket, stamped by the worker when it adds the step to the day sums
    # (``portal.services.dwell``); NULL: not taken yet (the heat map reads it from the item itself)
    dwell_bucket = Column(Integer, nullable=True)

    # For reading: the services write the ids (a writable relationship costs every flush of an item,
    # and each step flushes two of them).
    case = relationship("Case", viewonly=True)
    branch = relationship("Branch", viewonly=True)
    org_unit = relationship("OrgUnit", viewonly=True)
    completed_by = relationship("PortalUser", foreign_keys=[completed_by_id], viewonly=True)
    claimed_by = relationship("PortalUser", foreign_keys=[claimed_by_id], viewonly=True)

    def can_be_done_by(self, user, lanes: set[str]) -> bool:
        """The user works the item's lane, and the item's unit is the user's unit or lies below it."""
        if self.lane not in lanes:
            return False
        if self.org_unit is None:
            return True
        return user.org_unit is not None and user.org_unit.contains(self.org_unit)


# "Open" written into the statement, not bound: SQLite compares a bound status with the partial indexes'
# ``status = 'open'`` when it plans, and so plans the statement again at every execution (a case's open
# items: 0.07-0.11 ms bound, 0.015 ms inline).
OPEN_INLINE = literal(WorkItemStatus.OPEN, WorkItem.status.type, literal_execute=True)


class ProcessStatus(enum.Enum):
    DRAFT = "draft"
    PUBLISHED = "published"
    ROLLED_BACK = "rolled_back"  # withdrawn for new cases; the cases running on it stay on it


class ProcessVersion(Model):
    """One version of a process: its BPMN text and its spec, stored once for all its cases."""

    __tablename__ = "process_version"
    __table_args__ = (UniqueConstraint("process_id", "version"),)
    id = Column(Integer, primary_key=True)
    process_id = Column(String(64), nullable=False)
    version = Column(Integer, nullable=False)
    name = Column(String(200), nullable=False)
    status = Column(enum_column_type(ProcessStatus), nullable=False)
    checksum = Column(String(64), nullable=False)
    bpmn_xml = Column(Text, nullable=False)
    decision_files = Column(Text, nullable=True)  # JSON {file name: DMN text} the diagram calls
    spec_json = Column(Text, nullable=False)
    created_at = Column(DateTime, nullable=False)
    published_by_id = Column(Integer, ForeignKey("ab_user.id"), nullable=True)  # None: shipped with the portal
    reason = Column(Text, nullable=True)  # why it was published (or rolled back)
    published_by = relationship("PortalUser")


class ProcessDraft(Model):
    """An administrator's working copy of one diagram file (a .bpmn process or a .dmn table), saved as
    often as they like; ``revision`` rises on each save, and a save or publish made on an older
    revision is refused (two administrators must not silently overwrite each other)."""

    __tablename__ = "process_draft"
    id = Column(Integer, primary_key=True)
    file_name = Column(String(100), nullable=False, unique=True)
    xml = Column(Text, nullable=False)
    revision = Column(Integer, nullable=False, default=1)
    based_on_version_id = Column(Integer, ForeignKey("process_version.id"), nullable=True)
    updated_by_id = Column(Integer, ForeignKey("ab_user.id"), nullable=True)
    updated_at = Column(DateTime, nullable=False)
    updated_by = relationship("PortalUser")


class AuditEvent(Model):
    """Append-only record of every action. Rows are never updated or deleted."""

    __tablename__ = "audit_event"
    id = Column(Integer, primary_key=True)
    at = Column(DateTime, nullable=False, index=True)
    user_id = Column(Integer, ForeignKey("ab_user.id"), nullable=True)
    username = Column(String(100), nullable=True)
    action = Column(String(64), nullable=False, index=True)
    case_id = Column(Integer, ForeignKey("mediation_case.id"), nullable=True, index=True)
    work_item_id = Column(Integer, ForeignKey("work_item.id"), nullable=True)
    detail = Column(Text, nullable=True)  # JSON
    remote_addr = Column(String(64), nullable=True)
    user = relationship("PortalUser")


class AuditLogImmutableError(RuntimeError):
    """Something tried to change or delete an audit row."""


@event.listens_for(AuditEvent, "before_update")
@event.listens_for(AuditEvent, "before_delete")
def _refuse_audit_change(mapper, connection, target):  # noqa: ARG001
    raise AuditLogImmutableError("audit events are append-only")

