"""The county as data: org units, the dispute taxonomy, users and the lane-role table."""
from __future__ import annotations

import enum

from flask_appbuilder import Model
from flask_appbuilder.security.sqla.models import User
from flask_babel import lazy_gettext as _l
from sqlalchemy import Column, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import relationship

from portal.models.base import enum_column_type


class OrgKind(enum.Enum):
    COUNTY = "county"
    CENTER = "center"            # the county 矛调中心 itself
    TOWNSHIP = "township"
    VILLAGE = "village"
    GRID = "grid"
    DEPARTMENT = "department"    # stationed departments
    COMMITTEE = "committee"      # mediation committees (village and industry)
    STUDIO = "studio"            # named mediation studios

    @property
    def label(self):
        return ORG_KIND_LABELS[self]


ORG_KIND_LABELS = {
    OrgKind.COUNTY: _l("County"), OrgKind.CENTER: _l("Mediation center"),
    OrgKind.TOWNSHIP: _l("Township"), OrgKind.VILLAGE: _l("Village"), OrgKind.GRID: _l("Grid"),
    OrgKind.DEPARTMENT: _l("Department"), OrgKind.COMMITTEE: _l("Mediation committee"),
    OrgKind.STUDIO: _l("Mediation studio"),
}


class StationMode(enum.Enum):
    PERMANENT = "permanent"   # 常驻
    ROTATION = "rotation"     # 轮驻
    ON_CALL = "on_call"       # 随叫随驻


class OrgUnit(Model):
    """A node of the county tree. ``path`` ("/1/5/37/") makes subtree scoping one LIKE."""

    __tablename__ = "org_unit"
    id = Column(Integer, primary_key=True)
    code = Column(String(32), nullable=False, unique=True)
    name = Column(String(100), nullable=False)
    kind = Column(enum_column_type(OrgKind), nullable=False, index=True)
    parent_id = Column(Integer, ForeignKey("org_unit.id"), nullable=True)
    path = Column(String(255), nullable=False, default="/", index=True)
    station_mode = Column(enum_column_type(StationMode), nullable=True)
    parent = relationship("OrgUnit", remote_side=[id])

    def contains(self, other: "OrgUnit | None") -> bool:
        """True when ``other`` is this unit or lies below it."""
        return other is not None and other.path.startswith(self.path)

    def __repr__(self) -> str:
        return self.name


class DisputeType(Model):
    """Two-level dispute taxonomy (domain.md §4.3 d): level 1 has no parent."""

    __tablename__ = "dispute_type"
    id = Column(Integer, primary_key=True)
    code = Column(String(16), nullable=False, unique=True)
    name = Column(String(100), nullable=False)
    parent_id = Column(Integer, ForeignKey("dispute_type.id"), nullable=True)
    retention = Column(String(20), nullable=True)  # 保管期限 of its dossiers; empty: the county's default
    parent = relationship("DisputeType", remote_side=[id])

    def __repr__(self) -> str:
        return f"{self.parent.name}/{self.name}" if self.parent else self.name


class PortalUser(User):
    """FAB's user plus the org unit the person works in."""

    __tablename__ = "ab_user"
    org_unit_id = Column(Integer, ForeignKey("org_unit.id"), nullable=True)
    org_unit = relationship(OrgUnit, lazy="joined")  # every permission check needs it

    @property
    def role_names(self) -> set[str]:
        return {r.name for r in self.roles}


class LaneRole(Model):
    """Which roles may work the user tasks of a BPMN lane (lane = the lane's name)."""

    __tablename__ = "lane_role"
    __table_args__ = (UniqueConstraint("lane", "role_name"),)
    id = Column(Integer, primary_key=True)
    lane = Column(String(100), nullable=False, index=True)
    role_name = Column(String(64), nullable=False)


# The tables whose rows say who someone is and what they may do, the county's reference lists that
# every form offers (its units, the dispute types), and what every deadline is worked out from (the
# deadline rules, the calendar days). Database triggers (see the migrations that create
# ``security_version`` and add the later tables) raise the version on every change to any of them.
SECURITY_TABLES = ("ab_user", "ab_role", "ab_user_role", "ab_group", "ab_user_group", "ab_group_role",
                   "ab_permission", "ab_view_menu", "ab_permission_view", "ab_permission_view_role",
                   "lane_role", "org_unit", "dispute_type", "deadline_rule", "calendar_day")


class SecurityVersion(Model):
    """One row whose number every change to a security table raises, in the changing transaction
    (by database triggers, whoever writes: a page, a command, another app server, psql). An app server
    keeps the users and permission answers it has read while the number it reads stays the same."""

    __tablename__ = "security_version"
    id = Column(Integer, primary_key=True)
    version = Column(Integer, nullable=False)
