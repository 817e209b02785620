"""Settings administrators keep: deadline rules per dispute type and complexity, and calendar days."""
from __future__ import annotations

from flask_appbuilder import Model
from sqlalchemy import Boolean, Column, Date, ForeignKey, Index, Integer, String, UniqueConstraint, text
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


class CalendarDay(Model):
    """A day whose status the center sets by hand: a holiday or a make-up workday the package lacks."""

    __tablename__ = "calendar_day"
    id = Column(Integer, primary_key=True)
    day = Column(Date, nullable=False, unique=True)
    is_workday = Column(Boolean, nullable=False, default=False)
    note = Column(String(200), nullable=True)

    def __repr__(self) -> str:
        return f"{self.day} {'workday' if self.is_workday else 'rest day'}"
