"""The grid member's phone pages: who may open them, the form round trip, refusals that save nothing."""
from __future__ import annotations

import io

import pytest
from sqlalchemy import func, select

from portal.extensions import db
from portal.models import Case, CaseStatus, GridReport
from tests import papers
from tests.conftest import row_counts, unit_id
from tests.grid_support import dispute_type_id

pytestmark = pytest.mark.usefixtures("ctx")


def form(**overrides) -> dict:
    data = {"outcome": "to_township", "dispute_type_id": dispute_type_id(), "village_id": unit_id("T01V01"),
            "place_kind": "residence", "place_detail": "解放路12号3单元", "facts": "楼上住户夜间跳绳，双方争吵。",
            "requests": "", "people_count": "",
            "parties-0-kind": "applicant", "parties-0-name": "王芳", "parties-0-phone": "13800138001",
            "parties-0-id_number": "", "parties-1-kind": "respondent", "parties-1-name": "赵强",
            "parties-1-phone": "", "parties-1-id_number": "",
            "parties-2-kind": "respondent", "parties-2-name": "", "parties-2-phone": "", "parties-2-id_number": "",
            "latitude": "30.657421", "longitude": "104.065735", "accuracy_m": "25",
            "photos": [(io.BytesIO(papers.jpeg()), "IMG_0001.jpg")]}
    data.update(overrides)
    return data


def _reports() -> int:
    return db.session.scalar(select(func.count()).select_from(GridReport))


def test_the_grid_member_gets_the_phone_page_for_the_own_township(login_as):
    page = login_as("grid").get("/grid/report").get_data(as_text=True)
    assert 'id="grid-report-form"' in page and 'enctype="multipart/form-data"' in page
    assert "解放路社区第1网格" in page and "城关镇" in page
    assert f'<option selected value="{unit_id("T01V01")}">解放路社区</option>' in page
    assert "文庙社区" in page and "朝阳社区" not in page          # villages of the own township only
    assert 'name="viewport"' in page and 'accept="image/jpeg,image/png"' in page
    assert "portal/grid_report.js" in page


def test_an_administrator_opens_the_page_but_is_told_only_grid_members_report(login_as):
    resp = login_as("admin").get("/grid/report")
    page = resp.get_data(as_text=True)
    assert resp.status_code == 200 and 'id="grid-refusal"' in page and 'id="grid-report-form"' not in page


def test_a_report_is_sent_and_listed_with_its_case_status(login_as):
    client = login_as("grid")
    resp = client.post("/grid/report", data=form(), content_type="multipart/form-data")
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/grid/reports")
    case = db.session.scalar(select(Case))
    report = db.session.scalar(select(GridReport))
    assert (case.status, case.assigned_unit_id, len(case.parties)) == (CaseStatus.ACCEPTING, unit_id("T01"), 2)
    assert (report.latitude, report.longitude, report.accuracy_m) == (30.657421, 104.065735, 25.0)
    page = client.get("/grid/reports").get_data(as_text=True)
    assert f"案件 {case.code} 已登记，已交城关镇窗口受理。" in page
    assert case.code in page and str(CaseStatus.ACCEPTING.label) in page and "上报乡镇" in page


def test_without_a_position_the_report_goes_through(login_as):
    client = login_as("grid")
    resp = client.post("/grid/report", data=form(latitude="", longitude="", accuracy_m=""),
                       content_type="multipart/form-data")
    assert resp.status_code == 302
    assert db.session.scalar(select(GridReport.latitude)) is None


def test_resolved_on_the_spot_from_the_page(login_as):
    client = login_as("grid")
    resp = client.post("/grid/report", data=form(
        outcome="on_the_spot", applicant_statement="夜里跳绳影响休息", respondent_statement="以后十点后不跳",
        how_resolved="当面协商", terms="十点后不再跳绳", fulfilment="n_a", both_agreed="y",
        applicant_satisfaction="satisfied", respondent_satisfaction="satisfied"), content_type="multipart/form-data")
    assert resp.status_code == 302
    case = db.session.scalar(select(Case))
    assert (case.status, case.closing_type, case.fulfilment) == (CaseStatus.CLOSED, "mediated", "n_a")
    assert "以就地化解结案" in client.get("/grid/reports").get_data(as_text=True)


@pytest.mark.parametrize("overrides,words", [
    ({"parties-0-phone": "12345"}, "联系电话无效"),                     # the form's own check, on the field
    ({"parties-0-id_number": "110105194912310021"}, "身份证号无效"),
    ({"photos": [(io.BytesIO(b"GIF89a not really"), "IMG_0002.jpg")]}, "照片须为 PNG 或 JPEG 图像"),
    ({"facts": ""}, "请描述事情经过"),
    ({"parties-0-phone": ""}, "请至少填写一方当事人的电话"),
    ({"village_id": "999999"}, ""),                                         # not a choice of the page
    ({"outcome": "on_the_spot"}, "请填写申请人在现场的陈述"),
])
def test_a_refused_report_shows_why_and_saves_nothing(login_as, overrides, words):
    client = login_as("grid")
    before, reports = row_counts(), _reports()
    resp = client.post("/grid/report", data=form(**overrides), content_type="multipart/form-data")
    page = resp.get_data(as_text=True)
    assert resp.status_code == 400 and words in page and 'id="grid-report-form"' in page
    assert "王芳" in page                                                    # the form comes back as typed
    counts = row_counts()
    assert ({k: v for k, v in counts.items() if k != "audit_event"}, _reports()) == \
        ({k: v for k, v in before.items() if k != "audit_event"}, reports)


@pytest.mark.parametrize("username", ["xiang", "window", "cun"])
def test_other_roles_may_not_report(login_as, username):
    client = login_as(username)
    before = row_counts()
    resp = client.post("/grid/report", data=form(), content_type="multipart/form-data")
    assert resp.status_code in (302, 403) and "/grid/reports" not in resp.headers.get("Location", "")
    assert client.get("/grid/reports").status_code in (302, 403)
    assert {k: v for k, v in row_counts().items() if k != "audit_event"} == \
        {k: v for k, v in before.items() if k != "audit_event"}
