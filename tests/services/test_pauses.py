"""Lawful pauses of the deadline clock: the stopped time is added; no cards rise while stopped."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from portal.clock import frozen_at
from portal.extensions import db
from portal.models import Case, SupervisionCard
from portal.services.errors import TaskNotYoursError, ValidationFailed
from portal.services.extensions import pause_deadline, resume_deadline
from portal.services.supervision import raise_due_cards
from tests.conftest import open_item, row_counts, user

T0 = datetime(2026, 3, 2, 1, 0)


@pytest.fixture
def case_id(make_case):
    return make_case(until="handle", at=T0)


def test_paused_time_is_added_to_the_deadline(case_id):
    due = db.session.get(Case, case_id).due_at
    with frozen_at(T0 + timedelta(days=1)):
        pause_deadline(user("sifa"), case_id, "appraisal", "等待县司法鉴定中心伤情鉴定")
    with frozen_at(due + timedelta(days=5)):      # long past the old deadline, but stopped: no cards
        assert raise_due_cards() == 0
    with frozen_at(T0 + timedelta(days=8, hours=6)):
        resume_deadline(user("sifa"), case_id)
    case = db.session.get(Case, case_id)
    assert case.due_at == due + timedelta(days=7, hours=6) and case.paused_since is None
    assert open_item(case_id, "handle").due_at == case.due_at
    with frozen_at(case.due_at + timedelta(hours=1)):
        raise_due_cards()
    assert db.session.query(SupervisionCard).filter_by(case_id=case_id).count() == 2  # normal and yellow


def test_pause_needs_a_reason_the_holder_and_a_running_clock(case_id):
    before = row_counts()
    with pytest.raises(TaskNotYoursError):
        pause_deadline(user("renshe"), case_id, "appraisal", "鉴定")
    with pytest.raises(ValidationFailed):
        pause_deadline(user("sifa"), case_id, "appraisal", " ")
    with pytest.raises(ValidationFailed):
        pause_deadline(user("sifa"), case_id, "holiday", "放假")
    with pytest.raises(ValidationFailed):
        resume_deadline(user("sifa"), case_id)
    assert row_counts() == before
    pause_deadline(user("sifa"), case_id, "waiting_party", "申请人在外务工，下月返乡")
    with pytest.raises(ValidationFailed):
        pause_deadline(user("sifa"), case_id, "appraisal", "再次暂停")
