"""回访 and 考核: both parties asked after feedback; each closed case scores its lead unit."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from portal.clock import frozen_at
from portal.extensions import db
from portal.models import Case, CaseScore
from portal.services.cases import complete_task, register_case
from portal.services.errors import ValidationFailed
from tests.conftest import STEP_FORMS, do_step, intake_data, open_item, row_counts, unit_id, user

T0 = datetime(2026, 3, 2, 1, 0)


def _drive(case_id, steps, at, **overrides):
    with frozen_at(at):
        for step in steps:
            do_step(case_id, step, **overrides.get(step, {}))


def _score(case_id):
    return db.session.scalar(select(CaseScore).where(CaseScore.case_id == case_id))


def test_follow_up_records_both_parties_and_a_case_on_time_scores_full(ctx):
    with frozen_at(T0):
        case_id = register_case(user("window"), intake_data()).id
    _drive(case_id, ["triage", "dispatch", "accept", "handle", "feedback", "followup", "verify", "close"],
           T0 + timedelta(hours=5))
    case = db.session.get(Case, case_id)
    assert (case.satisfaction, case.fulfilment, case.handling_result) == ("satisfied", "fulfilled",
                                                                         "written_agreement")
    score = _score(case_id)
    assert (score.on_time, score.success, score.satisfaction, score.score) == (True, True, 100, 100)
    assert score.unit_id == unit_id("D03")


def test_late_unsuccessful_dissatisfied_case_scores_low(ctx):
    with frozen_at(T0):
        case_id = register_case(user("window"), intake_data()).id
    _drive(case_id, ["triage", "dispatch", "accept"], T0)
    _drive(case_id, ["handle", "feedback", "followup", "verify", "close"], T0 + timedelta(days=10),
           handle={"result": "terminated", "next_channel": "可向人民法院起诉"},
           followup={"applicant_satisfaction": "dissatisfied"})
    score = _score(case_id)
    assert (score.on_time, score.success, score.satisfaction, score.score) == (False, False, 0, 0)


def test_follow_up_needs_what_the_parties_said(ctx):
    with frozen_at(T0):
        case_id = register_case(user("window"), intake_data()).id
    _drive(case_id, ["triage", "dispatch", "accept", "handle", "feedback"], T0)
    item = open_item(case_id, "followup")
    assert item.lane == "核查督办" and item.due_at == T0 + timedelta(days=3)
    before = row_counts()
    with pytest.raises(ValidationFailed):
        complete_task(user("verify"), item.id, {**STEP_FORMS["followup"][1](), "notes": ""})
    with pytest.raises(ValidationFailed):
        complete_task(user("verify"), item.id, {**STEP_FORMS["followup"][1](), "applicant_satisfaction": "meh"})
    assert row_counts() == before
