"""Lawful-channel routing at intake: matters for a court, arbitration, review or 信访 go there, on their legal clock."""
from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import select

from portal.clock import frozen_at
from portal.extensions import db
from portal.models import Case, CaseStatus, WorkItem
from portal.services.cases import complete_task, register_case
from portal.services.errors import ValidationFailed
from tests.conftest import intake_data, open_item, row_counts, user

REFER = {"receiving_body": "县劳动人事争议仲裁委员会", "notice": "已告知申请人携带劳动合同、工资条到仲裁委申请仲裁"}


@pytest.mark.parametrize("route,registered,due", [
    # 5 calendar days, ending Sunday 3.8 -> the next working day, Monday 3.9 (Beijing), 23:59:59
    ("labour_arbitration", datetime(2026, 3, 3, 2, 0), datetime(2026, 3, 9, 15, 59, 59)),
    # 5 working days from Tue 2025-09-30: 10.9, 10.10, 10.11 (make-up Saturday), 10.13, 10.14
    ("land_arbitration", datetime(2025, 9, 30, 2, 0), datetime(2025, 10, 14, 15, 59, 59)),
    # 15 calendar days for the 信访 notice
    ("petition", datetime(2026, 3, 2, 2, 0), datetime(2026, 3, 17, 15, 59, 59)),
    ("litigation", datetime(2026, 3, 2, 2, 0), datetime(2026, 3, 9, 15, 59, 59)),
    ("admin_review", datetime(2026, 3, 2, 2, 0), datetime(2026, 3, 9, 15, 59, 59)),
])
def test_lawful_channel_goes_there_on_its_clock(ctx, route, registered, due):
    with frozen_at(registered):
        case_id = register_case(user("window"), intake_data(route=route)).id
        case = db.session.get(Case, case_id)
        assert case.status == CaseStatus.REFERRING and open_item(case_id).bpmn_id == "refer"
        complete_task(user("dispatch"), open_item(case_id).id, dict(REFER))
    case = db.session.get(Case, case_id)
    assert case.status == CaseStatus.REFERRED and case.due_at == due
    follow = open_item(case_id)
    assert follow.bpmn_id == "refer_followup" and follow.due_at == due
    with frozen_at(registered):
        complete_task(user("dispatch"), follow.id, {"outcome": "accepted", "note": "仲裁委已立案受理"})
    case = db.session.get(Case, case_id)
    assert case.status == CaseStatus.CLOSED and case.closing_type == "redirected"
    assert [w.bpmn_id for w in db.session.scalars(select(WorkItem).where(WorkItem.case_id == case_id)
                                                  .order_by(WorkItem.id))] == ["intake", "refer", "refer_followup"]


def test_mediation_goes_to_triage(ctx):
    case_id = register_case(user("window"), intake_data(route="mediation")).id
    assert open_item(case_id).bpmn_id == "triage"


def test_referral_needs_the_body_and_the_notice(ctx):
    case_id = register_case(user("window"), intake_data(route="petition")).id
    before = row_counts()
    with pytest.raises(ValidationFailed):
        complete_task(user("dispatch"), open_item(case_id).id, {"receiving_body": "县信访局", "notice": ""})
    assert row_counts() == before


def test_unknown_channel_is_refused(ctx):
    before = row_counts()
    with pytest.raises(ValidationFailed):
        register_case(user("window"), intake_data(route="tv_station"))
    assert row_counts() == before
