"""App servers keep users, permission answers and lanes between requests (the security snapshot),
but a change to any of them -- made by anyone, here by another connection as another app server or
psql would -- takes effect on the very next request."""
from __future__ import annotations

from contextlib import contextmanager

import pytest
from sqlalchemy import create_engine, text

from portal.extensions import db
from tests.conftest import PASSWORD, STEP_FORMS, open_item, row_counts


@contextmanager
def other_connection(app):
    """A connection of its own (another process's, as far as the portal can tell); commits on exit."""
    engine = create_engine(app.config["SQLALCHEMY_DATABASE_URI"])
    try:
        with engine.begin() as conn:
            yield conn
    finally:
        engine.dispose()


def _ids(app, username: str, role: str) -> dict:
    with other_connection(app) as conn:
        return {"user_id": conn.scalar(text("SELECT id FROM ab_user WHERE username = :u"), {"u": username}),
                "role_id": conn.scalar(text("SELECT id FROM ab_role WHERE name = :r"), {"r": role})}


def _worklist(client) -> int:
    return client.get("/worklist/").status_code


def test_a_revoked_role_is_refused_on_the_next_request(app, login_as):
    client = login_as("dispatch")
    assert _worklist(client) == 200
    assert _worklist(client) == 200  # kept: the second request reads only the version
    ids = _ids(app, "dispatch", "dispatcher")
    with other_connection(app) as conn:
        conn.execute(text("DELETE FROM ab_user_role WHERE user_id = :user_id AND role_id = :role_id"), ids)
    try:
        assert _worklist(client) == 403
    finally:
        with other_connection(app) as conn:
            conn.execute(text("INSERT INTO ab_user_role (user_id, role_id) VALUES (:user_id, :role_id)"), ids)
    assert _worklist(client) == 200


def test_a_deactivated_user_is_logged_out_on_the_next_request(app, login_as):
    client = login_as("verify")
    assert _worklist(client) == 200
    with other_connection(app) as conn:
        conn.execute(text("UPDATE ab_user SET active = :no WHERE username = 'verify'"), {"no": False})
    try:
        resp = client.get("/worklist/")
        assert resp.status_code == 302 and "/login" in resp.headers["Location"]
    finally:
        with other_connection(app) as conn:
            conn.execute(text("UPDATE ab_user SET active = :yes WHERE username = 'verify'"), {"yes": True})


def test_a_permission_taken_from_a_role_is_refused_on_the_next_request(app, login_as):
    client = login_as("director")
    assert _worklist(client) == 200
    with other_connection(app) as conn:
        pvm = conn.scalar(text(
            "SELECT pv.id FROM ab_permission_view pv JOIN ab_permission p ON p.id = pv.permission_id "
            "JOIN ab_view_menu v ON v.id = pv.view_menu_id WHERE p.name = 'can_read' AND v.name = 'Worklist'"))
        role = conn.scalar(text("SELECT id FROM ab_role WHERE name = 'director'"))
        conn.execute(text("DELETE FROM ab_permission_view_role WHERE permission_view_id = :pvm AND role_id = :role"),
                     {"pvm": pvm, "role": role})
    try:
        assert _worklist(client) == 403
    finally:
        with other_connection(app) as conn:
            conn.execute(text("INSERT INTO ab_permission_view_role (permission_view_id, role_id) VALUES (:pvm, :role)"),
                         {"pvm": pvm, "role": role})
    assert _worklist(client) == 200


def test_a_lane_taken_from_a_role_refuses_its_steps_on_the_next_request(app, login_as, make_case):
    case_id = make_case(until="triage")
    item = open_item(case_id)
    client = login_as("dispatch")
    assert client.get(f"/cases/task/{item.id}").status_code == 200  # the lanes are kept from here on
    with other_connection(app) as conn:
        conn.execute(text("DELETE FROM lane_role WHERE lane = '综合调度' AND role_name = 'dispatcher'"))
    try:
        before = row_counts()
        resp = client.post(f"/cases/task/{item.id}", data=STEP_FORMS["triage"][1]())
        assert resp.status_code == 403 and "未交办给您" in resp.get_data(as_text=True)
        assert row_counts() == before
    finally:
        with other_connection(app) as conn:
            conn.execute(text("INSERT INTO lane_role (lane, role_name) VALUES ('综合调度', 'dispatcher')"))
    assert client.post(f"/cases/task/{item.id}", data=STEP_FORMS["triage"][1]()).status_code == 302


@pytest.mark.parametrize("statement", [
    "UPDATE ab_role SET name = name WHERE name = 'dispatcher'",
    "UPDATE org_unit SET name = name WHERE code = 'CENTER'",
    "UPDATE ab_user SET first_name = first_name WHERE username = 'dispatch'",
    "UPDATE dispute_type SET name = name WHERE parent_id IS NULL",
    "UPDATE deadline_rule SET days = days WHERE dispute_type_id IS NULL",
    "INSERT INTO calendar_day (day, is_workday) VALUES ('2031-01-06', false)",
])
def test_every_change_to_a_security_table_raises_the_version(app, statement):
    with other_connection(app) as conn:
        before = conn.scalar(text("SELECT version FROM security_version"))
        conn.execute(text(statement))
        assert conn.scalar(text("SELECT version FROM security_version")) > before
        conn.execute(text("DELETE FROM calendar_day WHERE day = '2031-01-06'"))


def _menu(client) -> str:
    page = client.get("/worklist/").get_data(as_text=True)
    start = page.index('role="navigation"')
    return page[start:page.index('<div class="container">', start + 100)]


def test_the_menu_bar_kept_per_user_follows_a_new_role_a_new_name_and_the_language(app, login_as):
    """The menu bar is drawn once per user, language and security version: a role granted, a name
    changed (by another connection) or another language shows on the next page."""
    client = login_as("dispatch")
    before = _menu(client)
    assert 'href="/cases/register"' not in before and before == _menu(client)
    ids = _ids(app, "dispatch", "intake_clerk")
    with other_connection(app) as conn:
        name = conn.scalar(text("SELECT first_name FROM ab_user WHERE id = :user_id"), ids)
        conn.execute(text("INSERT INTO ab_user_role (user_id, role_id) VALUES (:user_id, :role_id)"), ids)
        conn.execute(text("UPDATE ab_user SET first_name = '新名字' WHERE id = :user_id"), ids)
    try:
        after = _menu(client)
        assert 'href="/cases/register"' in after and "新名字" in after
        other = app.test_client()               # another user on the same server: a bar of their own
        assert other.post("/login/", data={"username": "verify", "password": PASSWORD}).status_code == 302
        assert "新名字" not in _menu(other) and 'href="/cases/register"' not in _menu(other)
        assert "Register a case" not in after
        client.get("/lang/en")
        assert "Register a case" in _menu(client)
    finally:
        with other_connection(app) as conn:
            conn.execute(text("DELETE FROM ab_user_role WHERE user_id = :user_id AND role_id = :role_id"), ids)
            conn.execute(text("UPDATE ab_user SET first_name = :name WHERE id = :user_id"), {**ids, "name": name})
        client.get("/lang/zh")
    assert _menu(client) == before


def test_the_lists_a_form_offers_follow_a_renamed_village_and_dispute_type_on_the_next_request(app, login_as):
    """The intake form's units and dispute types are kept between requests; a change made elsewhere shows
    on the next page, and a refused registration is offered the new names too."""
    client = login_as("window")
    with other_connection(app) as conn:
        village, village_name = conn.execute(text(
            "SELECT id, name FROM org_unit WHERE kind = 'village' ORDER BY code LIMIT 1")).one()
        kind, kind_name = conn.execute(text(
            "SELECT id, name FROM dispute_type WHERE parent_id IS NOT NULL ORDER BY code LIMIT 1")).one()
    page = client.get("/cases/register").get_data(as_text=True)
    assert village_name in page and kind_name in page
    with other_connection(app) as conn:
        conn.execute(text("UPDATE org_unit SET name = '改名后的村' WHERE id = :id"), {"id": village})
        conn.execute(text("UPDATE dispute_type SET name = '改名后的纠纷类型' WHERE id = :id"), {"id": kind})
    try:
        page = client.get("/cases/register").get_data(as_text=True)
        assert "改名后的村" in page and "改名后的纠纷类型" in page
        assert village_name not in page.split('id="village_id"')[1].split("</select>")[0]
        refused = client.post("/cases/register", data={"title": ""}).get_data(as_text=True)
        assert "改名后的村" in refused and "改名后的纠纷类型" in refused
    finally:
        with other_connection(app) as conn:
            conn.execute(text("UPDATE org_unit SET name = :n WHERE id = :id"), {"n": village_name, "id": village})
            conn.execute(text("UPDATE dispute_type SET name = :n WHERE id = :id"), {"n": kind_name, "id": kind})
    assert village_name in client.get("/cases/register").get_data(as_text=True)


def test_a_deadline_rule_and_a_rest_day_set_elsewhere_decide_the_next_deadline(app, login_as, make_case):
    """The deadline rules and the center's calendar days are kept between requests; a rule changed or a
    rest day added elsewhere decides the deadline of the next case triaged."""
    from portal.models import Case, Complexity
    from portal.services.deadlines import legal_due_at, rule_for, utc_to_local
    from portal.workdays import DayUnit
    cases = [make_case(until="triage") for _ in range(3)]
    client = login_as("dispatch")

    def triage(case_id: int):
        resp = client.post(f"/cases/task/{open_item(case_id).id}", data=STEP_FORMS["triage"][1]())
        assert resp.status_code == 302
        db.session.expire_all()
        return db.session.get(Case, case_id)

    first = triage(cases[0])
    rule = rule_for(first.dispute_type_id, Complexity.GENERAL)
    assert first.due_at == legal_due_at(first.registered_at, rule.days, DayUnit(rule.unit))
    second = db.session.get(Case, cases[1])
    covering = rule_for(second.dispute_type_id, Complexity.GENERAL)
    where = "complexity = 'general' AND " + ("dispute_type_id IS NULL" if covering.dispute_type_id is None
                                              else f"dispute_type_id = {covering.dispute_type_id}")
    with other_connection(app) as conn:
        conn.execute(text(f"UPDATE deadline_rule SET days = days + 20 WHERE {where}"))
    try:
        second = triage(cases[1])
        assert second.due_at == legal_due_at(second.registered_at, covering.days + 20, DayUnit(covering.unit))
    finally:
        with other_connection(app) as conn:
            conn.execute(text(f"UPDATE deadline_rule SET days = days - 20 WHERE {where}"))
    third = db.session.get(Case, cases[2])
    rule = rule_for(third.dispute_type_id, Complexity.GENERAL)
    last_day = utc_to_local(legal_due_at(third.registered_at, rule.days, DayUnit(rule.unit))).date()
    with other_connection(app) as conn:
        conn.execute(text("INSERT INTO calendar_day (day, is_workday) VALUES (:day, :no)"),
                     {"day": last_day, "no": False})
    try:
        third = triage(cases[2])
        assert utc_to_local(third.due_at).date() > last_day
    finally:
        with other_connection(app) as conn:
            conn.execute(text("DELETE FROM calendar_day WHERE day = :day"), {"day": last_day})
