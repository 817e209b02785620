"""Pages, logged in as each role involved; access rules of every route."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.models import Case, CaseStatus
from tests.conftest import STEP_FORMS, open_item, row_counts, session_form, statements

# Routes anyone may reach (login, language, static files, the landing page).
PUBLIC_ENDPOINTS = {"static", "appbuilder.static", "AuthDBView.login", "AuthDBView.logout", "LocaleView.index",
                    "PortalIndexView.index", "UtilView.back", "MenuApi.get_menu_data", "SecurityApi.login",
                    "SecurityApi.refresh",
                    # the citizens' pages, open by design (tests/views/test_public_pages.py, the access matrix)
                    *(f"PublicView.{e}" for e in ("index", "file", "filed", "track", "case", "delivery",
                                                  "delivery_pdf")),
                    # the REST API's description, and its JSON 404 for any other path (the API: tests/api)
                    "api.openapi", "api.unknown"}


def test_every_route_has_an_access_rule(app):
    client = app.test_client()
    checked = 0
    for rule in app.url_map.iter_rules():
        if rule.endpoint in PUBLIC_ENDPOINTS or "GET" not in rule.methods:
            continue
        url = rule.build({arg: 1 for arg in rule.arguments}, append_unknown=False)[1]
        resp = client.get(url)
        assert resp.status_code in (302, 401, 403), (rule.endpoint, url, resp.status_code)
        if resp.status_code == 302:  # to the login page (FAB's row actions bounce to the index)
            location = resp.headers["Location"]
            assert "/login/" in location or location == "/", (rule.endpoint, location)
        checked += 1
    assert checked >= 8


@pytest.mark.parametrize("username,path,status", [
    ("window", "/cases/register", 200), ("dispatch", "/cases/register", 403), ("sifa", "/cases/register", 403),
    ("grid", "/worklist/", 200), ("grid", "/cases/task/1", 403), ("verify", "/worklist/done", 200),
])
def test_role_permissions(login_as, username, path, status):
    assert login_as(username).get(path).status_code == status


def test_intake_page_registers_a_case(login_as, ctx):
    from tests.conftest import intake_data, unit_id  # noqa: F401
    client = login_as("window")
    form = _intake_form()
    resp = client.post("/cases/register", data=form)
    assert resp.status_code == 302, resp.get_data(as_text=True)[:2000]
    case = db.session.scalars(select(Case)).one()
    page = client.get(resp.headers["Location"]).get_data(as_text=True)
    assert case.code in page and "张三" in page and "11010519491231002X" in page


def test_a_registration_names_the_other_cases_of_its_parties_and_reads_nothing_more_without_them(login_as, ctx):
    client = login_as("window")
    with statements() as seen:
        first = client.post("/cases/register", data=_intake_form())
    assert first.status_code == 302
    assert seen[-1].lstrip().startswith("INSERT INTO audit_event")   # the registration's own: nothing after it
    first_code = db.session.scalars(select(Case.code)).one()
    second = client.post("/cases/register", data=_intake_form(title="张三与王五借款纠纷"), follow_redirects=True)
    page = second.get_data(as_text=True)
    assert second.status_code == 200 and f"其他 1 件案件中：{first_code}" in page


def _intake_form(**overrides):
    from portal.models import DisputeType, OrgUnit
    dtype = db.session.scalar(select(DisputeType.id).where(DisputeType.code == "0301"))
    town = db.session.scalar(select(OrgUnit.id).where(OrgUnit.code == "T01"))
    form = {"applicants-0-name": "张三", "applicants-0-id_number": "11010519491231002X",
            "applicants-0-phone": "13800138000", "applicants-0-address": "二组",
            "respondents-0-name": "李四", "respondents-0-id_number": "", "respondents-0-phone": "",
            "respondents-0-address": "", "title": "张三与李四宅基地纠纷", "dispute_type_id": dtype,
            "township_id": town, "village_id": 0, "place_kind": "residence", "place_detail": "",
            "facts": "边界争议", "requests": "确定边界", "amount": "", "people_count": "2",
            "source_channel": "walk_in", "route": "mediation"}
    form.update(overrides)
    return form


@pytest.mark.parametrize("overrides,message", [
    ({"applicants-0-id_number": "110105194912310021"}, "身份证号"),
    ({"facts": ""}, None),
    ({"township_id": "999999"}, None),
    ({"amount": "sNaN"}, "不是有效的数字"),      # a NaN once broke the range check (a 500)
    ({"amount": "Infinity"}, "不是有效的数字"),
    ({"amount": "1e20"}, "不是有效的数字"),       # more than the column holds
])
def test_bad_intake_keeps_the_form_and_saves_nothing(login_as, ctx, overrides, message):
    client = login_as("window")
    before = row_counts()
    resp = client.post("/cases/register", data=_intake_form(**overrides))
    html = resp.get_data(as_text=True)
    assert resp.status_code == 400
    assert "张三与李四宅基地纠纷" in html        # kept as typed
    assert "未保存" in html or "nothing was saved" in html
    if message:
        assert message in html
    assert row_counts() == before


def test_unknown_case_code_says_so(login_as):
    resp = login_as("dispatch").get("/cases/find?code=MT2026999999")
    assert resp.status_code == 404 and "未找到" in resp.get_data(as_text=True)


def test_each_role_completes_its_step_through_the_pages(login_as, make_case):
    case_id = make_case(until="triage")
    for step, (username, form) in STEP_FORMS.items():
        client = login_as(username)
        item = open_item(case_id)
        assert client.get("/worklist/").get_data(as_text=True).count(f"/cases/task/{item.id}") == 1
        assert client.get(f"/cases/task/{item.id}").status_code == 200
        if step == "handle":  # the session the agreement rests on, through its page
            assert 'id="record-session"' in client.get(f"/cases/{case_id}").get_data(as_text=True)
            session = {**session_form(), "held_at": session_form()["held_at"].strftime("%Y-%m-%dT%H:%M")}
            resp = client.post(f"/cases/{case_id}/session", data=session)
            assert resp.status_code == 302, resp.get_data(as_text=True)[:3000]
            assert "要求按老界址" in client.get(f"/cases/{case_id}").get_data(as_text=True)
        resp = client.post(f"/cases/task/{item.id}", data=form())
        assert resp.status_code == 302, (step, resp.get_data(as_text=True)[:3000])
        db.session.expire_all()
    assert db.session.get(Case, case_id).status == CaseStatus.CLOSED
    page = login_as("window").get(f"/cases/{case_id}").get_data(as_text=True)
    assert "已结案" in page


def test_stale_form_submitted_twice_gets_a_clear_message(login_as, make_case):
    case_id = make_case(until="triage")
    item = open_item(case_id)
    client = login_as("dispatch")
    assert client.post(f"/cases/task/{item.id}", data=STEP_FORMS["triage"][1]()).status_code == 302
    before = row_counts()
    resp = client.post(f"/cases/task/{item.id}", data=STEP_FORMS["triage"][1]())
    assert resp.status_code == 409 and "已由" in resp.get_data(as_text=True)
    assert row_counts() == before


def test_task_of_another_unit_is_refused(login_as, make_case):
    case_id = make_case(until="handle")
    item = open_item(case_id)
    client = login_as("renshe")
    before = row_counts()
    resp = client.post(f"/cases/task/{item.id}", data=STEP_FORMS["handle"][1]())
    assert resp.status_code == 403
    assert row_counts() == before


def test_personal_data_masked_for_roles_that_do_not_need_it(login_as, make_case):
    case_id = make_case(until="verify")
    html = login_as("verify").get(f"/cases/{case_id}").get_data(as_text=True)
    assert "11010519491231002X" not in html and "110***********002X" in html
    assert "138****8000" in html


def test_department_cannot_see_cases_of_others(login_as, make_case):
    case_id = make_case(until="handle")
    assert login_as("renshe").get(f"/cases/{case_id}").status_code == 403
    assert login_as("sifa").get(f"/cases/{case_id}").status_code == 200


def test_english_is_selectable(login_as):
    client = login_as("window")
    client.get("/lang/en")
    assert "My worklist" in client.get("/worklist/").get_data(as_text=True)
    client.get("/lang/zh")
    assert "我的待办" in client.get("/worklist/").get_data(as_text=True)


def test_forms_open_with_the_rules_proposals(login_as, make_case):
    case_id = make_case(until="triage")  # 0301 宅基地, 2 people, 5000 yuan: general / low, lead 自然资源局
    client = login_as("dispatch")
    html = client.get(f"/cases/task/{open_item(case_id).id}").get_data(as_text=True)
    assert '<option selected value="general">' in html and '<option selected value="low">' in html
    client.post(f"/cases/task/{open_item(case_id).id}", data=STEP_FORMS["triage"][1]())
    html = client.get(f"/cases/task/{open_item(case_id).id}").get_data(as_text=True)
    assert 'selected value="' in html
    selected = html.split('id="assigned_unit_id"')[1].split("</select>")[0]
    assert "selected" in selected.split("县自然资源局")[0].rsplit("<option", 1)[1]


def test_director_raises_a_card_from_the_case_page(login_as, make_case):
    case_id = make_case(until="handle")
    assert login_as("dispatch").get(f"/cases/{case_id}/card").status_code == 403
    client = login_as("director")
    assert "raise-card" in client.get(f"/cases/{case_id}").get_data(as_text=True)
    before = row_counts()
    resp = client.post(f"/cases/{case_id}/card", data={"level": "yellow", "reason": ""})
    assert resp.status_code == 400 and row_counts() == before
    resp = client.post(f"/cases/{case_id}/card", data={"level": "yellow", "reason": "逾期未反馈"})
    assert resp.status_code == 302
    page = login_as("sifalead").get("/worklist/supervised").get_data(as_text=True)
    assert "黄牌督办" in page


def test_unit_asks_for_an_extension_from_the_case_page(login_as, make_case):
    case_id = make_case(until="handle")
    assert "ask-extension" not in login_as("renshe").get(f"/cases/{case_id}").get_data(as_text=True)
    client = login_as("sifa")
    assert "ask-extension" in client.get(f"/cases/{case_id}").get_data(as_text=True)
    before = row_counts()
    resp = client.post(f"/cases/{case_id}/extension", data={"days": "40", "reason": "鉴定"})
    assert resp.status_code == 400 and "30" in resp.get_data(as_text=True) and row_counts() == before
    assert client.post(f"/cases/{case_id}/extension", data={"days": "5", "reason": "鉴定"}).status_code == 302
    assert "延期审批" in login_as("director").get("/worklist/").get_data(as_text=True)


def test_unit_stops_and_restarts_the_clock_from_the_case_page(login_as, make_case):
    case_id = make_case(until="handle")
    client = login_as("sifa")
    assert "pause-clock" in client.get(f"/cases/{case_id}").get_data(as_text=True)
    resp = client.post(f"/cases/{case_id}/pause", data={"reason": "appraisal", "note": "伤情鉴定"})
    assert resp.status_code == 302
    page = client.get(f"/cases/{case_id}").get_data(as_text=True)
    assert 'id="paused"' in page and "resume-clock" in page
    assert client.post(f"/cases/{case_id}/resume").status_code == 302
    assert login_as("renshe").post(f"/cases/{case_id}/resume").status_code in (400, 403)


def test_judicial_confirmation_from_the_case_page(login_as, make_case):
    case_id = make_case(until="feedback")
    client = login_as("sifa")
    assert "apply-confirmation" in client.get(f"/cases/{case_id}").get_data(as_text=True)
    before = row_counts()
    resp = client.post(f"/cases/{case_id}/confirmation", data={"court": "县人民法院", "applied_on": "2000-01-01"})
    assert resp.status_code == 400 and row_counts() == before   # not joint, and before the agreement
    from portal.services.deadlines import local_today
    with client.application.app_context():
        today = local_today().isoformat()
    resp = client.post(f"/cases/{case_id}/confirmation",
                       data={"court": "县人民法院", "applied_on": today, "joint": "y"})
    assert resp.status_code == 302
    assert "record-ruling" in client.get(f"/cases/{case_id}").get_data(as_text=True)
