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


def _upload(client, case_id, data: bytes, filename="scan.png", category="evidence", title="现场照片"):
    from io import BytesIO
    return client.post(f"/cases/{case_id}/attachments", content_type="multipart/form-data",
                       data={"category": category, "title": title, "file": (BytesIO(data), filename)})


def test_the_unit_attaches_a_photo_and_everyone_who_sees_the_case_opens_it(login_as, make_case):
    from tests import papers
    case_id = make_case(until="handle")
    client = login_as("sifa")
    page = client.get(f"/cases/{case_id}").get_data(as_text=True)
    assert 'id="upload-form"' in page and 'enctype="multipart/form-data"' in page
    resp = _upload(client, case_id, papers.jpeg(), filename="现场.jpg")
    assert resp.status_code == 302 and resp.headers["Location"].endswith(f"/cases/{case_id}#attachments")
    page = client.get(f"/cases/{case_id}").get_data(as_text=True)
    assert "现场照片" in page and "现场.jpg" in page
    [link] = [line for line in page.split('"') if line.startswith("/cases/attachments/")]
    for username in ("sifa", "director", "xiang"):
        resp = login_as(username).get(link)
        assert resp.status_code == 200 and resp.mimetype == "image/jpeg" and resp.data == papers.jpeg()
        assert resp.headers["X-Content-Type-Options"] == "nosniff" and "no-store" in resp.headers["Cache-Control"]
        assert "inline" in resp.headers["Content-Disposition"]
    page = login_as("xiang").get(f"/cases/{case_id}").get_data(as_text=True)
    assert "现场照片" in page and 'id="upload-form"' not in page                  # sees, may not attach


def test_a_refused_upload_shows_the_case_page_with_the_reason_and_saves_nothing(login_as, make_case):
    from tests import papers
    case_id = make_case(until="handle")
    client = login_as("sifa")
    before = row_counts()
    for data, filename in ((b"", "empty.png"), (b"not an image", "scan.png"), (papers.encrypted_pdf(), "a.pdf")):
        resp = _upload(client, case_id, data, filename=filename, title="待补材料")
        html = resp.get_data(as_text=True)
        assert resp.status_code == 400 and 'id="upload-form"' in html and "待补材料" in html   # kept as typed
        assert "field-error" in html
    resp = client.post(f"/cases/{case_id}/attachments", data={"category": "evidence", "title": "没有文件"})
    assert resp.status_code == 400
    assert row_counts() == before
    for username in ("xiang", "director"):                              # they see the case, do not work its papers
        client = login_as(username)
        before = row_counts()
        assert _upload(client, case_id, papers.png()).status_code == 403
        assert row_counts() == before


def test_a_township_gets_no_paper_of_another_townships_case_and_nothing_is_audited(login_as, make_case):
    from portal.models import AuditEvent, OrgUnit
    from portal.services.attachments import add_attachment
    from tests import papers
    from tests.conftest import user
    town_b = db.session.scalar(select(OrgUnit).where(OrgUnit.code == "T02"))
    case_id = make_case(until="handle", township_id=town_b.id, village_id=None, title="乙镇土地流转纠纷")
    paper = add_attachment(user("sifa"), case_id, "evidence", "流转合同", "合同.pdf", papers.pdf(2))
    client = login_as("xiang")
    before = row_counts()
    resp = client.get(f"/cases/attachments/{paper.id}")
    assert resp.status_code in (403, 404) and resp.mimetype != "application/pdf"
    assert "流转合同" not in resp.get_data(as_text=True)
    assert _upload(client, case_id, papers.png()).status_code in (403, 404)
    assert client.get("/cases/attachments/999999").status_code == 404
    assert row_counts() == before
    assert db.session.scalar(select(AuditEvent.id).where(AuditEvent.action == "case.attachment_view")) is None


def test_identity_papers_open_only_for_roles_that_see_personal_data(login_as, make_case):
    from portal.services.attachments import add_attachment
    from tests import papers
    from tests.conftest import user
    case_id = make_case(until="handle")
    paper = add_attachment(user("window"), case_id, "identity", "申请人身份证", "id.png", papers.png())
    page = login_as("director").get(f"/cases/{case_id}").get_data(as_text=True)
    assert "申请人身份证" in page and f"/cases/attachments/{paper.id}" not in page
    assert login_as("director").get(f"/cases/attachments/{paper.id}").status_code == 403
    assert login_as("sifa").get(f"/cases/attachments/{paper.id}").status_code == 200


def test_a_request_bigger_than_any_attachment_is_refused_before_it_is_read(app, login_as, make_case):
    case_id = make_case(until="handle")
    client = login_as("sifa")
    resp = _upload(client, case_id, b"\0" * (app.config["MAX_CONTENT_LENGTH"] + 1))
    assert resp.status_code == 413 and "MB" in resp.get_data(as_text=True)
