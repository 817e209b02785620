"""Property-based fuzzing of every endpoint of the API (hypothesis): arbitrary JSON, near-valid cases and step
forms with one value replaced, arbitrary parameters, raw bytes. No answer is a 500, every answer is JSON (or
the PDF asked for), and a refused request saves nothing but the audit row of the call."""
from __future__ import annotations

from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from portal.extensions import db
from portal.models import Case, WorkItem, WorkItemStatus
from portal.services.cases import complete_task
from tests.api.test_api import new_case
from tests.conftest import do_step, open_item, record_session, row_counts, unit_id, user

FUZZ = settings(max_examples=40, deadline=None, database=None, derandomize=True,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])

scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text()
json_values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4)
                           | st.dictionaries(st.text(max_size=12), inner, max_size=4), max_leaves=8)
json_objects = st.dictionaries(st.text(max_size=20), json_values, max_size=6)
tricky_text = st.sampled_from(["", " ", "nan", "sNaN", "-Infinity", "1e999999", "9" * 30, "0x10", "²", "١٢",
                               "2026-02-30", "2026-05-01T25:00", "\u200b", "'; DROP TABLE party;--", "<b>x</b>",
                               "null", "true", "T01", "0301", "MT2026000001"]) | st.text(max_size=30)


def near(valid: dict) -> st.SearchStrategy[dict]:
    """``valid`` with some values replaced by anything, some left out, and perhaps a field too many."""
    keys = sorted(valid)
    return st.builds(
        lambda changes, dropped, extra: {**{k: v for k, v in valid.items() if k not in dropped}, **changes, **extra},
        st.dictionaries(st.sampled_from(keys), json_values | tricky_text, max_size=3),
        st.sets(st.sampled_from(keys), max_size=2),
        st.dictionaries(st.text(max_size=8), json_values, max_size=1))


def persons(base: dict) -> st.SearchStrategy[dict]:
    """A valid case whose parties are anything, or whose first applicant has one value replaced."""
    person = base["applicants"][0]
    return st.builds(lambda applicant, respondents: {**base, "applicants": [applicant], "respondents": respondents},
                     near(person), st.lists(json_objects, max_size=3) | json_values)


@pytest.fixture
def fuzz(ctx, call, make_case):
    """call(name, method, path, **kwargs) that checks the properties of every answer."""
    def check(name, method, path, **kwargs):
        before = row_counts()
        resp = call(name, method, path, **kwargs)
        assert resp.status_code < 500, (method, path, kwargs, resp.get_data(as_text=True)[:500])
        if resp.mimetype != "application/pdf":
            body = resp.get_json(silent=True)
            assert body is not None, (method, path, resp.get_data(as_text=True)[:300])
        if resp.status_code >= 400:
            assert body["error"]["message"] and body["error"]["code"]
            counts = row_counts()
            assert counts["audit_event"] == before["audit_event"] + 1, (method, path, resp.status_code)
            assert {**counts, "audit_event": 0} == {**before, "audit_event": 0}, (method, path, body)
        return resp
    return check


def test_creating_cases(fuzz):
    @settings(FUZZ, max_examples=150)
    @given(body=json_objects | near(new_case()) | persons(new_case()),
           key=st.none() | st.text(st.characters(exclude_categories=("Cc", "Cs")), max_size=120))
    def run(body, key):
        headers = {"Idempotency-Key": key.encode("utf-8", "surrogatepass").decode("latin-1")} if key else {}
        fuzz("hotline", "POST", "/cases", json=body, headers=headers)
    run()


def test_raw_bodies(fuzz):
    @FUZZ
    @given(data=st.binary(max_size=200) | st.text(max_size=200).map(str.encode),
           content_type=st.sampled_from(["application/json", "text/plain", "application/x-www-form-urlencoded",
                                         "multipart/form-data", "application/json; charset=latin-1"]),
           path=st.sampled_from(["/cases", "/tasks/1/complete"]))
    def run(data, content_type, path):
        fuzz("dispatch", "POST", path, data=data, headers={"Content-Type": content_type})
    run()


def test_listing_and_reading(fuzz, make_case):
    code = db.session.get(Case, make_case(until="dispatch")).code

    @settings(FUZZ, max_examples=100)
    @given(params=st.fixed_dictionaries({}, optional=dict.fromkeys(["changed_since", "cursor", "limit", "other"],
                                                                    tricky_text)),
           case_code=st.sampled_from([code, code.lower()]) | tricky_text,
           task_id=st.integers(min_value=-5, max_value=2**70), name=st.sampled_from(["hotline", "town", "court"]))
    def run(params, case_code, task_id, name):
        fuzz(name, "GET", "/cases", query_string=params)
        fuzz(name, "GET", f"/cases/{quote(case_code, safe='')}")
        fuzz(name, "GET", f"/tasks/{task_id}")
    run()


def test_completing_steps(fuzz, make_case):
    triage = open_item(make_case(until="triage"), "triage")
    dispatched = make_case(until="dispatch")
    do_step(dispatched, "dispatch", assigned_unit_id=unit_id("D04"))
    accept = open_item(dispatched, "accept")
    handling = make_case(until="dispatch")
    do_step(handling, "dispatch", assigned_unit_id=unit_id("D04"))
    complete_task(user("fayuan"), open_item(handling, "accept").id, {"accepted": "yes", "reason": ""})
    record_session(handling, "fayuan")
    handle = open_item(handling, "handle")
    forms = {triage.id: ("dispatch", {"complexity": "general", "risk_level": "low", "resolution_mode": "in_center",
                                      "opinion": "事实清楚"}),
             accept.id: ("court", {"accepted": "yes", "reason": ""}),
             handle.id: ("court", {"result": "written_agreement", "process_notes": "双方达成协议",
                                   "agreement_date": "2026-05-01", "applicant_signed": True,
                                   "respondent_signed": True, "agreement_facts": "事实", "agreement_terms": "条款",
                                   "performance_terms": "十日内履行"})}

    @settings(FUZZ, max_examples=100)
    @given(item_id=st.sampled_from(sorted(forms)), body=st.data())
    def run(item_id, body):
        name, valid = forms[item_id]
        data = body.draw(near(valid) | json_objects)
        fuzz(name, "POST", f"/tasks/{item_id}/complete", json=data)
        fuzz("town", "POST", f"/tasks/{item_id}/complete", json=data)   # not its case: 404, nothing saved
    run()
    assert db.session.scalar(select(WorkItem.status).where(WorkItem.id == handle.id)) in \
        (WorkItemStatus.OPEN, WorkItemStatus.DONE)


def test_documents(fuzz, make_case):
    code = db.session.get(Case, make_case(until="triage")).code

    @settings(FUZZ, max_examples=15)
    @given(case_code=st.just(code) | tricky_text, key=st.sampled_from(["registration", "agreement"]) | tricky_text)
    def run(case_code, key):
        fuzz("hotline", "GET", f"/cases/{quote(case_code, safe='')}/documents/{quote(key, safe='')}")
    run()
