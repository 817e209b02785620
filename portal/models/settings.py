"""Settings administrators keep: deadline rules per dispute type and complexity, and calendar days."""
from __future__ import annotations

import enum

from flask_appbuilder import Model
from flask_babel import lazy_gettext as _l
from sqlalchemy import Boolean, Column, Date, DateTime, ForeignKey, Index, Integer, String, UniqueConstraint, text
from sqlalchemy.orm import relationship

from portal.models.base import enum_column_type
from portal.models.case import Complexity
from portal.workdays import DayUnit


class DeadlineRule(Model):
    """How long a case of a complexity tier may take, for one dispute type (or for all: no type).

    The most specific rule wins: the case's own type, then its level-1 type, then the county default.
    """

    __tablename__ = "deadline_rule"
    __table_args__ = (
        UniqueConstraint("dispute_type_id", "complexity"),
        # NULLs are distinct in a unique constraint: one county default per tier needs its own index.
        Index("ux_deadline_rule_default", "complexity", unique=True,
              sqlite_where=text("dispute_type_id IS NULL"), postgresql_where=text("dispute_type_id IS NULL")),
    )
    id = Column(Integer, primary_key=True)
    dispute_type_id = Column(Integer, ForeignKey("dispute_type.id"), nullable=True)
    complexity = Column(enum_column_type(Complexity), nullable=False)
    days = Column(Integer, nullable=False)
    unit = Column(enum_column_type(DayUnit), nullable=False, default=DayUnit.CALENDAR)
    note = Column(String(200), nullable=True)
    dispute_type = relationship("DisputeType")

    def __repr__(self) -> str:
        return f"{self.dispute_type or '*'} {self.complexity.value} {self.days} {self.unit.value}"


class CardLevel(enum.Enum):
    NORMAL = "normal"   # 普通督办: the deadline is near
    YELLOW = "yellow"   # 黄牌督办: the deadline has passed
    RED = "red"         # 红牌督办: far past the deadline

    @property
    def label(self):
        return {CardLevel.NORMAL: _l("Ordinary supervision"), CardLevel.YELLOW: _l("Yellow card"),
                CardLevel.RED: _l("Red card")}[self]


class SupervisionRule(Model):
    """When a card of a level is raised automatically: hours after the case deadline (negative: before)."""

    __tablename__ = "supervision_rule"
    id = Column(Integer, primary_key=True)
    level = Column(enum_column_type(CardLevel), nullable=False, unique=True)
    offset_hours = Column(Integer, nullable=False)
    note = Column(String(200), nullable=True)

    def __repr__(self) -> str:
        return f"{self.level.value} {self.offset_hours:+d}h"


class SupervisionCard(Model):
    """A 督办卡 raised on a case, automatically by its deadline or by hand; answered by the unit's leader."""

    __tablename__ = "supervision_card"
    __table_args__ = (UniqueConstraint("case_id", "level", "deadline_at"),)
    id = Column(Integer, primary_key=True)
    case_id = Column(Integer, ForeignKey("mediation_case.id"), nullable=False, index=True)
    level = Column(enum_column_type(CardLevel), nullable=False)
    reason = Column(String(500), nullable=False)
    deadline_at = Column(DateTime, nullable=True)  # the case deadline the card is about
    raised_at = Column(DateTime, nullable=False)
    raised_by_id = Column(Integer, ForeignKey("ab_user.id"), nullable=True)  # None: raised by the worker
    work_item_id = Column(Integer, ForeignKey("work_item.id"), nullable=False)
    work_item = relationship("WorkItem")
    raised_by = relationship("PortalUser")


class CalendarDay(Model):
    """A day whose status the center sets by hand: a holiday or a make-up workday the package lacks."""

    __tablename__ = "calendar_day"
    id = Column(Integer, primary_key=True)
    day = Column(Date, nullable=False, unique=True)
    is_workday = Column(Boolean, nullable=False, default=False)
    note = Column(String(200), nullable=True)

    def __repr__(self) -> str:
        return f"{self.day} {'workday' if self.is_workday else 'rest day'}"


class RequestStatus(enum.Enum):
    PENDING = "pending"
    APPROVED = "approved"
    REFUSED = "refused"


class ExtensionRequest(Model):
    """延期申请: the lead unit asks for more days; the director decides."""

    __tablename__ = "extension_request"
    id = Column(Integer, primary_key=True)
    case_id = Column(Integer, ForeignKey("mediation_case.id"), nullable=False, index=True)
    days = Column(Integer, nullable=False)
    reason = Column(String(500), nullable=False)
    status = Column(enum_column_type(RequestStatus), nullable=False, default=RequestStatus.PENDING)
    requested_at = Column(DateTime, nullable=False)
    requested_by_id = Column(Integer, ForeignKey("ab_user.id"), nullable=False)
    decided_at = Column(DateTime, nullable=True)
    decided_by_id = Column(Integer, ForeignKey("ab_user.id"), nullable=True)
    decision_note = Column(String(500), nullable=True)
    old_due_at = Column(DateTime, nullable=True)
    new_due_at = Column(DateTime, nullable=True)
    work_item_id = Column(Integer, ForeignKey("work_item.id"), nullable=False)
    requested_by = relationship("PortalUser", foreign_keys=[requested_by_id])
    decided_by = relationship("PortalUser", foreign_keys=[decided_by_id])


class PauseReason(enum.Enum):
    APPRAISAL = "appraisal"          # 鉴定、评估
    WAITING_PARTY = "waiting_party"  # 等待当事人（外出务工、住院等）
    OTHER = "other"

    @property
    def label(self):
        return {PauseReason.APPRAISAL: _l("Appraisal or assessment"),
                PauseReason.WAITING_PARTY: _l("Waiting for a party"),
                PauseReason.OTHER: _l("Other lawful reason")}[self]


class DeadlinePause(Model):
    """A lawful stop of a case's clock (鉴定期间、等待当事人): the time paused is added to the deadline."""

    __tablename__ = "deadline_pause"
    id = Column(Integer, primary_key=True)
    case_id = Column(Integer, ForeignKey("mediation_case.id"), nullable=False, index=True)
    reason = Column(enum_column_type(PauseReason), nullable=False)
    note = Column(String(500), nullable=False)
    started_at = Column(DateTime, nullable=False)
    started_by_id = Column(Integer, ForeignKey("ab_user.id"), nullable=False)
    ended_at = Column(DateTime, nullable=True)
    ended_by_id = Column(Integer, ForeignKey("ab_user.id"), nullable=True)
    started_by = relationship("PortalUser", foreign_keys=[started_by_id])


class PortalSetting(Model):
    """A value an administrator sets (the judicial-aid wage base, the offices of the assistance
    processes, …); ``portal.services.settings`` knows each key, its type and its default."""

    __tablename__ = "portal_setting"
    key = Column(String(64), primary_key=True)
    value = Column(String(200), nullable=False)
    updated_at = Column(DateTime, nullable=True)
    updated_by_id = Column(Integer, ForeignKey("ab_user.id"), nullable=True)

    def __repr__(self) -> str:
        return f"{self.key}={self.value}"
