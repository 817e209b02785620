"""Worklist pages: tabs, filters, claim and reassignment, comments, notifications, masking and its audit."""
from __future__ import annotations

import re

from sqlalchemy import func, select

from portal.extensions import db
from portal.models import AuditEvent, WorkItem
from portal.services.comments import deliver_notifications
from tests.conftest import open_item, row_counts, user

FULL_ID = "11010519491231002X"


def _audits(action):
    return db.session.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == action))


def test_personal_data_is_masked_on_the_case_page_and_in_the_export_for_the_verifier(login_as, make_case):
    case_id = make_case(until="verify")
    client = login_as("verify")
    page = client.get(f"/cases/{case_id}").get_data(as_text=True)
    assert FULL_ID not in page and "13800138000" not in page
    export = client.get("/worklist/export").get_data(as_text=True)
    assert FULL_ID not in export and "13800138000" not in export and "张三" in export
    assert _audits("case.view_personal") == 0 and _audits("export") == 1


def test_unmasked_views_and_exports_are_audited_for_roles_that_need_them(login_as, make_case):
    case_id = make_case(until="handle")
    client = login_as("sifa")
    assert FULL_ID in client.get(f"/cases/{case_id}").get_data(as_text=True)
    assert _audits("case.view_personal") == 1
    assert "13800138000" in client.get(f"/cases/task/{open_item(case_id, 'handle').id}").get_data(as_text=True)
    assert _audits("case.view_personal") == 2
    export = client.get("/worklist/export")
    assert export.mimetype == "text/csv" and FULL_ID in export.get_data(as_text=True)
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "export")).one()
    assert '"unmasked": true' in event.detail and event.username == "sifa"


def test_tabs_filters_and_the_countdown(login_as, make_case):
    case_id = make_case(until="handle")
    client = login_as("sifa")
    todo = client.get("/worklist/").get_data(as_text=True)
    assert f"/cases/task/{open_item(case_id, 'handle').id}" in todo and "label-success" in todo   # days left
    assert "张三与李四" in client.get("/worklist/unit?party=张三").get_data(as_text=True)
    assert "张三与李四" not in client.get("/worklist/unit?party=无此人").get_data(as_text=True)
    assert "张三与李四" not in client.get("/worklist/unit?overdue=1").get_data(as_text=True)
    assert client.get("/worklist/supervised").status_code == 200


def test_claim_and_bulk_reassignment_through_the_pages(login_as, make_case):
    case_id = make_case(until="handle")
    item_id = open_item(case_id, "handle").id
    client = login_as("sifa")
    resp = client.post(f"/cases/step/{item_id}/claim", headers={"Referer": "/worklist/"})
    assert resp.status_code == 302 and db.session.get(WorkItem, item_id).claimed_by_id == user("sifa").id
    db.session.expire_all()
    client = login_as("sifalead")
    before = row_counts()
    resp = client.post("/cases/reassign", data={"item_ids": [str(item_id)], "to_user_id": str(user("renshe").id)},
                       follow_redirects=True)
    assert "不是" in resp.get_data(as_text=True) and row_counts() == before     # outside the unit: refused
    db.session.expire_all()
    assert db.session.get(WorkItem, item_id).claimed_by_id == user("sifa").id


def test_comments_and_notifications_pages(login_as, make_case):
    case_id = make_case(until="handle")
    client = login_as("dispatch")
    resp = client.post(f"/cases/{case_id}/comment", data={"body": "当事人下午到中心"})
    assert resp.status_code == 302
    assert "当事人下午到中心" in client.get(f"/cases/{case_id}").get_data(as_text=True)
    before = row_counts()
    client.post(f"/cases/{case_id}/comment", data={"body": ""})
    assert row_counts() == before
    deliver_notifications()
    page = login_as("sifa").get("/worklist/notifications").get_data(as_text=True)
    assert "添加了备注" in page


def _pdf_text(data: bytes) -> str:
    import subprocess
    return subprocess.run(["pdftotext", "-", "-"], input=data, capture_output=True, check=True).stdout.decode()


def test_the_printed_case_sheet_masks_like_the_page(login_as, make_case):
    case_id = make_case(until="verify")
    masked = login_as("verify").get(f"/cases/{case_id}/print")
    assert masked.mimetype == "application/pdf"
    text = _pdf_text(masked.data)
    assert "张三" in text and "案件信息表" in text and FULL_ID not in text and "13800138000" not in text
    assert "002X" in text                                          # the masked form is printed
    full = _pdf_text(login_as("sifa").get(f"/cases/{case_id}/print").data)
    assert FULL_ID in full and "13800138000" in full
    assert _audits("case.view_personal") == 1                      # sifa's unmasked printout, audited


def _task_links(html: str) -> list[int]:
    return [int(n) for n in re.findall(r'href="/cases/task/(\d+)"', html)]


def test_a_long_worklist_comes_in_pages_each_step_on_exactly_one(login_as, make_case):
    from portal.views.worklist import PER_PAGE
    case_ids = [make_case("triage") for _ in range(PER_PAGE + 3)]
    client = login_as("dispatch")
    first = client.get("/worklist/").get_data(as_text=True)
    assert 'id="page-next"' in first and 'id="page-previous"' not in first and "第 1 页" in first
    second = client.get("/worklist/?page=2").get_data(as_text=True)
    assert 'id="page-next"' not in second and 'id="page-previous"' in second and "第 2 页" in second
    shown = _task_links(first) + _task_links(second)
    assert len(_task_links(first)) == PER_PAGE
    assert sorted(shown) == sorted(open_item(case_id, "triage").id for case_id in case_ids)
    items = [db.session.get(WorkItem, item_id) for item_id in shown]
    order = [(i.due_at is None, i.due_at or i.created_at, i.created_at, i.id) for i in items]
    assert order == sorted(order)   # deadline order (then arrival) runs on across the pages
    # The pager keeps the filters; a page number that is no number is the first page.
    unit = client.get("/worklist/unit?page=2&status=registered").get_data(as_text=True)
    assert "page=1" in unit and "status=registered" in unit
    for odd in ("abc", "-3", "99999999999999999999"):
        assert _task_links(client.get(f"/worklist/?page={odd}").get_data(as_text=True)) == _task_links(first)
    assert client.get("/worklist/?page=900").status_code == 200
    assert client.get("/worklist/unit?dispute_type_id=99999999999999999999").status_code == 200
