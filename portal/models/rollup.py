"""What the figures are summed from: each case's part in them (``CaseFigures``), their sums per local
day (``FigureDay``), the steps done per day and dwell-time bucket (``StepDwellDay``), and how far the
worker has brought them (``RollupMark``). Derived data: the worker rebuilds it from the cases and
their work items (``portal.services.rollups``); nothing else writes it."""
from __future__ import annotations

from flask_appbuilder import Model
from sqlalchemy import Column, Date, DateTime, Float, ForeignKey, Integer, String

# A case's part in the figures summed by day: the figure's key for a count or the rows of a rate
# (0 or 1), ``<key>_hits`` a rate's numerator, ``<key>_sum`` what an average adds up. The registration
# figure counts on the day the case was registered, the others on the day it was closed.
MEASURES = ("received", "resolved", "mediation_success", "mediation_success_hits", "pre_suit_success",
            "pre_suit_success_hits", "resolved_village", "resolved_village_hits", "resolved_township",
            "resolved_township_hits", "resolved_county", "resolved_county_hits", "days_to_resolve",
            "on_time", "on_time_hits", "satisfaction", "satisfaction_hits", "agreed")
SUMS = ("days_to_resolve_sum",)


def _measures(namespace: dict) -> None:
    for name in MEASURES:
        namespace[name] = Column(Integer, nullable=False, default=0)
    for name in SUMS:
        namespace[name] = Column(Float, nullable=False, default=0.0)


class CaseFigures(Model):
    """One case as the day sums last counted it (to take it out again when it changes)."""

    __tablename__ = "case_figures"
    case_id = Column(Integer, ForeignKey("mediation_case.id", name="fk_case_figures_case"), primary_key=True)
    registered_day = Column(Date, nullable=False)
    closed_day = Column(Date, nullable=True)
    township_id = Column(Integer, nullable=False)
    dispute_type_id = Column(Integer, nullable=False)
    source_channel = Column(String(32), nullable=False)
    unit_id = Column(Integer, nullable=False)    # the unit the case was assigned to; 0: none
    _measures(locals())
    # the case's updated_at as counted: a case that still has it is in the sums as it is (NULL: not known);
    # indexed for the cases counted since a moment, all a request looks among (daily.as_counted)
    case_updated_at = Column(DateTime, nullable=True, index=True)


class FigureDay(Model):
    """The figures' sums for one local day, in total (``grain`` "") or by one dimension: ``t`` per
    township, ``y`` per dispute type, ``c`` per source channel, ``u`` per assigned unit. The other
    dimensions hold 0 or ""."""

    __tablename__ = "figure_day"
    grain = Column(String(1), primary_key=True)
    township_id = Column(Integer, primary_key=True, default=0)
    dispute_type_id = Column(Integer, primary_key=True, default=0)
    source_channel = Column(String(32), primary_key=True, default="")
    unit_id = Column(Integer, primary_key=True, default=0)
    day = Column(Date, primary_key=True)
    _measures(locals())


class StepDwellDay(Model):
    """Task steps of one process completed on one local day whose dwell time (seconds from created to
    completed) falls in one bucket (``portal.services.dwell``): how many, and their seconds summed."""

    __tablename__ = "step_dwell_day"
    process = Column(String(64), primary_key=True)
    day = Column(Date, primary_key=True)
    bpmn_id = Column(String(64), primary_key=True)
    bucket = Column(Integer, primary_key=True)
    items = Column(Integer, nullable=False, default=0)
    seconds = Column(Float, nullable=False, default=0.0)


class RollupMark(Model):
    """How far a rollup has come: ``cases`` -- every case changed before ``until`` is in the day sums
    as it is now (changes are found by ``mediation_case.updated_at``)."""

    __tablename__ = "rollup_mark"
    name = Column(String(32), primary_key=True)
    until = Column(DateTime, nullable=True)    # None: nothing taken yet
    refreshed_at = Column(DateTime, nullable=False)

