"""The figures from the worker's day sums equal the figures counted over the cases and steps themselves:
on the hand-built county of test_kpis (its docstring lists the cases), after the worker has taken it,
after cases changed since (a type and a township reclassified, a unit assigned, a case closed, a
case registered), and after the worker took those changes too."""
from __future__ import annotations

import random
import uuid
from contextlib import contextmanager
from datetime import date, datetime, timedelta

from flask import current_app
from sqlalchemy import func, select

from portal.clock import frozen_at
from portal.extensions import db
from portal.models import Case, CaseFigures, FigureDay, RollupMark, StepDwellDay, WorkItem, WorkItemKind, WorkItemStatus
from portal.services import charts
from portal.services.heatmap import HeatFilters, step_stats
from portal.services.kpis import KpiFilters, figures
from portal.services.rollups import MARGIN, refresh_rollups
from tests.conftest import unit_id, user
from tests.services.test_kpis import NOW, P1, Driver, _type_id, county  # noqa: F401 (the fixture)

LATER = NOW + timedelta(hours=1)       # the changes after the worker's first round
ASKED = NOW + timedelta(hours=4)       # 16:00 in the county, the same day


@contextmanager
def counted_over_the_cases():
    current_app.config["PORTAL_FIGURES_FROM_DAY_SUMS"] = False
    try:
        yield
    finally:
        current_app.config["PORTAL_FIGURES_FROM_DAY_SUMS"] = True


def _filter_sets() -> list[KpiFilters]:
    period = {"date_from": date(2025, 12, 1), "date_to": date(2026, 6, 30)}
    return [KpiFilters(), KpiFilters(**period), KpiFilters(township_id=unit_id("T02")),
            KpiFilters(dispute_type_id=_type_id("02")), KpiFilters(dispute_type_id=_type_id("0301")),
            KpiFilters(source_channel="phone"), KpiFilters(unit_id=unit_id("T01")),
            KpiFilters(unit_id=unit_id("D03"), **period)]


def _everything() -> list:
    """Every figure and chart for each filter set, and the heat map's steps, as plain values."""
    director = user("director")
    seen = []
    for filters in _filter_sets():
        seen.append([(f.key, f.value, f.numerator, f.denominator, f.previous) for f in figures(director, filters)])
        seen.append(charts.charts(director, filters))
    heat = HeatFilters(start=date(2025, 1, 1), end=date(2026, 6, 30))
    for process in ("mediation_chain", "judicial_aid"):   # A's and H's judicial aid: a branch process
        seen.append([(s.bpmn_id, s.waiting, s.overdue, s.done, s.avg_hours, s.p90_hours)
                     for s in step_stats(director, process, heat)])
    assert any(s[3] for s in seen[-1])
    return seen


def _same_as_counted(at: datetime) -> list:
    with frozen_at(at):
        from_sums = _everything()
        with counted_over_the_cases():
            counted = _everything()
    assert _approx(from_sums) == _approx(counted)
    return from_sums


def _approx(value):
    """Floats to 9 significant digits (a sum of days and an average of them differ in the last bits)."""
    if isinstance(value, float):
        return float(f"{value:.9g}")
    if isinstance(value, dict):
        return {k: _approx(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_approx(v) for v in value)
    return value


def _change_cases(ids: dict[str, int]) -> None:
    """After the worker's first round: B reclassified (type 0301, township T02), A's unit moved to the
    township (another level), F closed (its remaining steps done), a new case registered and closed."""
    with frozen_at(LATER):
        b = db.session.get(Case, ids["B"])
        b.dispute_type_id, b.township_id = _type_id("0301"), unit_id("T02")
        a = db.session.get(Case, ids["A"])
        a.assigned_unit_id, a.satisfaction = unit_id("T01"), "dissatisfied"
        db.session.commit()
    f = Driver.__new__(Driver)
    f.case_id, f.t, f.unit = ids["F"], LATER, "D03"
    f.handle("written_agreement")
    f.finish(LATER + timedelta(hours=1))
    n = Driver(LATER, P1, township="T02", village="T02V01", type_code="0201", channel="phone")
    n.to_unit("T01V02")
    n.handle("oral_agreement")
    n.finish(LATER + timedelta(hours=2), "satisfied")


def test_the_day_sums_equal_the_figures_counted_over_the_cases(county):  # noqa: F811
    before = _same_as_counted(NOW)                  # nothing taken yet: every case read as it is
    with frozen_at(NOW):
        assert refresh_rollups() == (11, db.session.scalar(select(func.count()).select_from(WorkItem).where(
            WorkItem.status == WorkItemStatus.DONE, WorkItem.kind == WorkItemKind.TASK)))
    assert db.session.scalar(select(func.count()).select_from(CaseFigures)) == 11
    assert db.session.scalar(select(RollupMark.until)) == NOW - MARGIN
    assert db.session.scalar(select(func.sum(FigureDay.received)).where(FigureDay.grain == "t")) == 11
    assert _same_as_counted(NOW) == before          # from the sums alone now
    _change_cases(county)
    changed = _same_as_counted(ASKED)               # the sums corrected by the cases changed since
    assert changed != before
    with frozen_at(ASKED):
        cases, steps = refresh_rollups()
    assert (cases, steps > 0) == (4, True)          # A, B, F and the new case
    assert _same_as_counted(ASKED) == changed
    type_0201 = select(func.sum(FigureDay.received)).where(FigureDay.grain == "y",
                                                           FigureDay.dispute_type_id == _type_id("0201"))
    assert db.session.scalar(type_0201) == 1        # B moved to 0301; the new case is the only 0201
    with frozen_at(ASKED):                          # nothing changed since: nothing to take
        assert refresh_rollups() == (0, 0)
    assert _same_as_counted(ASKED) == changed


def test_the_worker_keeps_the_day_sums(app, county):  # noqa: F811
    runner = app.test_cli_runner()
    with frozen_at(NOW):
        assert runner.invoke(args=["portal", "worker", "--once"]).exit_code == 0
    assert db.session.scalar(select(RollupMark.until)) == NOW - MARGIN
    _change_cases(county)
    later = ASKED + MARGIN + timedelta(minutes=1)
    with frozen_at(later):
        result = runner.invoke(args=["portal", "figures"])
    assert result.exit_code == 0 and "case(s) counted again" in result.output, result.output
    db.session.expire_all()
    assert db.session.scalar(select(RollupMark.until)) == later - MARGIN
    untaken = select(func.count()).select_from(WorkItem).where(
        WorkItem.status == WorkItemStatus.DONE, WorkItem.kind == WorkItemKind.TASK, WorkItem.dwell_bucket.is_(None))
    assert db.session.scalar(untaken) == 0
    # every case is in the sums as it is: nothing changed since the mark, and the sums alone agree
    assert db.session.scalar(select(func.count()).select_from(Case).where(Case.updated_at >= later - MARGIN)) == 0
    sums = _same_as_counted(later)
    with frozen_at(later):                          # counted again from nothing: the same sums
        result = runner.invoke(args=["portal", "figures", "--again"])
    assert result.exit_code == 0 and "12 case(s) counted again" in result.output, result.output
    db.session.expire_all()
    assert _same_as_counted(later) == sums and db.session.scalar(untaken) == 0


def test_the_90th_percentile_is_exact_across_buckets(county):  # noqa: F811
    """Four hundred steps of one case with dwell times spread from seconds to weeks: half taken by the
    worker, half not yet; count, average and 90th percentile as ``percentile_cont`` gives them."""
    rng = random.Random(7)
    case_id = county["A"]

    def add(count: int, day: datetime) -> None:
        for _ in range(count):
            seconds = rng.choice([0.5, 3, 59.9, 60, 61]) if rng.random() < 0.1 else rng.expovariate(1 / 90000)
            done = day + timedelta(minutes=rng.randrange(600))
            db.session.add(WorkItem(case_id=case_id, task_id=str(uuid.uuid4()), bpmn_id="handle", name="办理",
                                    lane="承办单位", form_key="handle", kind=WorkItemKind.TASK,
                                    status=WorkItemStatus.DONE, created_at=done - timedelta(seconds=seconds),
                                    completed_at=done))
        db.session.commit()
    add(200, datetime(2026, 5, 10, 1))
    with frozen_at(NOW):
        refresh_rollups()
    assert db.session.scalar(select(func.sum(StepDwellDay.items)).where(StepDwellDay.bpmn_id == "handle")) > 200
    add(200, datetime(2026, 5, 20, 1))
    for start, end in ((date(2026, 1, 1), date(2026, 6, 30)), (date(2026, 5, 20), date(2026, 5, 20)),
                       (None, None)):
        heat = HeatFilters(start=start, end=end)
        with frozen_at(ASKED):
            from_sums = {s.bpmn_id: (s.done, s.avg_hours, s.p90_hours) for s in step_stats(
                user("director"), "mediation_chain", heat)}
            with counted_over_the_cases():
                counted = {s.bpmn_id: (s.done, s.avg_hours, s.p90_hours) for s in step_stats(
                    user("director"), "mediation_chain", heat)}
        assert _approx(from_sums) == _approx(counted)
        assert from_sums["handle"][0] >= 200


def test_a_change_committed_after_the_worker_read_its_case_is_corrected_and_one_it_counted_is_not(county):  # noqa: F811
    """The worker counts each case at the updated_at it read, and a request corrects the sums only by the
    cases whose updated_at has moved since. A change stamped before a round but committed after the round
    read the case (a long transaction) carries an updated_at the worker never saw: its case is corrected;
    the cases the round counted as they still are need nothing."""
    from sqlalchemy import update
    with frozen_at(NOW):
        refresh_rollups()
    counted_as = dict(db.session.execute(select(CaseFigures.case_id, CaseFigures.case_updated_at)).all())
    assert counted_as == dict(db.session.execute(select(Case.id, Case.updated_at)).all())
    before = _same_as_counted(ASKED)
    late = NOW - timedelta(minutes=1)             # stamped a minute before the round, committed after it
    db.session.execute(update(Case).where(Case.id == county["B"])
                       .values(dispute_type_id=_type_id("0301"), township_id=unit_id("T02"), updated_at=late))
    db.session.commit()
    assert counted_as[county["B"]] != late
    after = _same_as_counted(ASKED)
    assert after != before                        # B's move shows, and equals the figures counted over the cases
    with frozen_at(NOW):
        assert refresh_rollups()[0] == 1          # the next round takes B again ...
        assert refresh_rollups()[0] == 0          # ... and then nothing, though B is still within the margin
    assert _same_as_counted(ASKED) == after
