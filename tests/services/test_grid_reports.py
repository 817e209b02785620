"""流动调: a grid member's report becomes a case at the township's window, or a case closed as resolved
on the spot; bad input refuses the whole report and saves nothing."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from flask import current_app
from sqlalchemy import func, select

from portal.extensions import db
from portal.models import (
    AgreementKind,
    AuditEvent,
    CaseAttachment,
    CaseStatus,
    GridReport,
    MediationAgreement,
    MediationSession,
    OrgUnit,
    SourceChannel,
    WorkItem,
    WorkItemStatus,
)
from portal.services import queries
from portal.services.accounts import create_user
from portal.services.cases import complete_task
from portal.services.errors import ValidationFailed
from portal.services.grid_reports import (
    GridParty,
    GridPhoto,
    NotAGridMemberError,
    my_reports,
    report_incident,
)
from tests import papers
from tests.conftest import PASSWORD, open_item, row_counts, unit_id, user
from tests.grid_support import other_grid_member, report, spot

pytestmark = pytest.mark.usefixtures("ctx")


@pytest.fixture
def uploads() -> Path:
    folder = Path(current_app.config["UPLOAD_FOLDER"])
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    return folder


def _steps(case_id: int) -> dict[str, WorkItem]:
    return {w.form_key: w for w in db.session.scalars(select(WorkItem).where(WorkItem.case_id == case_id))}


def _reports() -> int:
    return db.session.scalar(select(func.count()).select_from(GridReport))


def test_a_report_becomes_a_case_waiting_at_the_township_window(uploads):
    grid = user("grid")
    made = report_incident(grid, report())
    case = made.case
    assert (case.source_channel, case.township_id, case.village_id) == \
        (SourceChannel.GRID, unit_id("T01"), unit_id("T01V01"))
    assert case.registered_by_id == grid.id and case.title == "王芳与赵强噪音纠纷"
    assert [(p.kind.value, p.name, p.phone, p.id_number) for p in case.parties] == [
        ("applicant", "王芳", "13800138001", "11010519491231002X"), ("respondent", "赵强", None, None)]
    photos = db.session.scalars(select(CaseAttachment).where(CaseAttachment.case_id == case.id)).all()
    assert [(a.category.value, a.title, a.content_type, a.filename) for a in photos] == [
        ("evidence", "现场照片1", "image/jpeg", "IMG_0001.jpg")]
    assert (uploads / photos[0].stored_name).is_file()
    assert (made.latitude, made.longitude, made.accuracy_m, made.outcome.value, made.grid_id) == \
        (30.657421, 104.065735, 18.0, "to_township", unit_id("T01V01G1"))
    # triaged by the rules' proposal, on the scene, dispatched to the township: its accept step waits there
    assert (case.status, case.resolution_mode, case.assigned_unit_id) == \
        (CaseStatus.ACCEPTING, "on_site", unit_id("T01"))
    steps = _steps(case.id)
    assert [(k, steps[k].completed_by_id) for k in ("intake", "triage", "dispatch")] == \
        [("intake", grid.id), ("triage", grid.id), ("dispatch", grid.id)]
    accept = steps["accept"]
    assert (accept.status, accept.org_unit_id, accept.due_at is not None) == (WorkItemStatus.OPEN, unit_id("T01"), True)
    assert accept.id in {w.id for w in queries.worklist(user("xiang"))}
    assert accept.id not in {w.id for w in queries.worklist(user("dispatch"))}
    actions = [(e.action, json.loads(e.detail or "{}").get("rule")) for e in db.session.scalars(
        select(AuditEvent).where(AuditEvent.case_id == case.id).order_by(AuditEvent.id))]
    assert actions == [("case.register", None), ("case.attachment_add", None), ("case.step", "grid_report"),
                       ("case.step", "grid_report"), ("grid.report", None)]


def test_the_township_may_object_and_the_case_goes_back_to_the_center_triage():
    case_id = report_incident(user("grid"), report()).case_id
    case = complete_task(user("xiang"), open_item(case_id, "accept").id, {"accepted": "no", "reason": "属县级部门职责"})
    assert case.status == CaseStatus.TRIAGING and open_item(case_id, "triage").org_unit_id == unit_id("CENTER")


def test_a_high_risk_report_is_left_to_the_center_triage():
    made = report_incident(user("grid"), report(people_count=12))   # ≥10 people: difficult, high risk
    assert made.case.status == CaseStatus.TRIAGING and made.case.assigned_unit_id is None
    assert open_item(made.case_id, "triage").org_unit_id == unit_id("CENTER")
    detail = json.loads(db.session.scalar(select(AuditEvent.detail).where(AuditEvent.action == "grid.report")))
    assert detail["routed"] == "center_triage"


def test_another_village_of_the_own_township_is_where_the_scene_was():
    made = report_incident(user("grid"), report(village_id=unit_id("T01V02")))
    assert (made.case.village_id, made.grid_id) == (unit_id("T01V02"), unit_id("T01V01G1"))


def test_resolved_on_the_spot_closes_the_case_with_its_result(uploads):
    grid = user("grid")
    made = report_incident(grid, report(outcome="on_the_spot", on_the_spot=spot()))
    case = made.case
    assert case.status == CaseStatus.CLOSED and case.closed_at is not None
    assert (case.closing_type, case.handling_result, case.resolution_mode, case.complexity) == \
        ("mediated", "oral_agreement", "on_site", "simple")
    assert (case.assigned_unit_id, case.fulfilment, case.satisfaction) == (unit_id("T01V01"), "fulfilled", "satisfied")
    steps = _steps(case.id)
    assert set(steps) == {"intake", "triage", "dispatch", "accept", "handle", "feedback", "followup", "verify",
                          "close"}
    assert all(w.status == WorkItemStatus.DONE and w.completed_by_id == grid.id for w in steps.values())
    session = db.session.scalar(select(MediationSession).where(MediationSession.case_id == case.id))
    assert (session.mode, session.mediators, session.attendees, session.place, session.result.value) == \
        ("on_site", "grid", "grid", "解放路12号3单元", "agreed")
    assert session.respondent_statement == "愿意晚上十点后不再跳绳"
    agreement = db.session.scalar(select(MediationAgreement).where(MediationAgreement.case_id == case.id))
    assert (agreement.kind, agreement.terms, agreement.performance, agreement.unit_id) == \
        (AgreementKind.ORAL, "楼上住户每晚十点后不再跳绳、不拖动家具", "当场履行完毕。", unit_id("T01V01"))
    assert json.loads(steps["verify"].result)["opinion"].startswith("就地化解")
    assert queries.case_score(case.id).success is True
    assert made.outcome.value == "on_the_spot"


@pytest.mark.parametrize("overrides,field", [
    ({"both_agreed": False}, "both_agreed"),
    ({"fulfilment": "not_yet"}, "fulfilment"),        # still to be performed: the township follows it up
    ({"terms": " "}, "terms"),
    ({"respondent_statement": ""}, "respondent_statement"),
    ({"applicant_satisfaction": "happy"}, "applicant_satisfaction"),
])
def test_an_incomplete_settlement_is_not_closed_on_the_spot(uploads, overrides, field):
    before, reports = row_counts(), _reports()
    with pytest.raises(ValidationFailed) as refused:
        report_incident(user("grid"), report(outcome="on_the_spot", on_the_spot=spot(**overrides)))
    assert refused.value.field == field
    assert (row_counts(), _reports(), list(uploads.iterdir())) == (before, reports, [])


def test_a_high_risk_dispute_cannot_be_closed_on_the_spot(uploads):
    before = row_counts()
    with pytest.raises(ValidationFailed, match="高风险或疑难") as refused:
        report_incident(user("grid"), report(outcome="on_the_spot", on_the_spot=spot(), people_count=15))
    assert refused.value.field == "outcome"
    assert (row_counts(), _reports(), list(uploads.iterdir())) == (before, 0, [])


def _oversized(monkeypatch):
    monkeypatch.setitem(current_app.config, "PORTAL_ATTACHMENT_MAX_BYTES", 1000)
    return {"photos": [GridPhoto("a.jpg", papers.jpeg())]}


BAD = {
    "bad phone": (lambda mp: {"parties": [GridParty("applicant", "王芳", "1380013800"),
                                          GridParty("respondent", "赵强")]}, "parties", "王芳的电话号码无效"),
    "bad ID": (lambda mp: {"parties": [GridParty("applicant", "王芳", "13800138001", "110105194912310021"),
                                       GridParty("respondent", "赵强")]}, "parties", "王芳的身份证号码无效"),
    "no phone at all": (lambda mp: {"parties": [GridParty("applicant", "王芳"), GridParty("respondent", "赵强")]},
                        "parties", "至少填写一方当事人的电话"),
    "no parties": (lambda mp: {"parties": []}, "parties", "至少一方当事人"),
    "one side only": (lambda mp: {"parties": [GridParty("applicant", "王芳", "13800138001")]}, "parties",
                      "至少需要填写一名申请人"),
    "fake photo": (lambda mp: {"photos": [GridPhoto("IMG_0002.jpg", b"\xff\xd8\xff\xe0 this is no photo" * 40)]},
                   "photos", "照片 IMG_0002.jpg：照片须为 PNG 或 JPEG 图像"),
    "a PDF named .jpg": (lambda mp: {"photos": [GridPhoto("scan.jpg", papers.pdf())]}, "photos", "照片须为"),
    "oversized photo": (_oversized, "photos", "超过允许的"),
    "too many photos": (lambda mp: {"photos": [GridPhoto(f"{i}.png", papers.png()) for i in range(7)]}, "photos",
                        "每次上报最多 6 张照片"),
    "missing facts": (lambda mp: {"facts": "  "}, "facts", "请描述事情经过"),
    "missing place": (lambda mp: {"place_detail": ""}, "place_detail", "请说明发生地点"),
    "second-level type": (lambda mp: {"dispute_type_id": None}, "dispute_type_id", "二级纠纷类型"),
    "half a position": (lambda mp: {"latitude": 30.6, "longitude": None}, "latitude", "定位无效"),
    "position out of range": (lambda mp: {"latitude": 95.0}, "latitude", "定位无效"),
    "unknown outcome": (lambda mp: {"outcome": "ignore"}, "outcome", "请选择有效的选项"),
}


@pytest.mark.parametrize("case", list(BAD))
def test_bad_input_gets_a_clear_message_and_nothing_is_saved(uploads, monkeypatch, case):
    make_overrides, field, words = BAD[case]
    overrides = make_overrides(monkeypatch)
    before, reports = row_counts(), _reports()
    with pytest.raises(ValidationFailed) as refused:
        report_incident(user("grid"), report(**overrides))
    assert refused.value.field == field and words in str(refused.value), str(refused.value)
    assert (row_counts(), _reports(), list(uploads.iterdir())) == (before, reports, [])


def test_a_grid_member_of_another_township_cannot_report_into_this_one(uploads):
    stranger = other_grid_member()
    before = row_counts()
    with pytest.raises(ValidationFailed) as refused:
        report_incident(stranger, report(village_id=unit_id("T01V01")))
    assert refused.value.field == "village_id" and "东城街道" in str(refused.value)
    assert (row_counts(), _reports(), list(uploads.iterdir())) == (before, 0, [])
    own = report_incident(stranger, report())      # without a village: the own grid's, in the own township
    assert (own.case.township_id, own.case.village_id) == (unit_id("T02"), unit_id("T02V01"))
    assert own.case.assigned_unit_id == unit_id("T02")
    assert open_item(own.case_id, "accept").id not in {w.id for w in queries.worklist(user("xiang"))}


@pytest.mark.parametrize("username", ["admin", "xiang", "cun", "window", "grid_mediator"])
def test_only_a_grid_member_working_in_a_grid_may_report(username):
    if username == "grid_mediator" and user(username) is None:   # works in a grid, but not as a grid member
        create_user(username, username, ["mediator"], "T01V01G1", PASSWORD)
    before = row_counts()
    with pytest.raises(NotAGridMemberError):
        report_incident(user(username), report())
    assert row_counts() == before


def test_a_grid_member_lists_the_own_reports_with_their_case_status():
    grid = user("grid")
    first = report_incident(grid, report())
    second = report_incident(grid, report(outcome="on_the_spot", on_the_spot=spot()))
    other = report_incident(other_grid_member(), report())
    listed = my_reports(grid)
    assert [r.id for r in listed] == [second.id, first.id]
    assert [r.case.status for r in listed] == [CaseStatus.CLOSED, CaseStatus.ACCEPTING]
    assert [r.id for r in my_reports(user("grid_t02"))] == [other.id]
    assert db.session.get(OrgUnit, listed[1].case.assigned_unit_id).code == "T01"
