"""The process heat map's figures, on cases driven step by step at known times.

Seven cases registered at T0 (09:00 on 2 March in the county):
  A1..A5  城关镇 (T01), 宅基地 (0301): triaged after 2, 4, 6, 8, 10 hours; waiting at dispatch.
  B       T02, 相邻关系 (0201, under 邻里 02): triaged after 20 h (05:00 on 3 March, local), dispatched
          1 h later; waiting at accept.
  C       T01, 0301: triaged after 1 h, dispatched 3 h later; waiting at accept.
The deadlines of the waiting steps are set by hand relative to NOW (6 March).
"""
from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import select

from portal.clock import frozen_at
from portal.extensions import db
from portal.models import DisputeType, OrgUnit, WorkItem, WorkItemKind, WorkItemStatus
from portal.services.branches import start_branch
from portal.services.cases import register_case
from portal.services.heatmap import HeatFilters, UnknownProcessError, cases_at, heat_map, step_stats
from tests.branches.test_relief import application as relief_application
from tests.conftest import do_step, intake_data, open_item, unit_id, user

T0 = datetime(2026, 3, 2, 1, 0)
NOW = datetime(2026, 3, 6, 2, 0)
HOURS = pytest.approx


def _type_id(code: str) -> int:
    return db.session.scalar(select(DisputeType.id).where(DisputeType.code == code))


def _village_of(township: str) -> int:
    return db.session.scalar(select(OrgUnit.id).where(OrgUnit.code.like(f"{township}V%")).order_by(OrgUnit.code))


def _drive(triage_after: float, dispatch_after: float | None = None, **overrides) -> int:
    """A case registered at T0, triaged ``triage_after`` hours later, dispatched to 司法局
    ``dispatch_after`` hours after that (or left waiting at dispatch)."""
    with frozen_at(T0):
        case_id = register_case(user("window"), intake_data(**overrides)).id
    triaged = T0 + timedelta(hours=triage_after)
    with frozen_at(triaged):
        do_step(case_id, "triage")
    if dispatch_after is not None:
        with frozen_at(triaged + timedelta(hours=dispatch_after)):
            do_step(case_id, "dispatch")
    return case_id


def _due(case_id: int, step: str, due_at: datetime | None) -> None:
    open_item(case_id, step).due_at = due_at
    db.session.commit()


@pytest.fixture
def county(ctx):
    a = [_drive(h) for h in (2, 4, 6, 8, 10)]
    b = _drive(20, 1, township_id=unit_id("T02"), village_id=_village_of("T02"), dispute_type_id=_type_id("0201"))
    c = _drive(1, 3)
    for case_id, due in zip(a, (NOW - timedelta(days=1), NOW - timedelta(hours=1), NOW + timedelta(hours=1),
                                NOW + timedelta(days=2), None), strict=True):
        _due(case_id, "dispatch", due)
    _due(b, "accept", NOW - timedelta(hours=2))
    _due(c, "accept", NOW + timedelta(days=1))
    return {"a": a, "b": b, "c": c}


def _stats(username: str, process: str = "mediation_chain", **filters) -> dict:
    with frozen_at(NOW):
        return {s.bpmn_id: s for s in step_stats(user(username), process, HeatFilters(**filters))}


def test_waiting_overdue_and_dwell_of_each_step(county):
    steps = _stats("director")
    dispatch, accept, triage = steps["dispatch"], steps["accept"], steps["triage"]
    assert (dispatch.name, dispatch.waiting, dispatch.overdue) == ("分流交办", 5, 2)   # A1, A2 past their deadline
    assert (accept.waiting, accept.overdue) == (2, 1)                                 # B late, C not yet
    assert (triage.waiting, triage.overdue) == (0, 0)
    # triage took 1, 2, 4, 6, 8, 10, 20 hours: mean 51/7; p90 at position 0.9·6 = 5.4 of the sorted
    # list (0-based): 10 + 0.4·(20 − 10) = 14
    assert (triage.done, triage.avg_hours, triage.p90_hours) == (7, HOURS(51 / 7), HOURS(14.0))
    # dispatch took 1 (B) and 3 (C) hours: mean 2; p90 at position 0.9: 1 + 0.9·2 = 2.8
    assert (dispatch.done, dispatch.avg_hours, dispatch.p90_hours) == (2, HOURS(2.0), HOURS(2.8))
    assert (steps["intake"].done, steps["intake"].p90_hours) == (7, 0.0)   # registered at the window at once
    assert (steps["handle"].waiting, steps["handle"].done, steps["handle"].avg_hours) == (0, 0, None)
    # the load colours: dispatch is the busiest (5 → level 4), accept has 2 of 5 → ceil(4·2/5) = 2
    assert (dispatch.level, accept.level, triage.level) == (4, 2, 0)
    assert all(s.in_diagram for s in steps.values())


def test_steps_follow_the_diagram_and_the_legend_bands_the_waiting_counts(county):
    with frozen_at(NOW):
        result = heat_map(user("director"), "mediation_chain", HeatFilters())
    ids = [s.bpmn_id for s in result.steps]
    assert ids[:4] == ["intake", "refer", "refer_followup", "triage"] and "close" in ids
    assert 'id="dispatch"' in result.xml and result.version >= 1
    # busiest 5: level 1 holds 1, level 2 holds 2, level 3 holds 3, level 4 holds 4 and 5
    assert result.legend == [(1, 1, 1), (2, 2, 2), (3, 3, 3), (4, 4, 5)]
    data = result.as_json()
    assert data["process"] == "mediation_chain" and data["legend"][-1] == {"level": 4, "from": 4, "to": 5}
    assert next(s for s in data["steps"] if s["bpmn_id"] == "dispatch")["waiting"] == 5


def test_township_and_dispute_type_narrow_every_figure(county):
    t01 = _stats("director", township_id=unit_id("T01"))
    assert (t01["dispatch"].waiting, t01["accept"].waiting, t01["accept"].overdue) == (5, 1, 0)
    # triage in T01: 1, 2, 4, 6, 8, 10 h: mean 31/6; p90 at 0.9·5 = 4.5: 8 + 0.5·2 = 9
    assert (t01["triage"].done, t01["triage"].avg_hours, t01["triage"].p90_hours) == (6, HOURS(31 / 6), HOURS(9.0))
    assert (t01["dispatch"].done, t01["dispatch"].p90_hours) == (1, HOURS(3.0))
    neighbours = _stats("director", dispute_type_id=_type_id("02"))   # the parent type takes in its subtypes
    assert (neighbours["accept"].waiting, neighbours["accept"].overdue, neighbours["dispatch"].waiting) == (1, 1, 0)
    assert (neighbours["triage"].done, neighbours["triage"].p90_hours) == (1, HOURS(20.0))
    nothing = _stats("director", township_id=unit_id("T02"), dispute_type_id=_type_id("0301"))
    assert sum(s.waiting + s.done for s in nothing.values()) == 0


def test_the_period_takes_the_steps_completed_on_those_local_days(county):
    # B was triaged at 21:00 UTC on 2 March: already 3 March in the county
    second = _stats("director", start=date(2026, 3, 2), end=date(2026, 3, 2))
    assert (second["triage"].done, second["triage"].p90_hours) == (6, HOURS(9.0))
    assert (second["dispatch"].done, second["dispatch"].avg_hours) == (1, HOURS(3.0))   # C's; B's on the 3rd
    third = _stats("director", start=date(2026, 3, 3), end=date(2026, 3, 3))
    assert (third["triage"].done, third["triage"].avg_hours, third["dispatch"].avg_hours) == (1, HOURS(20.0),
                                                                                            HOURS(1.0))
    assert third["dispatch"].waiting == 5   # the period is for dwell times only: waiting is now
    later = _stats("director", start=date(2026, 3, 4))
    assert sum(s.done for s in later.values()) == 0
    with frozen_at(NOW):
        default = HeatFilters.default_period()
    assert (default.start, default.end) == (date(2025, 12, 7), date(2026, 3, 6))   # 90 days, today included


def test_each_user_sees_the_figures_of_the_cases_they_may_see(county):
    township = _stats("xiang")                # 城关镇: A1..A5 and C
    assert (township["dispatch"].waiting, township["accept"].waiting, township["triage"].done) == (5, 1, 6)
    department = _stats("sifa")               # 司法局: the two cases dispatched to it, B and C
    assert (department["dispatch"].waiting, department["accept"].waiting, department["accept"].overdue) == (0, 2, 1)
    assert department["triage"].done == 2
    other = _stats("renshe")                  # 人社局: none
    assert sum(s.waiting + s.done for s in other.values()) == 0


def test_a_steps_cases_most_urgent_first_within_the_users_scope(county):
    with frozen_at(NOW):
        at_dispatch = cases_at(user("director"), "mediation_chain", "dispatch", HeatFilters())
        at_accept_t02 = cases_at(user("director"), "mediation_chain", "accept",
                                 HeatFilters(township_id=unit_id("T02")))
        township = cases_at(user("xiang"), "mediation_chain", "accept", HeatFilters())
        none = cases_at(user("renshe"), "mediation_chain", "accept", HeatFilters())
    assert [i.case_id for i in at_dispatch] == county["a"]   # by deadline, the one without last
    assert at_dispatch[0].case.code and at_dispatch[-1].due_at is None
    assert [i.case_id for i in at_accept_t02] == [county["b"]]
    assert at_accept_t02[0].org_unit.code == "D03"
    assert [i.case_id for i in township] == [county["c"]]
    assert none == []


def test_a_branch_process_counts_its_own_steps_only(county):
    branch = start_branch(user("window"), county["c"], "relief", relief_application(county["c"]))
    relief = _stats("director", "temporary_relief")
    waiting = {step: s.waiting for step, s in relief.items() if s.waiting}
    assert waiting == {"relief_investigate": 1}
    assert relief["relief_apply"].done == 1 and "dispatch" not in relief
    chain = _stats("director")
    assert "relief_investigate" not in chain and chain["accept"].waiting == 2
    with frozen_at(NOW):
        items = cases_at(user("director"), "temporary_relief", "relief_investigate", HeatFilters())
    assert [(i.case_id, i.branch_id) for i in items] == [(county["c"], branch.id)]
    assert sum(s.waiting for s in _stats("director", "legal_aid").values()) == 0
    with pytest.raises(UnknownProcessError):
        step_stats(user("director"), "no_such_process", HeatFilters())


def test_a_step_gone_from_the_newest_diagram_is_listed_after_it_while_cases_wait_there(county):
    db.session.add(WorkItem(case_id=county["c"], task_id=str(uuid.uuid4()), bpmn_id="old_review", name="旧审查",
                            lane="综合调度", form_key="old_review", kind=WorkItemKind.TASK,
                            status=WorkItemStatus.OPEN, created_at=T0))
    db.session.commit()
    steps = list(_stats("director").values())
    assert (steps[-1].bpmn_id, steps[-1].name, steps[-1].waiting, steps[-1].in_diagram) == ("old_review", "旧审查",
                                                                                             1, False)
    assert all(s.in_diagram for s in steps[:-1])
