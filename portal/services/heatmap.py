"""The process heat map: for each user task of a process, the cases waiting there now and how many
of them are overdue, and how long the steps done in a period took (average and 90th percentile).

Everything is aggregated in SQL over the work items (joined with their case, and their branch for a
branch process), scoped by ``visible_cases_filter`` like every list; no workflow is loaded. The
figures are drawn on the newest published version of the diagram: steps keep their ids across
versions, so the items of cases still running on an older version count at the same step.
"""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import case, func, select
from sqlalchemy.orm import joinedload

from portal.bpmn import MAIN_PROCESS_ID, outline_diagram
from portal.clock import utcnow
from portal.extensions import db
from portal.models import Branch, BranchKind, Case, ProcessVersion, WorkItem, WorkItemKind, WorkItemStatus
from portal.services import dwell
from portal.services.deadlines import local_to_utc, local_today
from portal.services.dwell import seconds_between
from portal.services.errors import DomainError
from portal.services.processes import published_version
from portal.services.queries import Filters, visible_cases_filter

LEVELS = 4          # load colours: level k holds the steps with up to k quarters of the busiest step's queue
PERIOD_DAYS = 90    # dwell times are taken over the last 90 days unless a period is given
CASES_LIMIT = 200   # a step's case list shows this many, the most urgent first
DEFAULT_PROCESS = MAIN_PROCESS_ID


class UnknownProcessError(DomainError):
    status_code = 404
    message = _l("There is no such process.")


def processes() -> list[tuple[str, object]]:
    """The processes the heat map draws: (process id, label), the mediation chain first."""
    return [(MAIN_PROCESS_ID, _l("Mediation chain")), *((k.process_id, k.label) for k in BranchKind)]


def _branch_kind(process_id: str) -> BranchKind | None:
    """The kind of branch that runs ``process_id`` (None: the mediation chain itself)."""
    if process_id == MAIN_PROCESS_ID:
        return None
    kind = next((k for k in BranchKind if k.process_id == process_id), None)
    if kind is None:
        raise UnknownProcessError()
    return kind


@dataclass(frozen=True)
class HeatFilters:
    """What the heat map is narrowed to: the cases' township and dispute type (with its subtypes),
    and the local days whose completed steps give the dwell times (both ends included)."""

    township_id: int | None = None
    dispute_type_id: int | None = None
    start: date | None = None
    end: date | None = None

    @classmethod
    def default_period(cls, **narrowing) -> HeatFilters:
        """The last ``PERIOD_DAYS`` local days, today included."""
        today = local_today()
        return cls(start=today - timedelta(days=PERIOD_DAYS - 1), end=today, **narrowing)


@dataclass(frozen=True)
class StepStat:
    """One step of the process: what waits there and how long it took (hours) when done."""

    bpmn_id: str
    name: str
    waiting: int = 0
    overdue: int = 0
    done: int = 0
    avg_hours: float | None = None
    p90_hours: float | None = None
    level: int = 0            # 0: nothing waits; 1..LEVELS: the share of the busiest step's queue
    in_diagram: bool = True   # False: a step of an older version that still has cases


@dataclass(frozen=True)
class HeatMap:
    process_id: str
    name: str
    version: int
    xml: str
    steps: list[StepStat]
    legend: list[tuple[int, int, int]]   # (level, fewest waiting, most waiting) of each colour in use

    def as_json(self) -> dict:
        return {"process": self.process_id, "name": self.name, "version": self.version, "xml": self.xml,
                "steps": [dataclasses.asdict(s) for s in self.steps],
                "legend": [{"level": lv, "from": lo, "to": hi} for lv, lo, hi in self.legend]}


def _scoped(query, user, process_id: str, filters: HeatFilters, now: datetime):
    """``query`` (over work_item) narrowed to the task items of the process, of cases the user may
    see, in the township and of the dispute type asked for."""
    kind = _branch_kind(process_id)
    query = query.where(WorkItem.kind == WorkItemKind.TASK)
    scope = visible_cases_filter(user)
    if scope is not True or filters.township_id or filters.dispute_type_id:  # the county's center sees all
        query = query.join(Case, Case.id == WorkItem.case_id).where(scope)
    if kind is None:
        query = query.where(WorkItem.branch_id.is_(None))
    else:
        query = query.join(Branch, Branch.id == WorkItem.branch_id).where(Branch.kind == kind)
    return Filters(township_id=filters.township_id, dispute_type_id=filters.dispute_type_id).apply(query, now)


def _waiting(user, process_id: str, filters: HeatFilters, now: datetime) -> dict[str, tuple[int, int]]:
    """bpmn id -> (open items, of which overdue): counted on an index of the open steps alone."""
    overdue = func.count(case((WorkItem.due_at < now, 1)))
    query = _scoped(select(WorkItem.bpmn_id, func.count(), overdue), user, process_id, filters, now)
    rows = db.session.execute(query.where(WorkItem.status == WorkItemStatus.OPEN).group_by(WorkItem.bpmn_id))
    return {step: (count, int(late or 0)) for step, count, late in rows}


def _names(user, process_id: str, filters: HeatFilters, now: datetime, steps: list[str]) -> dict[str, str]:
    """The names the open items of steps gone from the newest diagram carry."""
    if not steps:
        return {}
    query = _scoped(select(WorkItem.bpmn_id, func.min(WorkItem.name)), user, process_id, filters, now)
    return dict(db.session.execute(query.where(WorkItem.status == WorkItemStatus.OPEN, WorkItem.bpmn_id.in_(steps))
                                   .group_by(WorkItem.bpmn_id)).all())


def _period(filters: HeatFilters):
    """The completion times the period covers, as conditions on naive UTC."""
    conditions = []
    if filters.start:
        conditions.append(WorkItem.completed_at >= local_to_utc(datetime.combine(filters.start, time())))
    if filters.end:
        end = local_to_utc(datetime.combine(filters.end + timedelta(days=1), time()))
        conditions.append(WorkItem.completed_at < end)
    return conditions


def _dwell(user, process_id: str, filters: HeatFilters, now: datetime) -> dict[str, tuple[int, float, float]]:
    """bpmn id -> (steps done in the period, average and 90th-percentile seconds from created to completed).

    The percentile is PostgreSQL's ``percentile_cont(0.9)``, by window functions both databases run:
    the value at 0-based position 0.9·(n−1) of the sorted times, interpolated between its neighbours
    ``lo`` and ``hi`` (1-based places with 10·(place−1) ≤ 9·(n−1), resp. ≥); integers only, no division."""
    seconds = seconds_between(WorkItem.created_at, WorkItem.completed_at)
    ranked = _scoped(select(WorkItem.bpmn_id.label("step"), seconds.label("seconds"),
                            func.row_number().over(partition_by=WorkItem.bpmn_id, order_by=seconds).label("place"),
                            func.count().over(partition_by=WorkItem.bpmn_id).label("n")),
                     user, process_id, filters, now)
    ranked = ranked.where(WorkItem.status == WorkItemStatus.DONE, *_period(filters)).subquery()
    below = 10 * (ranked.c.place - 1) <= 9 * (ranked.c.n - 1)
    above = 10 * (ranked.c.place - 1) >= 9 * (ranked.c.n - 1)
    rows = db.session.execute(
        select(ranked.c.step, func.count(), func.avg(ranked.c.seconds), func.max(case((below, ranked.c.place))),
               func.max(case((below, ranked.c.seconds))), func.min(case((above, ranked.c.seconds))))
        .group_by(ranked.c.step))
    result = {}
    for step, n, average, lo, lo_value, hi_value in rows:
        fraction = (9 * (n - 1) - 10 * (lo - 1)) / 10
        result[step] = (n, float(average), float(lo_value) + (float(hi_value) - float(lo_value)) * fraction)
    return result


def _dwell_times(user, process_id: str, filters: HeatFilters, now: datetime) -> dict[str, tuple[int, float, float]]:
    """As ``_dwell``; from the day sums (``portal.services.dwell``) when the whole county is asked for."""
    if not current_app.config["PORTAL_FIGURES_FROM_DAY_SUMS"] or visible_cases_filter(user) is not True \
            or filters.township_id or filters.dispute_type_id:
        return _dwell(user, process_id, filters, now)
    start, end = filters.start or date(1900, 1, 1), filters.end or date(9998, 12, 31)
    bounds = (local_to_utc(datetime.combine(start, time())),
              local_to_utc(datetime.combine(end + timedelta(days=1), time())))
    return dwell.dwell(process_id, _branch_kind(process_id), (start, end), bounds)


def _diagram_steps(version: ProcessVersion) -> list[tuple[str, str]]:
    """The user tasks of a version's diagram, (bpmn id, name) in the order the file declares them.
    Versions never change once stored, so this is read once per version and app."""
    cache = current_app.extensions.setdefault("portal_heatmap_steps", {})
    if version.id not in cache:
        outline = outline_diagram(f"{version.process_id}.bpmn", version.bpmn_xml.encode())
        cache[version.id] = [(t.bpmn_id, t.name or t.bpmn_id) for t in outline.user_tasks] if outline else []
    return cache[version.id]


def _level(waiting: int, busiest: int) -> int:
    return math.ceil(LEVELS * waiting / busiest) if waiting and busiest else 0


def _legend(busiest: int) -> list[tuple[int, int, int]]:
    """Each colour in use: (level, fewest, most waiting) -- the waiting counts whose level it is."""
    bands = [(lv, busiest * (lv - 1) // LEVELS + 1, busiest * lv // LEVELS) for lv in range(1, LEVELS + 1)]
    return [band for band in bands if band[1] <= band[2]]


def step_stats(user, process_id: str, filters: HeatFilters, version: ProcessVersion | None = None) -> list[StepStat]:
    """Every user task of the process's newest published diagram (then the steps of older versions
    that still have cases waiting or done in the period): waiting, overdue, dwell hours, load level."""
    _branch_kind(process_id)
    version = version or published_version(process_id)
    now = utcnow()
    waiting = _waiting(user, process_id, filters, now)
    dwell = _dwell_times(user, process_id, filters, now)
    drawn = _diagram_steps(version)
    names = {step: name for step, name in drawn}
    older = sorted((set(waiting) | set(dwell)) - set(names))
    carried = _names(user, process_id, filters, now, [s for s in older if s in waiting])
    busiest = max((count for count, _ in waiting.values()), default=0)
    stats = []
    for step in [s for s, _ in drawn] + older:
        count, late = waiting.get(step, (0, 0))
        done, average, p90 = dwell.get(step, (0, None, None))
        stats.append(StepStat(step, names.get(step) or carried.get(step) or step, count, late, done,
                              None if average is None else average / 3600, None if p90 is None else p90 / 3600,
                              _level(count, busiest), step in names))
    return stats


def heat_map(user, process_id: str, filters: HeatFilters) -> HeatMap:
    """The newest published diagram of the process with its steps' figures, and the colours' legend."""
    _branch_kind(process_id)
    version = published_version(process_id)
    steps = step_stats(user, process_id, filters, version)
    return HeatMap(process_id, version.name, version.version, version.bpmn_xml, steps,
                   _legend(max((s.waiting for s in steps), default=0)))


def step_name(process_id: str, bpmn_id: str) -> str:
    """A step's name as the newest published diagram gives it (its id if the diagram has no such step)."""
    _branch_kind(process_id)
    return dict(_diagram_steps(published_version(process_id))).get(bpmn_id, bpmn_id)


def cases_at(user, process_id: str, bpmn_id: str, filters: HeatFilters, limit: int = CASES_LIMIT) -> list[WorkItem]:
    """The open items waiting at one step (with their case, unit and branch), the most urgent first:
    by deadline (none last), then by how long they have waited."""
    now = utcnow()
    query = _scoped(select(WorkItem), user, process_id, filters, now).options(
        joinedload(WorkItem.case).joinedload(Case.township), joinedload(WorkItem.org_unit),
        joinedload(WorkItem.branch))
    query = query.where(WorkItem.status == WorkItemStatus.OPEN, WorkItem.bpmn_id == bpmn_id).order_by(
        WorkItem.due_at.is_(None), WorkItem.due_at, WorkItem.created_at, WorkItem.id)
    return list(db.session.scalars(query.limit(limit)).unique())
