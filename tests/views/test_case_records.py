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
