"""How long the steps done in a period took, from the day sums (``step_dwell_day``) and the steps the
worker has not taken yet, exactly.

A done step's dwell time (seconds from created to completed) falls in a bucket: ``BUCKETS_PER_DOUBLING``
buckets to each doubling of the time, so a bucket is at most 4.4 % wide (below one second: one bucket).
The worker sums the steps of each day per bucket and stamps each step with its bucket
(``work_item.dwell_bucket``); the steps not stamped yet are read from the work items themselves. The
count and the average come from the sums. The 90th percentile is PostgreSQL's ``percentile_cont(0.9)``,
exactly: the sums tell in which bucket the two neighbours around position 0.9·(n−1) of the sorted
times lie and at which place in it, and only that bucket's steps of the period are read (an index on
step, bucket and completion time) to take their exact times.
"""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Float, Integer, String, and_, case, func, or_, select, union_all

from portal.bpmn import MAIN_PROCESS_ID
from portal.extensions import db
from portal.models import Branch, BranchKind, StepDwellDay, WorkItem, WorkItemKind, WorkItemStatus
from portal.services.daily import day_of
from portal.services.sql_functions import dialect_function

BUCKETS_PER_DOUBLING = 16


seconds_between = dialect_function(
    "seconds_between", Float(), "Seconds from one naive timestamp to another, in the database's own arithmetic.",
    postgresql="EXTRACT(EPOCH FROM ({1} - {0}))", sqlite="((julianday({1}) - julianday({0})) * 86400.0)")


dwell_bucket = dialect_function(
    "dwell_bucket", Integer(),
    "The bucket of a number of seconds: floor(log2(seconds) · BUCKETS_PER_DOUBLING), -1 below one second.",
    postgresql=("(CASE WHEN {0} < 1 THEN -1 ELSE CAST(floor(ln(CAST({0} AS double precision)) "
                f"/ ln(CAST(2 AS double precision)) * {BUCKETS_PER_DOUBLING}) AS INTEGER) END)"),
    sqlite=f"(CASE WHEN {{0}} < 1 THEN -1 ELSE CAST(floor(log2({{0}}) * {BUCKETS_PER_DOUBLING}) AS INTEGER) END)")


SECONDS = seconds_between(WorkItem.created_at, WorkItem.completed_at)
UNTAKEN = and_(WorkItem.status == WorkItemStatus.DONE, WorkItem.kind == WorkItemKind.TASK,
               WorkItem.dwell_bucket.is_(None))   # as the partial index ix_work_item_done_unbucketed says


def process_of():
    """The process a work item's step belongs to (its branch's, or the mediation chain), as SQL over
    work_item outer-joined with case_branch."""
    kinds = {k.value: k.process_id for k in BranchKind}
    return case((WorkItem.branch_id.is_(None), MAIN_PROCESS_ID),
                else_=case(*((Branch.kind == k, p) for k, p in kinds.items()), else_=None))


def _in_process(process_id: str, kind: BranchKind | None) -> list:
    if kind is None:
        return [WorkItem.branch_id.is_(None)]
    return [WorkItem.branch_id.in_(select(Branch.id).where(Branch.kind == kind))]


def _untaken_rows(process_id: str, kind: BranchKind | None, bounds: tuple):
    start, end = bounds
    return select(WorkItem.bpmn_id.label("bpmn_id"), dwell_bucket(SECONDS).label("bucket"),
                  func.count().label("items"), func.sum(SECONDS).label("seconds")) \
        .where(UNTAKEN, WorkItem.completed_at >= start, WorkItem.completed_at < end,
               *_in_process(process_id, kind)) \
        .group_by(WorkItem.bpmn_id, dwell_bucket(SECONDS))


def histogram(process_id: str, kind: BranchKind | None, days: tuple[date, date],
              bounds: tuple) -> dict[str, list[tuple[int, int, float]]]:
    """bpmn id -> [(bucket, steps, seconds summed)] in bucket order: the steps of the process done on
    the local days ``days`` (``bounds``: the same days as UTC moments)."""
    rolled = select(StepDwellDay.bpmn_id, StepDwellDay.bucket, StepDwellDay.items, StepDwellDay.seconds) \
        .where(StepDwellDay.process == process_id, StepDwellDay.day >= days[0], StepDwellDay.day <= days[1])
    rows = union_all(rolled, _untaken_rows(process_id, kind, bounds)).subquery()
    result: dict[str, list[tuple[int, int, float]]] = {}
    for step, bucket, items, seconds in db.session.execute(
            select(rows.c.bpmn_id, rows.c.bucket, func.sum(rows.c["items"]), func.sum(rows.c.seconds))
            .group_by(rows.c.bpmn_id, rows.c.bucket).order_by(rows.c.bpmn_id, rows.c.bucket)):
        if items:
            result.setdefault(step, []).append((bucket, int(items), float(seconds)))
    return result


def _place(buckets: list[tuple[int, int, float]], position: int) -> tuple[int, int]:
    """The bucket holding the 0-based ``position`` of the sorted times, and the place within it."""
    before = 0
    for bucket, items, _ in buckets:
        if position < before + items:
            return bucket, position - before
        before += items
    raise ValueError(position)


def dwell(process_id: str, kind: BranchKind | None, days: tuple[date, date],
          bounds: tuple) -> dict[str, tuple[int, float, float]]:
    """bpmn id -> (steps done, average and 90th-percentile seconds), as ``heatmap._dwell`` counts them."""
    buckets = histogram(process_id, kind, days, bounds)
    wanted: dict[str, list[tuple[int, int]]] = {}
    for step, rows in buckets.items():
        n = sum(items for _, items, _ in rows)
        low, high = (9 * (n - 1)) // 10, -((-9 * (n - 1)) // 10)
        wanted[step] = [_place(rows, low), _place(rows, high)]
    values = _exact(process_id, kind, bounds, wanted)
    result = {}
    for step, rows in buckets.items():
        n = sum(items for _, items, _ in rows)
        fraction = (9 * (n - 1) - 10 * ((9 * (n - 1)) // 10)) / 10
        low, high = (values[(step, bucket, place)] for bucket, place in wanted[step])
        result[step] = (n, sum(s for _, _, s in rows) / n, low + (high - low) * fraction)
    return result


def _exact(process_id: str, kind: BranchKind | None, bounds: tuple,
           wanted: dict[str, list[tuple[int, int]]]) -> dict[tuple[str, int, int], float]:
    """(bpmn id, bucket, place) -> the time at that place among the period's steps in that bucket: one
    query, reading only the buckets asked for (each an index range: step, bucket, completion time)."""
    if not wanted:
        return {}
    start, end = bounds
    period = [WorkItem.completed_at >= start, WorkItem.completed_at < end, *_in_process(process_id, kind)]
    pairs = sorted({(step, b) for step, places in wanted.items() for b, _ in places})
    # a stamped item is a done task (only those are stamped): the index alone answers
    stamped = [select(WorkItem.bpmn_id.label("step"), WorkItem.dwell_bucket.label("bucket"), SECONDS.label("seconds"))
               .where(*period, WorkItem.bpmn_id == step, WorkItem.dwell_bucket == b) for step, b in pairs]
    untaken = select(WorkItem.bpmn_id, dwell_bucket(SECONDS), SECONDS).where(
        *period, UNTAKEN, or_(*(and_(WorkItem.bpmn_id == step, dwell_bucket(SECONDS) == b) for step, b in pairs)))
    rows = union_all(*stamped, untaken).subquery()
    ranked = select(rows.c.step, rows.c.bucket, rows.c.seconds,
                    (func.row_number().over(partition_by=(rows.c.step, rows.c.bucket), order_by=rows.c.seconds) - 1)
                    .label("place")).subquery()
    places = sorted({(step, b, p) for step, found in wanted.items() for b, p in found})
    picked = or_(*(and_(ranked.c.step == step, ranked.c.bucket == b, ranked.c.place == p) for step, b, p in places))
    return {(step, b, p): float(s) for step, b, s, p in db.session.execute(
        select(ranked.c.step, ranked.c.bucket, ranked.c.seconds, ranked.c.place).where(picked))}


def take_steps(before: datetime | None = None, limit: int | None = None) -> int:
    """Add the done steps not taken yet (completed ``before``, if given; the ``limit`` first completed)
    to the day sums and stamp them with their bucket (the worker; in the caller's transaction). What is
    stamped is exactly what was summed: both come from one snapshot of the steps, kept in a temporary
    table."""
    from sqlalchemy import Column, Date, MetaData, Table
    from sqlalchemy.dialects import postgresql, sqlite
    if not db.session.scalar(select(select(WorkItem.id).where(UNTAKEN).exists())):
        return 0
    dialect = db.session.get_bind().dialect.name
    taken = Table("taken_steps", MetaData(), Column("id", Integer, primary_key=True), Column("process", String(64)),
                  Column("day", Date), Column("bpmn_id", String(64)), Column("bucket", Integer),
                  Column("seconds", Float), prefixes=["TEMPORARY"])
    connection = db.session.connection()
    taken.create(connection)
    snapshot = select(WorkItem.id, process_of(), day_of(WorkItem.completed_at), WorkItem.bpmn_id,
                      dwell_bucket(SECONDS), SECONDS) \
        .select_from(WorkItem).outerjoin(Branch, Branch.id == WorkItem.branch_id).where(UNTAKEN)
    if before is not None:
        snapshot = snapshot.where(WorkItem.completed_at < before)
    if limit is not None:
        snapshot = snapshot.order_by(WorkItem.completed_at).limit(limit)
    connection.execute(taken.insert().from_select([c.name for c in taken.c], snapshot))
    count = connection.scalar(select(func.count()).select_from(taken))
    if count:
        insert = (postgresql if dialect == "postgresql" else sqlite).insert(StepDwellDay)
        sums = select(taken.c.process, taken.c.day, taken.c.bpmn_id, taken.c.bucket, func.count(),
                      func.sum(taken.c.seconds)).where(taken.c.process.is_not(None)) \
            .group_by(taken.c.process, taken.c.day, taken.c.bpmn_id, taken.c.bucket)
        statement = insert.from_select(["process", "day", "bpmn_id", "bucket", "items", "seconds"], sums)
        connection.execute(statement.on_conflict_do_update(
            index_elements=["process", "day", "bpmn_id", "bucket"],
            set_={"items": StepDwellDay.items + statement.excluded["items"],
                  "seconds": StepDwellDay.seconds + statement.excluded.seconds}))
        connection.execute(WorkItem.__table__.update().values(dwell_bucket=taken.c.bucket)
                           .where(WorkItem.id == taken.c.id))
    taken.drop(connection)
    return count

