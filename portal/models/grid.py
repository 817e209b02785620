"""A grid member's report from the scene (流动调): which case it became, where it was made, how it ended."""
from __future__ import annotations

from flask_appbuilder import Model
from flask_babel import lazy_gettext as _l
from sqlalchemy import Column, DateTime, Float, ForeignKey, Integer, UniqueConstraint
from sqlalchemy.orm import relationship

from portal.models.base import enum_column_type
from portal.models.case import LabelledEnum


class GridOutcome(LabelledEnum):
    """What the grid member chose at the scene."""

    TO_TOWNSHIP = "to_township"    # 上报乡镇: the township accepts and handles it
    ON_THE_SPOT = "on_the_spot"    # 就地化解: settled and performed at the scene, the case closed

    @staticmethod
    def LABELS():
        G = GridOutcome
        return {G.TO_TOWNSHIP: _l("Reported to the township"), G.ON_THE_SPOT: _l("Resolved on the spot")}


class GridReport(Model):
    """One report: the case it registered, the grid member and grid, and the browser's position if it
    gave one (WGS 84 degrees, accuracy in metres)."""

    __tablename__ = "grid_report"
    __table_args__ = (UniqueConstraint("case_id", name="uq_grid_report_case"),)
    id = Column(Integer, primary_key=True)
    case_id = Column(Integer, ForeignKey("mediation_case.id", name="fk_grid_report_case"), nullable=False)
    reporter_id = Column(Integer, ForeignKey("ab_user.id", name="fk_grid_report_reporter"), nullable=False,
                         index=True)
    grid_id = Column(Integer, ForeignKey("org_unit.id", name="fk_grid_report_grid"), nullable=False, index=True)
    outcome = Column(enum_column_type(GridOutcome), nullable=False)
    latitude = Column(Float, nullable=True)
    longitude = Column(Float, nullable=True)
    accuracy_m = Column(Float, nullable=True)
    reported_at = Column(DateTime, nullable=False)

    case = relationship("Case")
    reporter = relationship("PortalUser")
    grid = relationship("OrgUnit")
