"""Timers: the 1-hour take-over (接件) deadline, fired by the worker under an injected clock."""
from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from portal.clock import frozen_at, utcnow
from portal.extensions import db
from portal.models import AuditEvent, Case, CaseStatus, WorkItem, WorkItemStatus
from portal.services.cases import complete_task, register_case
from portal.services.errors import ValidationFailed
from portal.services.timers import fire_due_timers
from tests.conftest import STEP_FORMS, do_step, intake_data, open_item, row_counts, user

ROOT = Path(__file__).resolve().parents[2]


def _dispatched_case(at):
    with frozen_at(at):
        case_id = register_case(user("window"), intake_data()).id
        for step in ("triage", "dispatch"):
            username, form = STEP_FORMS[step]
            complete_task(user(username), open_item(case_id).id, form())
    return case_id


def _supervisions(case_id):
    return db.session.scalars(select(WorkItem).where(WorkItem.case_id == case_id,
                                                     WorkItem.form_key == "supervise_accept")).all()


def test_unit_that_does_not_take_the_case_within_an_hour_is_supervised(ctx):
    t0 = utcnow().replace(microsecond=0) - timedelta(days=1)
    case_id = _dispatched_case(t0)
    item = open_item(case_id, "accept")
    assert item.due_at == t0 + timedelta(hours=1)
    assert db.session.get(Case, case_id).next_timer_due_at == t0 + timedelta(hours=1)
    with frozen_at(t0 + timedelta(minutes=59)):
        assert fire_due_timers() == 0
    assert _supervisions(case_id) == []
    with frozen_at(t0 + timedelta(minutes=61)):
        assert fire_due_timers() == 1
        assert fire_due_timers() == 0            # fired once, not again
    [card] = _supervisions(case_id)
    assert card.lane == "中心主任" and card.status == WorkItemStatus.OPEN
    case = db.session.get(Case, case_id)
    assert case.status == CaseStatus.ACCEPTING and case.next_timer_due_at is None
    assert open_item(case_id, "accept").status == WorkItemStatus.OPEN   # the unit can still take it
    with frozen_at(t0 + timedelta(minutes=70)):
        complete_task(user("director"), card.id, {"note": "已电话督促司法局立即接件"})
        complete_task(user("sifa"), open_item(case_id, "accept").id, STEP_FORMS["accept"][1]())
    assert db.session.get(Case, case_id).status == CaseStatus.HANDLING
    assert db.session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.case_id == case_id, AuditEvent.action == "case.timer")) == 1


def test_taken_in_time_means_no_supervision(ctx):
    t0 = utcnow().replace(microsecond=0) - timedelta(days=1)
    case_id = _dispatched_case(t0)
    with frozen_at(t0 + timedelta(minutes=20)):
        complete_task(user("sifa"), open_item(case_id, "accept").id, STEP_FORMS["accept"][1]())
    assert db.session.get(Case, case_id).next_timer_due_at is None
    with frozen_at(t0 + timedelta(hours=5)):
        assert fire_due_timers() == 0
    assert _supervisions(case_id) == []


def test_objection_needs_a_reason_and_sends_the_case_back_to_triage(ctx):
    case_id = _dispatched_case(utcnow() - timedelta(minutes=5))
    item = open_item(case_id, "accept")
    before = row_counts()
    with pytest.raises(ValidationFailed):
        complete_task(user("sifa"), item.id, {"accepted": "no", "reason": " "})
    assert row_counts() == before
    complete_task(user("sifa"), item.id, {"accepted": "no", "reason": "属劳动争议，应由人社局办理"})
    case = db.session.get(Case, case_id)
    assert case.status == CaseStatus.TRIAGING and case.assigned_unit_id is None
    assert open_item(case_id).bpmn_id == "triage"


def test_closing_ends_an_open_supervision(ctx):
    t0 = utcnow().replace(microsecond=0) - timedelta(days=2)
    case_id = _dispatched_case(t0)
    with frozen_at(t0 + timedelta(hours=2)):
        fire_due_timers()
        for step in ("accept", "handle", "feedback", "followup", "verify", "close"):
            do_step(case_id, step)
    case = db.session.get(Case, case_id)
    assert case.status == CaseStatus.CLOSED
    [card] = _supervisions(case_id)
    assert card.status == WorkItemStatus.CANCELLED


def test_two_worker_processes_fire_each_of_a_thousand_timers_once(app, ctx):
    t0 = utcnow() - timedelta(hours=3)
    case_ids = [_dispatched_case(t0 + timedelta(seconds=i)) for i in range(1000)]
    db.session.remove()
    env = {**os.environ, "PORTAL_DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
           "FLASK_APP": "portal:create_app()", "PORTAL_SECRET_KEY": "worker-test"}
    workers = [subprocess.Popen([sys.executable, "-m", "flask", "portal", "worker", "--once"], cwd=ROOT, env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outputs = [w.communicate(timeout=600) for w in workers]
    assert [w.returncode for w in workers] == [0, 0], outputs
    fired = [int(out.split()[3]) if out.startswith("fired") else 0 for out, _ in outputs]
    assert sum(fired) == 1000, outputs
    print("fired per worker:", fired)
    cards = db.session.execute(select(WorkItem.case_id, func.count()).where(
        WorkItem.form_key == "supervise_accept").group_by(WorkItem.case_id)).all()
    assert sorted(c for c, _ in cards) == sorted(case_ids) and {n for _, n in cards} == {1}
    timer_events = db.session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.action == "case.timer"))
    assert timer_events == 1000
