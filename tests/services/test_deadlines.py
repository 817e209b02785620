"""Case deadlines: the administrators' rules, most specific first, on the working-day calendar."""
from __future__ import annotations

from datetime import date, datetime

import pytest
from sqlalchemy import delete, select

from portal.clock import frozen_at
from portal.extensions import db
from portal.models import CalendarDay, Case, Complexity, DeadlineRule, DisputeType
from portal.services.cases import complete_task, register_case
from portal.workdays import DayUnit
from tests.conftest import intake_data, open_item, user


@pytest.fixture
def rules(ctx):
    added = []

    def add(obj):
        db.session.add(obj)
        db.session.commit()
        added.append(obj)
    yield add
    for model in (DeadlineRule, CalendarDay):
        db.session.execute(delete(model).where(model.id.in_([o.id for o in added if isinstance(o, model)])))
    db.session.commit()


def _triaged_due(registered_utc: datetime, tier: str = "general", type_code: str = "0301") -> datetime:
    dtype = db.session.scalar(select(DisputeType).where(DisputeType.code == type_code))
    with frozen_at(registered_utc):
        case_id = register_case(user("window"), intake_data(dispute_type_id=dtype.id)).id
        complete_task(user("dispatch"), open_item(case_id).id,
                      {"complexity": tier, "risk_level": "low", "resolution_mode": "at_home", "opinion": "研判"})
    return db.session.get(Case, case_id).due_at


def test_county_default_in_calendar_days_rolls_past_national_day(ctx):
    # Registered Tue 2025-09-30 09:00 Beijing; 3 calendar days end on 10.3, a holiday: due Thu 10.9 end of day.
    assert _triaged_due(datetime(2025, 9, 30, 1, 0)) == datetime(2025, 10, 9, 15, 59, 59)


def test_handled_on_the_spot_means_the_same_day(ctx):
    assert _triaged_due(datetime(2026, 3, 3, 2, 0), tier="simple") == datetime(2026, 3, 3, 15, 59, 59)


def test_type_rule_in_working_days_counts_the_make_up_saturday(rules):
    level1 = db.session.scalar(select(DisputeType).where(DisputeType.code == "03"))
    rules(DeadlineRule(dispute_type_id=level1.id, complexity=Complexity.GENERAL, days=5, unit=DayUnit.WORKING))
    # 10.9, 10.10, 10.11 (make-up Saturday), 10.13, 10.14
    assert _triaged_due(datetime(2025, 9, 30, 1, 0)) == datetime(2025, 10, 14, 15, 59, 59)
    level2 = db.session.scalar(select(DisputeType).where(DisputeType.code == "0301"))
    rules(DeadlineRule(dispute_type_id=level2.id, complexity=Complexity.GENERAL, days=1, unit=DayUnit.WORKING))
    assert _triaged_due(datetime(2025, 9, 30, 1, 0)) == datetime(2025, 10, 9, 15, 59, 59)
    # another type of the same level 1 still follows the level-1 rule
    assert _triaged_due(datetime(2025, 9, 30, 1, 0), type_code="0302") == datetime(2025, 10, 14, 15, 59, 59)


def test_days_the_center_sets_by_hand_count(rules):
    level1 = db.session.scalar(select(DisputeType).where(DisputeType.code == "03"))
    rules(DeadlineRule(dispute_type_id=level1.id, complexity=Complexity.COMPLEX, days=2, unit=DayUnit.WORKING))
    rules(CalendarDay(day=date(2026, 3, 4), is_workday=False, note="县内停工"))
    # Tue 3.3 registered: 3.4 is now a rest day, so 3.5 and 3.6
    assert _triaged_due(datetime(2026, 3, 3, 2, 0), tier="complex") == datetime(2026, 3, 6, 15, 59, 59)
