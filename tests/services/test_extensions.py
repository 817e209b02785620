"""延期申请: within the legal maximum, one at a time, decided by the director."""
from __future__ import annotations

from datetime import datetime

import pytest

from portal.clock import frozen_at
from portal.extensions import db
from portal.models import Case, ExtensionRequest, RequestStatus
from portal.services.cases import complete_task
from portal.services.errors import TaskNotYoursError, ValidationFailed
from portal.services.extensions import request_extension
from tests.conftest import open_item, row_counts, user

T0 = datetime(2026, 3, 2, 1, 0)  # general tier: due Thu 2026-03-05 23:59:59 Beijing


@pytest.fixture
def case_id(make_case):
    return make_case(until="handle", at=T0)


def _decide(case_id, **data):
    item = open_item(case_id, "extension_decision")
    with frozen_at(T0):
        complete_task(user("director"), item.id, data)


def test_approved_extension_moves_the_deadline_and_the_open_step(case_id):
    with frozen_at(T0):
        req = request_extension(user("sifa"), case_id, 5, "需等待伤情鉴定结果")
    assert req.status == RequestStatus.PENDING
    item = open_item(case_id, "extension_decision")
    assert item.lane == "中心主任" and "5日" in item.form_defaults
    _decide(case_id, approve="yes", note="同意")
    case = db.session.get(Case, case_id)
    # 3.5 + 5 calendar days = Tue 3.10 (a working day), end of day in Beijing
    assert case.due_at == datetime(2026, 3, 10, 15, 59, 59)
    assert open_item(case_id, "handle").due_at == case.due_at
    assert db.session.get(ExtensionRequest, req.id).status == RequestStatus.APPROVED


def test_extensions_stop_at_the_legal_maximum(case_id):
    before = row_counts()
    with pytest.raises(ValidationFailed) as err:
        request_extension(user("sifa"), case_id, 31, "案情复杂")
    assert "30" in str(err.value)
    assert row_counts() == before
    with frozen_at(T0):
        request_extension(user("sifa"), case_id, 20, "案情复杂")
    with pytest.raises(ValidationFailed):        # one request at a time
        request_extension(user("sifa"), case_id, 2, "再次申请")
    _decide(case_id, approve="yes", note="")
    before = row_counts()
    with pytest.raises(ValidationFailed):        # only 10 days remain
        request_extension(user("sifa"), case_id, 15, "仍需时间")
    assert row_counts() == before
    with frozen_at(T0):
        request_extension(user("sifa"), case_id, 10, "最后一次")


def test_only_the_unit_holding_the_case_may_ask(case_id):
    before = row_counts()
    for name in ("renshe", "dispatch", "grid"):
        with pytest.raises(TaskNotYoursError):
            request_extension(user(name), case_id, 3, "代为申请")
    assert row_counts() == before


def test_a_refusal_needs_a_reason_and_keeps_the_deadline(case_id):
    due = db.session.get(Case, case_id).due_at
    with frozen_at(T0):
        request_extension(user("sifa"), case_id, 3, "当事人外出务工")
    before = row_counts()
    with pytest.raises(ValidationFailed):
        _decide(case_id, approve="no", note="")
    assert row_counts() == before
    _decide(case_id, approve="no", note="可安排线上调解，不予延期")
    assert db.session.get(Case, case_id).due_at == due
