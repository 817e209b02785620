"""Agreements need both parties; 司法确认 is a joint application within 30 days, then the court's ruling."""
from __future__ import annotations

from datetime import date, datetime

import pytest

from portal.clock import frozen_at
from portal.extensions import db
from portal.models import Case, ConfirmationStatus
from portal.services.cases import complete_task
from portal.services.confirmation import apply_for_confirmation, record_confirmation_ruling
from portal.services.errors import TaskNotYoursError, ValidationFailed
from tests.conftest import STEP_FORMS, open_item, row_counts, user

T0 = datetime(2026, 3, 2, 1, 0)  # 2026-03-02 09:00 in Beijing


def test_an_agreement_without_both_parties_is_refused(make_case):
    case_id = make_case(until="handle", at=T0)
    item = open_item(case_id, "handle")
    before = row_counts()
    for missing in ({"respondent_signed": False}, {"agreement_date": None},
                    {"agreement_date": date(2026, 3, 9)}):       # a future date
        with frozen_at(T0), pytest.raises(ValidationFailed):
            complete_task(user("sifa"), item.id, {**STEP_FORMS["handle"][1](), **missing})
    assert row_counts() == before
    with frozen_at(T0):  # an ended mediation needs no signatures
        complete_task(user("sifa"), item.id, {"result": "terminated", "process_notes": "分歧较大",
                                              "next_channel": "可向人民法院起诉"})
    assert db.session.get(Case, case_id).agreement_date is None


def test_joint_application_within_thirty_days_then_the_ruling(make_case):
    case_id = make_case(until="feedback", at=T0)
    assert db.session.get(Case, case_id).agreement_date == date(2026, 3, 2)
    with frozen_at(datetime(2026, 4, 10, 2, 0)):
        before = row_counts()
        with pytest.raises(ValidationFailed):       # not together
            apply_for_confirmation(user("sifa"), case_id, "县人民法院", date(2026, 3, 20), joint=False)
        with pytest.raises(ValidationFailed) as late:   # day 33
            apply_for_confirmation(user("sifa"), case_id, "县人民法院", date(2026, 4, 4), joint=True)
        assert "2026-04-01" in str(late.value)
        with pytest.raises(TaskNotYoursError):
            apply_for_confirmation(user("verify"), case_id, "县人民法院", date(2026, 3, 20), joint=True)
        assert row_counts() == before
        record = apply_for_confirmation(user("sifa"), case_id, "县人民法院", date(2026, 4, 1), joint=True)
        assert record.status == ConfirmationStatus.APPLIED
        with pytest.raises(ValidationFailed):       # one per case
            apply_for_confirmation(user("sifa"), case_id, "县人民法院", date(2026, 4, 1), joint=True)
        with pytest.raises(ValidationFailed):       # ruled before the application
            record_confirmation_ruling(user("sifa"), case_id, True, "(2026)示0101民特3号", date(2026, 3, 30))
        record = record_confirmation_ruling(user("sifa"), case_id, True, "(2026)示0101民特3号", date(2026, 4, 8))
    assert record.status == ConfirmationStatus.CONFIRMED and record.ruling_no.endswith("3号")


def test_only_a_written_agreement_can_be_confirmed(make_case):
    case_id = make_case(until="handle", at=T0)
    with frozen_at(T0):
        complete_task(user("sifa"), open_item(case_id, "handle").id,
                      {**STEP_FORMS["handle"][1](), "result": "oral_agreement"})
        with pytest.raises(ValidationFailed):
            apply_for_confirmation(user("sifa"), case_id, "县人民法院", date(2026, 3, 2), joint=True)
