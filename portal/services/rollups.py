"""The worker brings the figures' day sums up to date (``portal.services.daily`` and ``dwell`` read them).

Cases: every case changed since the last round (``mediation_case.updated_at``, which every change of a
case moves) is counted again: its part as it is now is added to the day sums and the part they held
for it (``case_figures``) taken out. A round takes the cases changed up to ``MARGIN`` before it
started again in the next round, so a change whose transaction commits a while after it stamped the
case (up to ``MARGIN``, server clocks included) is still taken; requests correct the sums by the cases
changed since the same moment, so the figures never wait for the worker. Of those cases, the ones the
sums already hold as they are (counted at the updated_at they still have: ``daily.as_counted``) are
left as they are, by the rounds and by the requests: under load, nearly all of the margin's cases.

Steps: the done steps not stamped with a dwell bucket yet are summed and stamped (``dwell.take_steps``).

Rounds exclude each other (a lock on the mark: a worker that finds it taken leaves the round to the
other), so several workers may run at once. A round takes at most ``STEPS_PER_ROUND`` steps, so that
the first rounds on a large county do not hold the worker's other duties up for long; the steps not
taken yet are read from the work items meanwhile.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Column, MetaData, Table, delete, func, literal, select, union_all, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError

from portal.clock import utcnow
from portal.extensions import db
from portal.models import Case, CaseFigures, FigureDay, RollupMark, StepDwellDay, WorkItem
from portal.services._tx import transaction
from portal.services.daily import ALL_MEASURES, DIMENSIONS, GRAINS, as_counted, events, facts
from portal.services.dwell import take_steps
from portal.services.locks import take_sqlite_write_lock

MARGIN = timedelta(minutes=10)
STEPS_PER_ROUND = 200_000
_SENTINEL = {"township_id": 0, "dispute_type_id": 0, "source_channel": "", "unit_id": 0}


@transaction
def refresh_rollups(until: datetime | None = None, steps: int | None = STEPS_PER_ROUND) -> tuple[int, int]:
    """Bring the day sums up to date: (cases counted again, steps taken; ``steps`` at most, None: all).
    ``until`` (to leave the latest changes to the requests, as a benchmark does): the moment the cases'
    next round starts from (default: now less ``MARGIN``), and only the steps completed before it are
    taken. (0, 0) when another worker's round holds the mark."""
    started = utcnow()
    take_sqlite_write_lock()   # SQLite: write from the start (a read turned write fails while another writes)
    mark = _mark()
    if mark is None:
        return 0, 0
    cases = _take_cases(mark.until)
    mark.until, mark.refreshed_at = until or started - MARGIN, utcnow()
    return cases, take_steps(before=until, limit=steps)


@transaction
def rebuild_rollups() -> tuple[int, int]:
    """Count every case and every done step again from nothing (after ``PORTAL_TIMEZONE`` or the kind of
    an org unit changed, which the day sums hold as they were): (cases, steps)."""
    take_sqlite_write_lock()
    _mark(wait=True)  # the lock: no round runs meanwhile
    for table in (FigureDay, CaseFigures, StepDwellDay):
        db.session.execute(delete(table))
    db.session.execute(update(WorkItem).where(WorkItem.dwell_bucket.is_not(None)).values(dwell_bucket=None))
    cases = _take_cases(None)
    mark = _mark(wait=True)
    mark.until, mark.refreshed_at = utcnow() - MARGIN, utcnow()
    return cases, take_steps()


def _mark(wait: bool = False) -> RollupMark | None:
    """The cases' mark, locked for this round (made on the first round: no until yet); None when
    another round holds it (unless ``wait``)."""
    mark = db.session.scalar(select(RollupMark).where(RollupMark.name == "cases")
                             .with_for_update(skip_locked=not wait))
    if mark is None and db.session.scalar(select(RollupMark.name).where(RollupMark.name == "cases")):
        return None   # taken by another round
    if mark is None:
        mark = RollupMark(name="cases", until=None, refreshed_at=utcnow())
        try:
            with db.session.begin_nested():   # two first rounds at once: one makes the mark, the other waits a round
                db.session.add(mark)
        except IntegrityError:
            return None
    return mark


def _take_cases(since: datetime | None) -> int:
    """Count again the cases changed since ``since`` that the sums do not hold as they are (all: None)."""
    changed = [Case.updated_at >= since, ~as_counted(since)] if since is not None else []
    if not db.session.scalar(select(select(Case.id).where(*changed).exists())):
        return 0
    connection = db.session.connection()
    fresh = Table("fresh_case_figures", MetaData(), *(Column(c.name, c.type) for c in CaseFigures.__table__.c),
                  prefixes=["TEMPORARY"])
    fresh.create(connection)
    connection.execute(fresh.insert().from_select([c.name for c in fresh.c], facts(*changed)))
    count = connection.scalar(select(func.count()).select_from(fresh))
    if count:
        table = CaseFigures.__table__
        before = select(table).where(table.c.case_id.in_(select(fresh.c.case_id))).subquery("before")
        now = select(fresh).subquery("now")
        rows = union_all(*events(now), *events(before, negate=True)).subquery("delta")
        for grain, dimension in GRAINS.items():
            _add(connection, grain, dimension, rows)
        connection.execute(delete(table).where(table.c.case_id.in_(select(fresh.c.case_id))))
        connection.execute(table.insert().from_select([c.name for c in fresh.c], select(fresh)))
    fresh.drop(connection)
    return count


def _add(connection, grain: str, dimension: str | None, rows) -> None:
    """Add the rows' measures, summed per day (and ``dimension``), to the day sums of ``grain``."""
    keys = [literal(grain).label("grain"), rows.c.day,
            *((rows.c[d] if d == dimension else literal(_SENTINEL[d])).label(d) for d in DIMENSIONS)]
    sums = [func.sum(rows.c[m]).label(m) for m in ALL_MEASURES]
    grouped = select(*keys, *sums).group_by(rows.c.day, *([rows.c[dimension]] if dimension else []))
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    statement = dialect.insert(FigureDay).from_select(["grain", "day", *DIMENSIONS, *ALL_MEASURES], grouped)
    table = FigureDay.__table__
    connection.execute(statement.on_conflict_do_update(
        index_elements=["grain", *DIMENSIONS, "day"],
        set_={m: table.c[m] + statement.excluded[m] for m in ALL_MEASURES}))
