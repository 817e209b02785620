"""Parallel consultation (会商): each cooperating unit gives its opinion on its own deadline."""
from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from portal.clock import frozen_at
from portal.extensions import db
from portal.models import Case, CaseStatus, WorkItem, WorkItemStatus
from portal.services.cases import complete_task
from portal.services.errors import TaskNotYoursError, ValidationFailed
from tests.conftest import STEP_FORMS, do_step, open_item, row_counts, unit_id, user

T0 = datetime(2026, 3, 2, 1, 0)


def _consults(case_id):
    return db.session.scalars(select(WorkItem).where(WorkItem.case_id == case_id, WorkItem.bpmn_id == "consult")
                              .order_by(WorkItem.org_unit_id)).all()


def _dispatch(case_id, units):
    with frozen_at(T0):
        complete_task(user("dispatch"), open_item(case_id, "dispatch").id,
                      {**STEP_FORMS["dispatch"][1](), "cooperating_unit_ids": units})


def test_each_cooperating_unit_answers_on_its_own_deadline(make_case):
    case_id = make_case(until="dispatch", at=T0)
    _dispatch(case_id, [unit_id("D06"), unit_id("D07")])
    consults = _consults(case_id)
    assert [c.org_unit_id for c in consults] == [unit_id("D06"), unit_id("D07")]
    assert all(c.due_at == T0 + timedelta(days=2) and c.lane == "承办单位" for c in consults)
    assert db.session.get(Case, case_id).status == CaseStatus.ACCEPTING
    with pytest.raises(TaskNotYoursError):          # the lead unit cannot answer for 人社局
        complete_task(user("sifa"), consults[0].id, {"opinion": "代答"})
    complete_task(user("renshe"), consults[0].id, {"opinion": "属劳动关系争议，可先行调解，必要时申请仲裁"})
    assert json.loads(consults[0].result)["opinion"].startswith("属劳动关系")
    for step in ("accept", "handle", "feedback", "followup", "verify", "close"):
        do_step(case_id, step)
    assert db.session.get(Case, case_id).status == CaseStatus.CLOSED
    assert [c.status for c in _consults(case_id)] == [WorkItemStatus.DONE, WorkItemStatus.CANCELLED]


def test_consulting_a_unit_not_in_the_list_is_refused(make_case):
    case_id = make_case(until="dispatch", at=T0)
    before = row_counts()
    with pytest.raises(ValidationFailed):
        _dispatch(case_id, [unit_id("T01V01G1")])  # a grid is not a unit one consults
    assert row_counts() == before


def test_no_cooperating_units_means_no_consultation(make_case):
    case_id = make_case(until="dispatch", at=T0)
    _dispatch(case_id, [])
    assert _consults(case_id) == [] and open_item(case_id).bpmn_id == "accept"
