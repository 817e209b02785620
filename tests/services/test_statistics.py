"""The worker keeps the query planner's statistics, so the planner picks the case's own index for a
case's rows instead of walking every row of the county in the order asked for."""
from __future__ import annotations

import time

from sqlalchemy import select, text

from portal.extensions import db
from portal.models import WorkItem, WorkItemKind, WorkItemStatus
from portal.services import statistics
from tests.conftest import do_step

FINISHED_STEPS_OF_A_CASE = (select(WorkItem.id).where(WorkItem.case_id == 1, WorkItem.status == WorkItemStatus.DONE,
                                                      WorkItem.kind == WorkItemKind.TASK)
                            .order_by(WorkItem.completed_at, WorkItem.id))   # as the case file reads them


def _plan() -> str:
    sql = str(FINISHED_STEPS_OF_A_CASE.compile(db.engine, compile_kwargs={"literal_binds": True}))
    return " ".join(row[-1] for row in db.session.execute(text(f"EXPLAIN QUERY PLAN {sql}")))


def _times_analysed() -> int:
    db.session.execute(text("SELECT pg_stat_clear_snapshot()"))
    return db.session.scalar(text("SELECT analyze_count FROM pg_stat_user_tables WHERE relname = 'work_item'"))


def test_the_worker_gathers_the_planners_statistics_at_its_start_and_then_hourly(app, make_case, monkeypatch):
    for _ in range(12):
        case_id = make_case("dispatch")
        do_step(case_id, "dispatch")
    sqlite = db.engine.dialect.name == "sqlite"
    if sqlite:
        db.session.execute(text("DROP TABLE IF EXISTS sqlite_stat1"))
        db.session.execute(text("ANALYZE sqlite_schema"))   # the connection forgets the statistics it has read
        db.session.commit()
        assert "USING INDEX ix_work_item_status_completed" in _plan()   # the guess: all finished steps, in order
    else:
        before = _times_analysed()
    monkeypatch.setattr(statistics, "_last", {})   # a worker just started
    assert app.test_cli_runner().invoke(args=["portal", "worker", "--once"]).exit_code == 0
    db.session.commit()
    if sqlite:
        assert "USING INDEX ix_work_item_case_status (case_id=? AND status=?)" in _plan()
    else:
        deadline = time.monotonic() + 10   # the server publishes its counters a moment after the transaction
        while _times_analysed() == before and time.monotonic() < deadline:
            time.sleep(0.2)
        assert _times_analysed() > before
    # and not again within the hour
    started = statistics._last[str(db.engine.url)]
    assert not statistics.refresh_statistics(now=started + statistics.EVERY - 1)
    assert statistics.refresh_statistics(now=started + statistics.EVERY + 1)
