"""The REST API as the 12345 hotline and the court's platform use it: tokens, the case's life through the
API, township scoping (a case of another township is "not found"), idempotent registration, bad input."""
from __future__ import annotations

import base64
import json

import pytest
from openapi_schema_validator import OAS30Validator
from sqlalchemy import func, select

from portal.extensions import db
from portal.models import AuditEvent, Case
from portal.views.openapi import openapi_document
from tests.conftest import do_step, open_item, row_counts, unit_id, user
from tests.pdfcheck import pdf_text

SPEC = openapi_document("http://localhost/api/v1")


def new_case(**overrides) -> dict:
    """A case as the hotline sends it."""
    return {"title": "王五与赵六噪音纠纷", "dispute_type_code": "0301", "township_code": "T01",
            "village_code": "T01V02", "place_kind": "residence", "place_detail": "二组",
            "facts": "赵六家夜间装修噪音扰民，多次协商未果。", "requests": "请求调解，停止夜间施工。", "amount": 0,
            "people_count": 2, "source_channel": "hotline",
            "applicants": [{"name": "王五", "id_number": "11010519491231002X", "phone": "13800138000",
                            "address": "二组12号"}],
            "respondents": [{"name": "赵六", "phone": "13900139000"}], **overrides}


def conforms(body, schema_name: str) -> None:
    """The response body is what the OpenAPI document says it is."""
    OAS30Validator({"components": SPEC["components"], "$ref": f"#/components/schemas/{schema_name}"}).validate(body)


def api_calls() -> list[dict]:
    return [json.loads(d) for d in db.session.scalars(select(AuditEvent.detail).where(AuditEvent.action == "api.call")
                                                      .order_by(AuditEvent.id))]


def test_create_status_complete_and_read_a_document_with_tokens(ctx, call):
    # the hotline files a work order
    resp = call("hotline", "POST", "/cases", json=new_case())
    assert resp.status_code == 201, resp.get_json()
    body = resp.get_json()
    conforms(body, "Case")
    code = body["code"]
    assert resp.headers["Location"] == f"/api/v1/cases/{code}"
    assert body["status"] == "triaging" and body["township"] == {"code": "T01", "name": "城关镇"}
    [triage] = body["open_tasks"]
    assert triage["form_key"] == "triage" and triage["can_complete"] is False  # the dispatcher's step
    case = db.session.scalar(select(Case).where(Case.code == code))
    assert case.source_channel.value == "hotline" and case.registered_by.first_name.startswith("hotline-")
    assert [p.name for p in case.parties] == ["王五", "赵六"]
    # the hotline follows it
    resp = call("hotline", "GET", f"/cases/{code}")
    assert resp.status_code == 200 and resp.get_json()["current_step"] == triage["name"]
    conforms(resp.get_json(), "Case")
    # the dispatcher's system triages it through the API; the center dispatches it to the court
    resp = call("dispatch", "GET", f"/tasks/{triage['id']}")
    conforms(resp.get_json(), "TaskForm")
    fields = {f["name"]: f for f in resp.get_json()["fields"]}
    assert fields["complexity"]["required"] and {"value": "general", "label": "一般（3日内办结）"} in \
        fields["complexity"]["choices"]
    resp = call("dispatch", "POST", f"/tasks/{triage['id']}/complete",
                json={"complexity": "general", "risk_level": "low", "resolution_mode": "in_center",
                      "opinion": "事实清楚"})
    assert resp.status_code == 200, resp.get_json()
    assert resp.get_json()["open_tasks"][0]["form_key"] == "dispatch"
    do_step(case.id, "dispatch", assigned_unit_id=unit_id("D04"))
    # the court's platform sees its new step, accepts the case, reads the registration form
    resp = call("court", "GET", f"/cases/{code}")
    [accept] = resp.get_json()["open_tasks"]
    assert accept["form_key"] == "accept" and accept["can_complete"] is True
    assert resp.get_json()["assigned_unit"]["code"] == "D04"
    resp = call("court", "POST", f"/tasks/{accept['id']}/complete", json={"accepted": "yes"})
    assert resp.status_code == 200 and resp.get_json()["status"] == "handling"
    assert open_item(case.id, "accept") is None and open_item(case.id, "handle").org_unit.code == "D04"
    resp = call("court", "GET", f"/cases/{code}/documents/registration")
    assert resp.status_code == 200 and resp.mimetype == "application/pdf"
    assert code in pdf_text(resp.data) and "王五" in pdf_text(resp.data)
    # the step is done: completing it again is refused as on the page
    resp = call("court", "POST", f"/tasks/{accept['id']}/complete", json={"accepted": "yes"})
    assert resp.status_code == 409 and resp.get_json()["error"]["code"] == "task_already_done"
    # every call is in the audit log, with its client, endpoint and status
    calls = api_calls()
    assert len(calls) == 8 and {c["client"].split("-")[0] for c in calls} == {"hotline", "dispatch", "court"}
    assert calls[0]["method"] == "POST" and calls[0]["endpoint"] == "/api/v1/cases" and calls[0]["status"] == 201
    assert calls[-1]["status"] == 409
    assert db.session.scalar(select(AuditEvent.action).where(AuditEvent.action == "document.print")) is not None


def test_the_step_of_another_lane_is_refused_as_on_the_page(ctx, call, make_case):
    case_id = make_case(until="triage")
    item = open_item(case_id, "triage")
    before = row_counts()
    resp = call("hotline", "POST", f"/tasks/{item.id}/complete",
                json={"complexity": "general", "risk_level": "low", "resolution_mode": "in_center", "opinion": "可"})
    assert resp.status_code == 403 and resp.get_json()["error"] == {
        "code": "task_not_yours", "message": "该环节未交办给您或您所在的单位。"}
    assert {**row_counts(), "audit_event": 0} == {**before, "audit_event": 0}


def test_form_errors_are_400_with_chinese_messages_and_nothing_is_saved(ctx, call, make_case):
    case_id = make_case(until="triage")
    item = open_item(case_id, "triage")
    before = row_counts()
    resp = call("dispatch", "POST", f"/tasks/{item.id}/complete",
                json={"complexity": "hard", "opinion": "", "colour": "red", "risk_level": {"x": 1}})
    assert resp.status_code == 400
    error = resp.get_json()["error"]
    assert error["code"] == "invalid_input" and error["message"] == "请修改标出的填写项，本次提交未保存。"
    assert error["fields"] == {"complexity": ["不是有效的选择。"], "opinion": ["该字段是必填字段。"],
                               "colour": ["表单中没有这个字段。"],
                               "risk_level": ["请填写文字、数字、是或否，或由它们组成的列表。"],
                               "resolution_mode": ["该字段是必填字段。"]}
    counts = row_counts()
    assert counts["audit_event"] == before["audit_event"] + 1  # the refused call itself
    assert {**counts, "audit_event": 0} == {**before, "audit_event": 0}
    assert open_item(case_id, "triage").id == item.id


@pytest.mark.parametrize("body,fields", [
    ({"applicants": [{"name": "王五", "id_number": "110105194912310021", "phone": "12345"}]},
     {"applicants[0].id_number": ["身份证号无效，请核对18位号码及末位校验码。"],
      "applicants[0].phone": ["联系电话无效，请填写11位手机号码，或“区号+号码”的固定电话。"]}),
    ({"township_code": "T99"}, {"township_code": ["没有这个代码。"]}),
    ({"dispute_type_code": "03"}, {"dispute_type_code": ["不是有效的选择。"]}),
    ({"village_code": "T02V01"}, {"village_code": ["所选村（社区）不属于该乡镇（街道），请重新选择。"]}),
    ({"amount": "1e30"}, {"amount": ["请填写小于一万亿的数字。"]}),
    ({"amount": "sNaN"}, {"amount": ["请填写小于一万亿的数字。"]}),
    ({"people_count": 0}, {"people_count": ["数值大小必须介于 1 到 100000 之间。"]}),
    ({"respondents": []}, {"respondents[0].name": ["该字段是必填字段。"]}),
    ({"respondents": [{"name": "x"}] * 11}, {"respondents": ["最多 10 人。"]}),
    ({"respondents": "赵六"}, {"respondents": ["请列出当事人，每人一个对象。"]}),
    ({"applicants": [{"name": "王五", "id_number": "11010519491231002X", "phone": "13800138000", "age": 3}]},
     {"applicants[0].age": ["表单中没有这个字段。"]}),
    ({"source_channel": "fax", "unknown": 1},
     {"source_channel": ["不是有效的选择。"], "unknown": ["表单中没有这个字段。"]}),
    ({"facts": ["a", "b"]}, {"facts": ["请填写文字、数字、是或否，或由它们组成的列表。"]}),
])
def test_a_bad_case_is_400_with_messages_and_nothing_is_saved(ctx, call, body, fields):
    before = row_counts()
    resp = call("hotline", "POST", "/cases", json=new_case(**body))
    assert resp.status_code == 400, resp.get_json()
    assert resp.get_json()["error"]["fields"] == fields
    conforms(resp.get_json(), "Error")
    assert {**row_counts(), "audit_event": 0} == {**before, "audit_event": 0}


@pytest.mark.parametrize("data,headers,status,code", [
    ("{not json", {"Content-Type": "application/json"}, 400, "bad_request"),
    ("[1, 2]", {"Content-Type": "application/json"}, 400, "bad_request"),
    ('{"title": NaN}', {"Content-Type": "application/json"}, 400, "bad_request"),
    ('{"title": "\\u0000"}', {"Content-Type": "application/json"}, 400, "bad_request"),
    ('{"title": "\\ud800"}', {"Content-Type": "application/json"}, 400, "bad_request"),
    ("[" * 100000, {"Content-Type": "application/json"}, 400, "bad_request"),
    ('{"a":' * 900 + "1" + "}" * 900, {"Content-Type": "application/json"}, 400, "invalid_input"),
    ('{"applicants": [' + "[" * 900 + "]" * 900 + "]}", {"Content-Type": "application/json"}, 400, "invalid_input"),
    ("title=x", {"Content-Type": "application/x-www-form-urlencoded"}, 400, "bad_request"),
    ('{"facts": "' + "长" * 300000 + '"}', {"Content-Type": "application/json"}, 413, "request_entity_too_large"),
])
def test_unreadable_bodies_are_refused_in_json(ctx, call, data, headers, status, code):
    before = row_counts()
    resp = call("hotline", "POST", "/cases", data=data, headers=headers)
    assert resp.status_code == status and resp.get_json()["error"]["code"] == code
    assert resp.get_json()["error"]["message"]
    assert {**row_counts(), "audit_event": 0} == {**before, "audit_event": 0}


def test_a_retry_with_the_same_idempotency_key_gets_the_same_case(ctx, call):
    first = call("hotline", "POST", "/cases", json=new_case(), headers={"Idempotency-Key": "12345-0001"})
    assert first.status_code == 201
    again = call("hotline", "POST", "/cases", json=new_case(), headers={"Idempotency-Key": "12345-0001"})
    assert again.status_code == 200 and again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json()["code"] == first.get_json()["code"]
    assert db.session.scalar(select(func.count()).select_from(Case)) == 1
    # the same key for another request: refused; another key: a new case
    other = call("hotline", "POST", "/cases", json=new_case(title="另一件"), headers={"Idempotency-Key": "12345-0001"})
    assert other.status_code == 422 and other.get_json()["error"]["code"] == "idempotency_key_reused"
    assert call("hotline", "POST", "/cases", json=new_case(), headers={"Idempotency-Key": "12345-0002"}).status_code \
        == 201
    # keys are each client's own
    assert call("dispatch", "POST", "/cases", json=new_case(), headers={"Idempotency-Key": "12345-0001"}).status_code \
        == 201
    assert db.session.scalar(select(func.count()).select_from(Case)) == 3
    bad = call("hotline", "POST", "/cases", json=new_case(), headers={"Idempotency-Key": "键"})
    assert bad.status_code == 400


def test_a_township_bound_client_cannot_read_or_work_another_townships_case(ctx, call, make_case):
    theirs = make_case(until="handle", township_id=unit_id("T02"), village_id=None, title="乙镇土地流转纠纷")
    mine = make_case(until="handle", title="甲镇宅基地纠纷")
    item = open_item(theirs, "handle")
    code = db.session.get(Case, theirs).code
    before = row_counts()
    for name in ("town", "court"):   # 城关镇's system; the court, which the case was not sent to
        for method, path, body in (("GET", f"/cases/{code}", None), ("GET", f"/tasks/{item.id}", None),
                                   ("POST", f"/tasks/{item.id}/complete", {"result": "withdrawn"}),
                                   ("GET", f"/cases/{code}/documents/registration", None)):
            resp = call(name, method, path, json=body)
            assert resp.status_code == 404, (name, path, resp.status_code)
            assert "乙镇" not in resp.get_data(as_text=True)
        listed = call(name, "GET", "/cases?changed_since=2000-01-01T00:00:00Z").get_json()["items"]
        assert code not in {c["code"] for c in listed}
    # unknown and foreign look the same
    assert call("town", "GET", "/cases/MT2099999999").get_json() == call("town", "GET", f"/cases/{code}").get_json()
    assert {**row_counts(), "audit_event": 0} == {**before, "audit_event": 0}
    # the hotline desk bound to 东城街道 reads its case and not the other township's, and files only there
    mine_code = db.session.get(Case, mine).code
    assert call("hotline_t2", "GET", f"/cases/{code}").status_code == 200
    assert call("hotline_t2", "GET", f"/cases/{mine_code}").status_code == 404
    resp = call("hotline_t2", "POST", "/cases", json=new_case())
    assert resp.status_code == 403 and resp.get_json()["error"]["message"] == "此接入系统只能登记东城街道的案件。"
    assert call("town", "GET", f"/cases/{mine_code}").status_code == 200


def test_unknown_revoked_or_missing_tokens_are_401(ctx, call, client, tokens):
    from portal.services.api_clients import ApiClientData, create_api_client, revoke_api_client
    for headers in ({}, {"Authorization": "Bearer mtk_nothing"}, {"Authorization": "Basic YWRtaW46eA=="},
                    {"Authorization": f"Bearer {tokens['hotline']}x"}, {"Authorization": "Bearer " + "a" * 5000}):
        resp = client.get("/api/v1/cases", headers=headers)
        assert resp.status_code == 401 and resp.headers["WWW-Authenticate"] == "Bearer"
        assert resp.get_json()["error"]["code"] == "unauthorized"
    # a logged-in admin's cookie is no token
    client.post("/login/", data={"username": "admin", "password": "test-pass-1"})
    assert client.get("/api/v1/cases").status_code == 401
    # a token of a client revoked a moment ago
    made, token = create_api_client(user("admin"), ApiClientData("撤销-test", "intake_clerk", unit_id("CENTER"), None,
                                                                  ["cases:read"]))
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/cases", headers=headers).status_code == 200
    revoke_api_client(user("admin"), made.id)
    assert client.get("/api/v1/cases", headers=headers).status_code == 401
    assert api_calls()[-1] == {"client": None, "method": "GET", "endpoint": "/api/v1/cases", "status": 401}


def test_a_client_without_the_operation_is_refused(ctx, call, tokens, app):
    from portal.services.api_clients import ApiClientData, create_api_client
    _c, token = create_api_client(user("admin"), ApiClientData("只读-op-test", "intake_clerk", unit_id("CENTER"),
                                                                 None, ["cases:read"]))
    resp = app.test_client().post("/api/v1/cases", json=new_case(), headers={"Authorization": f"Bearer {token}"})
    assert resp.status_code == 403 and resp.get_json()["error"]["code"] == "forbidden_operation"
    assert db.session.scalar(select(func.count()).select_from(Case)) == 0


def test_changed_cases_come_in_pages_ordered_by_change(ctx, call, make_case):
    from datetime import datetime
    ids = [make_case(until="triage", at=datetime(2026, 3, d, 2, 0)) for d in (1, 2, 3, 4, 5)]
    codes = [db.session.get(Case, i).code for i in ids]
    seen, cursor = [], None
    for _page in range(4):
        query = f"cursor={cursor}" if cursor else "changed_since=2026-03-02T09:00:00%2B08:00"
        resp = call("reader", "GET", f"/cases?{query}&limit=2")
        assert resp.status_code == 200
        conforms(resp.get_json(), "CasePage")
        seen += [c["code"] for c in resp.get_json()["items"]]
        cursor = resp.get_json()["next_cursor"]
        if cursor is None:
            break
    assert seen == codes[1:]   # from 2 March 01:00 UTC on
    for bad in ("changed_since=yesterday", "limit=0", "limit=101", "limit=x", "limit=²", "cursor=@@@",
                "cursor=bm90aGluZw", "changed_since=9999-12-31T23:59:59-23:59",
                "cursor=" + base64.urlsafe_b64encode(b"2026-03-01T00:00:00|99999999999999999999").decode()):
        resp = call("reader", "GET", f"/cases?{bad}")
        assert resp.status_code == 400 and resp.get_json()["error"]["message"], bad


def test_no_cookie_is_set_and_unknown_endpoints_answer_in_json(ctx, call):
    resp = call("reader", "GET", "/cases")
    assert resp.status_code == 200 and "Set-Cookie" not in resp.headers
    for method, path in (("GET", "/nothing"), ("DELETE", "/cases"), ("PUT", "/tasks/1/complete"),
                         ("GET", "/tasks/99999999999999999999"), ("GET", "/cases/X/documents/nothing")):
        resp = call("reader", method, path)
        assert resp.status_code in (403, 404, 405) and resp.get_json()["error"]["message"], (method, path)


def test_an_unknown_document_is_404(ctx, call, make_case):
    code = db.session.get(Case, make_case(until="triage")).code
    resp = call("hotline", "GET", f"/cases/{code}/documents/nothing")
    assert resp.status_code == 404 and resp.get_json()["error"]["message"] == "没有这种文书。"


def test_calls_over_the_rate_limit_are_429(ctx, call, app, monkeypatch):
    from datetime import datetime

    from portal.clock import frozen_at
    monkeypatch.setitem(app.config, "PORTAL_API_RATE_LIMIT", (3, 60))
    with frozen_at(datetime(2026, 5, 1, 8, 0, 15)):
        statuses = [call("reader", "GET", "/cases").status_code for _ in range(4)]
        assert statuses == [200, 200, 200, 429]
        resp = call("reader", "GET", "/cases")
        assert resp.headers["Retry-After"] == "45" and resp.get_json()["error"]["code"] == "rate_limited"
        assert resp.get_json()["error"]["message"] == "此接入系统请求过于频繁，请 45 秒后再试。"
        assert call("hotline", "GET", "/cases").status_code == 200   # each client its own count
    with frozen_at(datetime(2026, 5, 1, 8, 1, 0)):                   # the next minute
        assert call("reader", "GET", "/cases").status_code == 200


def test_the_api_needs_no_csrf_token_where_the_pages_do(ctx, call, client, app, monkeypatch):
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    assert call("hotline", "POST", "/cases", json=new_case()).status_code == 201
    page = client.post("/login/", data={"username": "window", "password": "test-pass-1"})
    assert page.status_code == 400 and "CSRF" in page.get_data(as_text=True)  # the pages still want theirs


def test_a_fault_of_the_portal_still_answers_in_json(ctx, call, app, monkeypatch):
    from portal.services import api

    def broken(*_args):
        raise RuntimeError("a bug")
    monkeypatch.setattr(api, "changed_cases", broken)
    monkeypatch.setitem(app.config, "PROPAGATE_EXCEPTIONS", False)
    resp = call("reader", "GET", "/cases")
    assert resp.status_code == 500 and resp.get_json()["error"]["code"] == "internal_error"
