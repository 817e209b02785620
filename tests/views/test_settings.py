"""Administrators keep the deadline rules and calendar days; every change is audited."""
from __future__ import annotations

from sqlalchemy import delete, select

from portal.extensions import db
from portal.models import AuditEvent, CalendarDay, DeadlineRule


def test_only_administrators_reach_the_settings(login_as):
    assert login_as("dispatch").get("/deadlineruleview/list/").status_code == 403
    assert login_as("director").get("/calendardayview/list/").status_code == 403
    page = login_as("admin").get("/deadlineruleview/list/")
    assert page.status_code == 200 and "期限规则" in page.get_data(as_text=True)


def test_adding_a_calendar_day_is_audited(login_as, ctx):
    client = login_as("admin")
    form = client.get("/calendardayview/add").get_data(as_text=True)
    assert 'name="day"' in form
    resp = client.post("/calendardayview/add", data={"day": "2031-01-01", "is_workday": "", "note": "元旦"})
    assert resp.status_code == 302, resp.get_data(as_text=True)[-2000:]
    day = db.session.scalar(select(CalendarDay).where(CalendarDay.note == "元旦"))
    assert day is not None and day.is_workday is False
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "settings.create")
                               .order_by(AuditEvent.id.desc())).first()
    assert event.username == "admin" and "2031-01-01" in event.detail
    db.session.execute(delete(CalendarDay).where(CalendarDay.id == day.id))
    db.session.commit()


def test_county_default_rules_are_loaded(ctx):
    defaults = db.session.scalars(select(DeadlineRule).where(DeadlineRule.dispute_type_id.is_(None))).all()
    assert sorted((r.complexity.value, r.days) for r in defaults) == [
        ("complex", 10), ("difficult", 30), ("general", 3), ("simple", 0)]


def test_adding_a_deadline_rule_through_the_page(login_as, ctx):
    from portal.models import Complexity, DisputeType
    from portal.workdays import DayUnit
    dtype = db.session.scalar(select(DisputeType.id).where(DisputeType.code == "07"))
    client = login_as("admin")
    resp = client.post("/deadlineruleview/add", data={"dispute_type": dtype, "complexity": "complex", "days": "15",
                                                      "unit": "working", "note": "劳动争议调解15日"})
    assert resp.status_code == 302, resp.get_data(as_text=True)[-3000:]
    rule = db.session.scalar(select(DeadlineRule).where(DeadlineRule.dispute_type_id == dtype))
    assert (rule.complexity, rule.days, rule.unit) == (Complexity.COMPLEX, 15, DayUnit.WORKING)
    listing = client.get("/deadlineruleview/list/").get_data(as_text=True)
    assert "劳动争议调解15日" in listing and "工作日" in listing
    db.session.execute(delete(DeadlineRule).where(DeadlineRule.id == rule.id))
    db.session.commit()
