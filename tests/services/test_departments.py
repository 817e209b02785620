"""Each handling unit's own fields: required, checked, kept on the case and in the step's record.

One run per spec (every stationed department, the people's mediation bodies, townships and villages),
driven through the services like a real case: dispatched to a unit of that spec, accepted, a session
recorded, then handled with each required field missing and each field malformed (refused, nothing
saved), then handled properly.
"""
from __future__ import annotations

import json
import random
from datetime import timedelta

import pytest
from sqlalchemy import select
from wtforms.fields.core import UnboundField

from portal.extensions import db
from portal.forms import FORMS, describe
from portal.forms.departments import handle_form_for
from portal.forms.steps import HandleForm
from portal.models import Case, HandlingResult, OrgKind, OrgUnit, WorkItem
from portal.services.cases import complete_task, register_case
from portal.services.deadlines import local_today
from portal.services.departments import (
    DEPARTMENT_SPECS,
    GENERIC,
    KIND_SPECS,
    DeptSpec,
    FieldType,
    clean_details,
    spec_for_unit,
)
from portal.services.errors import ValidationFailed
from tests.conftest import (
    PASSWORD,
    STEP_FORMS,
    do_step,
    intake_data,
    open_item,
    record_session,
    row_counts,
    unit_id,
    user,
)

# A unit of each spec in the test county, and who handles its cases there.
SPEC_UNITS = {**{code: code for code in DEPARTMENT_SPECS}, "committee": "T01V02C", "studio": "S01",
              "township": "T01", "village": "T01V02"}
HANDLERS = {"D03": "sifa", "D04": "fayuan", "D06": "renshe", "T01V02C": "cun", "S01": "xiang", "T01": "xiang",
            "T01V02": "cun"}
ON_SITE_UNITS = {"T01", "T01V02"}   # townships and villages mediate on the scene
WRITTEN = HandlingResult.WRITTEN_AGREEMENT


def _handler(code: str) -> str:
    """The unit's handler (an account is made for departments the shared fixtures have none for)."""
    from portal.services.accounts import create_user
    name = HANDLERS.get(code) or f"handler_{code.lower()}"
    if user(name) is None:
        create_user(name, name, ["dept_handler"], code, PASSWORD)
    return name


def _at_handle(code: str, handler: str) -> int:
    """A case dispatched to the unit ``code``, accepted, with the agreed session recorded."""
    on_site = code in ON_SITE_UNITS
    case_id = register_case(user("window"), intake_data()).id
    do_step(case_id, "triage", resolution_mode="on_site" if on_site else "in_center")
    do_step(case_id, "dispatch", assigned_unit_id=unit_id(code))
    complete_task(user(handler), open_item(case_id, "accept").id, {"accepted": "yes"})
    scene = {"kind": "", "place": "二组村道", "attendees": "网格员 陈七"} if on_site else {}
    record_session(case_id, handler, **scene)
    return case_id


def good_value(f):
    """A valid value as a form or a client would send it (strings for numbers and dates)."""
    if f.type == FieldType.TEXT:
        return f"示例{f.name}"
    if f.type == FieldType.CHOICE:
        return f.choices[-1][0]
    if f.type == FieldType.DATE:
        return (local_today() - timedelta(days=1)).isoformat()
    if f.type == FieldType.MONEY:
        return "1200.5"
    return str((f.min or 0) + 1)


def stored_value(f, sent):
    """What the case keeps for ``sent``."""
    if f.type == FieldType.INT:
        return int(sent)
    if f.type == FieldType.MONEY:
        return f"{float(sent):.2f}"
    return sent


def bad_values(f) -> list:
    bad = {FieldType.INT: ["abc", "1.5", True], FieldType.MONEY: ["12元", "NaN", "Infinity"],
           FieldType.DATE: ["2026-02-30", "昨天", (local_today() + timedelta(days=1)).isoformat()],
           FieldType.CHOICE: ["nonsense"], FieldType.TEXT: ["字" * ((f.max or 200) + 1)]}[f.type]
    if f.type in (FieldType.INT, FieldType.MONEY):
        bad += [str(f.min - 1)] if f.min is not None else []
        bad += [str(f.max + 1)] if f.max is not None else []
    return bad


def _spec(key: str) -> DeptSpec:
    return DEPARTMENT_SPECS.get(key) or next(s for kind, s in KIND_SPECS.items() if kind.value == key)


def test_every_department_has_a_spec_and_no_spec_shadows_a_common_field():
    assert set(DEPARTMENT_SPECS) == {f"D{n:02d}" for n in range(1, 20)}
    common = {name for name in dir(HandleForm) if isinstance(getattr(HandleForm, name), UnboundField)}
    assert {"result", "process_notes", "agreement_date"} <= common
    for spec in [*DEPARTMENT_SPECS.values(), *KIND_SPECS.values()]:
        names = [f.name for f in spec.fields]
        assert len(names) == len(set(names)) and not common & set(names), spec.key
        assert all(len(f.choices) >= 2 for f in spec.fields if f.type == FieldType.CHOICE), spec.key
        assert any(f.is_required(WRITTEN) for f in spec.fields) or spec.key == "D03", spec.key


def test_units_find_their_spec_by_code_then_by_kind(ctx):
    def spec_of(code):
        return spec_for_unit(db.session.scalar(select(OrgUnit).where(OrgUnit.code == code)))
    assert spec_of("D06").key == "D06" and spec_of("D02").key == "D02"
    assert spec_of("T01V02C") is spec_of("M01") is spec_of("S01") is KIND_SPECS[OrgKind.COMMITTEE]
    assert spec_of("T02").key == "township" and spec_of("T02V01").key == "village"
    assert spec_of("CENTER") is GENERIC and spec_for_unit(None) is GENERIC
    assert handle_form_for(GENERIC) is HandleForm and FORMS["handle"] is HandleForm


@pytest.mark.parametrize("key", list(SPEC_UNITS))
def test_the_units_form_is_built_from_its_spec(app, key):
    spec = _spec(key)
    form_cls = handle_form_for(spec)
    assert form_cls is handle_form_for(spec) and issubclass(form_cls, HandleForm)   # built once
    with app.test_request_context():
        form = form_cls(meta={"csrf": False})
        for f in spec.fields:
            field = getattr(form, f.name)
            assert field.label.text == f.label and bool(field.flags.required) == f.required, f.name
            if f.type == FieldType.CHOICE:
                assert [key for key, _label in field.choices] == ["", *(key for key, _label in f.choices)]


@pytest.mark.parametrize("key", list(SPEC_UNITS))
def test_demo_values_pass_the_spec(ctx, key):
    from portal.demo.details import demo_details
    spec = _spec(key)
    values = demo_details(random.Random(7), spec, local_today())
    assert set(clean_details(spec, dict(values), WRITTEN)) == {f.name for f in spec.fields}


@pytest.mark.parametrize("key", list(SPEC_UNITS))
def test_handling_by_each_unit_requires_checks_and_keeps_its_own_fields(app, ctx, key):
    code = SPEC_UNITS[key]
    spec = _spec(key)
    handler = _handler(code)
    case_id = _at_handle(code, handler)
    item = open_item(case_id, "handle")
    assert spec_for_unit(db.session.get(Case, case_id).assigned_unit) is spec
    good = {f.name: good_value(f) for f in spec.fields}
    base = {**STEP_FORMS["handle"][1](), **good}
    before = row_counts()
    refusals = [({k: v for k, v in base.items() if k != f.name}, f) for f in spec.fields if f.is_required(WRITTEN)]
    refusals += [({**base, f.name: bad}, f) for f in spec.fields for bad in bad_values(f)]
    for data, f in refusals:
        with pytest.raises(ValidationFailed) as refused:
            complete_task(user(handler), item.id, data)
        assert refused.value.field == f.name, (f.name, data.get(f.name))
        with app.test_request_context():
            assert str(f.label) in str(refused.value)
        assert row_counts() == before and db.session.get(Case, case_id).dept_details is None
    complete_task(user(handler), item.id, base)

    expected = {f.name: stored_value(f, good[f.name]) for f in spec.fields}
    case = db.session.get(Case, case_id)
    assert json.loads(case.dept_details) == {"spec": spec.key, "values": expected}
    done = db.session.get(WorkItem, item.id)
    recorded = json.loads(done.result)
    assert {name: recorded[name] for name in expected} == expected
    with app.test_request_context():
        rows = dict(describe("handle", recorded, done.org_unit))
        for f in spec.fields:
            shown = dict(f.choices)[good[f.name]] if f.type == FieldType.CHOICE else expected[f.name]
            assert rows[str(f.label)] == str(shown), f.name


def test_only_a_written_agreement_needs_its_number(ctx):
    case_id = _at_handle("T01V02C", "cun")
    data = {**STEP_FORMS["handle"][1](), "result": "oral_agreement", "case_source": "application",
            "agreement_no": ""}
    complete_task(user("cun"), open_item(case_id, "handle").id, data)
    assert json.loads(db.session.get(Case, case_id).dept_details)["values"] == {"case_source": "application"}


def test_the_case_page_shows_what_the_unit_recorded(app, login_as, ctx):
    case_id = _at_handle("D05", _handler("D05"))
    spec = DEPARTMENT_SPECS["D05"]
    complete_task(user("handler_d05"), open_item(case_id, "handle").id,
                  {**STEP_FORMS["handle"][1](), "accident_report_no": "示公交认字〔2026〕第00123号",
                   "loss_amount": "38000", "injured": "2", "insurer": "中国人民财产保险示范县支公司"})
    html = login_as("dispatch").get(f"/cases/{case_id}").get_data(as_text=True)
    block = html.split('id="dept-details"')[1].split("</table>")[0]
    with app.test_request_context():
        labels = {f.name: str(f.label) for f in spec.fields}
    for name, value in [("accident_report_no", "示公交认字〔2026〕第00123号"), ("loss_amount", "38000.00"),
                        ("injured", "2"), ("insurer", "中国人民财产保险示范县支公司")]:
        assert labels[name] in block and value in block
        history = html.split('id="history"')[1]
        assert f"{labels[name]}:</span> {value}" in history
    assert labels["killed"] not in block   # left empty, not shown
