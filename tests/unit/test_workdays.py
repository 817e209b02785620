"""Working days against the State Council's published arrangements for 2025 and 2026."""
from __future__ import annotations

from datetime import date

import pytest

from portal.workdays import DayUnit, deadline, is_workday, next_workday

D = date.fromisoformat


@pytest.mark.parametrize("day,workday", [
    # 2025 Spring Festival: 1.28-2.4 off; make-up workdays Sun 1.26 and Sat 2.8
    ("2025-01-26", True), ("2025-01-27", True), ("2025-01-28", False), ("2025-02-04", False),
    ("2025-02-05", True), ("2025-02-08", True), ("2025-02-09", False),
    # 2025 National Day and Mid-Autumn: 10.1-10.8 off; make-up workdays Sun 9.28 and Sat 10.11
    ("2025-09-28", True), ("2025-09-30", True), ("2025-10-01", False), ("2025-10-08", False),
    ("2025-10-09", True), ("2025-10-11", True), ("2025-10-12", False),
    # 2026 Spring Festival: 2.15-2.23 off; make-up workdays Sat 2.14 and Sat 2.28
    ("2026-02-14", True), ("2026-02-15", False), ("2026-02-23", False), ("2026-02-24", True),
    ("2026-02-28", True), ("2026-03-01", False),
    # 2026 National Day: 10.1-10.7 off; make-up workdays Sun 9.20 and Sat 10.10
    ("2026-09-20", True), ("2026-10-01", False), ("2026-10-07", False), ("2026-10-08", True),
    ("2026-10-10", True), ("2026-10-11", False),
])
def test_published_holidays_and_make_up_days(day, workday):
    assert is_workday(D(day)) is workday


def test_working_days_skip_the_holiday_and_count_the_make_up_day():
    # Registered Tue 2025-09-30; 3 working days: 10.9 (Thu), 10.10 (Fri), 10.11 (make-up Sat).
    assert deadline(D("2025-09-30"), 3, DayUnit.WORKING) == D("2025-10-11")
    # Registered Fri 2026-02-13; 5 working days: 2.14 (make-up Sat), 2.24, 2.25, 2.26, 2.27.
    assert deadline(D("2026-02-13"), 5, DayUnit.WORKING) == D("2026-02-27")


def test_calendar_days_ending_in_a_holiday_roll_to_the_next_working_day():
    # 3 calendar days from 2026-09-28 end on 10.1, a holiday: the deadline is Thu 10.8.
    assert deadline(D("2026-09-28"), 3, DayUnit.CALENDAR) == D("2026-10-08")
    # 30 calendar days from 2025-01-01 end Fri 1.31, in the Spring Festival: rolls to 2.5.
    assert deadline(D("2025-01-01"), 30, DayUnit.CALENDAR) == D("2025-02-05")
    assert deadline(D("2025-03-03"), 0, DayUnit.CALENDAR) == D("2025-03-03")


def test_years_the_package_does_not_know_use_the_administrators_table():
    new_year_2031 = D("2031-01-01")  # a Wednesday
    assert is_workday(new_year_2031)  # unknown year: Monday to Friday
    overrides = {new_year_2031: False, D("2031-01-04"): True}  # entered by the center (a Saturday make-up)
    assert not is_workday(new_year_2031, overrides)
    assert next_workday(new_year_2031, overrides) == D("2031-01-02")
    # 1.2 (Thu), 1.3 (Fri), 1.4 (the Saturday make-up day)
    assert deadline(D("2030-12-31"), 3, DayUnit.WORKING, overrides) == D("2031-01-04")
    assert deadline(D("2030-12-31"), 3, DayUnit.WORKING) == D("2031-01-03")


def test_negative_period_is_refused():
    with pytest.raises(ValueError):
        deadline(D("2025-01-01"), -1, DayUnit.WORKING)
