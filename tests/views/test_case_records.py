"""What the dossier is made of, through the pages: the parties' ethnicity and occupation at intake,
investigation records and attached files on the case page."""
from __future__ import annotations

from sqlalchemy import select

from portal.extensions import db
from portal.models import Case
from tests.conftest import row_counts
from tests.views.test_pages import _intake_form


def test_intake_records_ethnicity_and_occupation_and_the_case_page_shows_them(login_as, ctx):
    client = login_as("window")
    resp = client.post("/cases/register", data=_intake_form(**{
        "applicants-0-ethnicity": " 苗族 ", "applicants-0-occupation": "示范县宏达建筑劳务有限公司 钢筋工",
        "respondents-0-ethnicity": "", "respondents-0-occupation": ""}))
    assert resp.status_code == 302
    applicant, respondent = db.session.scalars(select(Case)).one().parties
    assert (applicant.ethnicity, applicant.occupation) == ("苗族", "示范县宏达建筑劳务有限公司 钢筋工")
    assert (respondent.ethnicity, respondent.occupation) == (None, None)     # optional: empty stays empty
    page = client.get(resp.headers["Location"]).get_data(as_text=True)
    assert "苗族" in page and "钢筋工" in page


def test_an_overlong_ethnicity_is_refused_and_nothing_is_saved(login_as, ctx):
    client = login_as("window")
    before = row_counts()
    resp = client.post("/cases/register", data=_intake_form(**{"applicants-0-ethnicity": "族" * 21}))
    assert resp.status_code == 400 and "张三与李四宅基地纠纷" in resp.get_data(as_text=True)
    assert row_counts() == before


def _typed(form: dict) -> dict:
    return {**form, "held_at": form["held_at"].strftime("%Y-%m-%dT%H:%M")}


def test_the_handling_unit_records_an_investigation_from_the_case_page(login_as, make_case):
    from tests.conftest import investigation_form
    case_id = make_case(until="handle")
    client = login_as("sifa")
    page = client.get(f"/cases/{case_id}").get_data(as_text=True)
    assert 'id="record-investigation"' in page and 'id="investigation-list"' in page
    form_page = client.get(f"/cases/{case_id}/investigation").get_data(as_text=True)
    assert 'id="action-form"' in form_page and 'name="content"' in form_page
    resp = client.post(f"/cases/{case_id}/investigation", data=_typed(investigation_form()))
    assert resp.status_code == 302 and resp.headers["Location"].endswith(f"/cases/{case_id}#investigations")
    page = client.get(f"/cases/{case_id}").get_data(as_text=True)
    assert "宅基地老界址的位置" in page and "核桃树往东一米" in page and "刘五" in page


def test_an_investigation_refused_is_shown_again_as_typed_and_saves_nothing(login_as, make_case):
    from tests.conftest import investigation_form
    case_id = make_case(until="handle")
    for username in ("grid", "renshe", "xiang"):
        client = login_as(username)
        before = row_counts()
        resp = client.post(f"/cases/{case_id}/investigation", data=_typed(investigation_form()))
        assert resp.status_code == 403, username
        assert row_counts() == before
    data = _typed(investigation_form(content=""))
    client = login_as("sifa")
    before = row_counts()
    resp = client.post(f"/cases/{case_id}/investigation", data=data)
    html = resp.get_data(as_text=True)
    assert resp.status_code == 400 and "宅基地老界址的位置" in html       # kept as typed
    assert row_counts() == before
    page = login_as("xiang").get(f"/cases/{case_id}").get_data(as_text=True)
    assert 'id="record-investigation"' not in page                          # the township sees, does not record
