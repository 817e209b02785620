"""Forms as data: a definition is checked as a whole, the built form has the shipped forms' widgets and
validators, and a step checks the values again on the server."""
from __future__ import annotations

import json
import re
from datetime import date, datetime
from decimal import Decimal

import pytest
from flask_appbuilder.fieldwidgets import BS3TextAreaFieldWidget, BS3TextFieldWidget, Select2Widget
from flask_wtf import FlaskForm
from lxml import etree
from sqlalchemy import delete
from werkzeug.datastructures import MultiDict
from wtforms import (
    BooleanField,
    DateField,
    DateTimeLocalField,
    DecimalField,
    IntegerField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional
from wtforms.widgets import DateInput

from portal.bpmn import shipped_decisions, shipped_diagrams
from portal.extensions import db
from portal.forms import FORMS, SIDE_FORMS, describe, form_class
from portal.forms.aid.common import CheckboxList
from portal.forms.dynamic import build_form, form_for_spec
from portal.forms.validators import Finite
from portal.models import FormDefinition
from portal.services.errors import ValidationFailed
from portal.services.formdefs import DefinitionDraft, add_definition, shipped_form_keys, update_definition
from portal.services.formspecs import (
    FORM_ATTRIBUTES,
    RESERVED_NAMES,
    DefinitionInvalidError,
    check_definition,
    clean_values,
)
from tests.conftest import user

FIELDS = [
    {"name": "visitor", "label": "核查人", "type": "text", "required": True, "max_length": 10},
    {"name": "notes", "label": "核查情况", "type": "textarea", "required": False, "help": "看到了什么"},
    {"name": "households", "label": "涉及户数", "type": "integer", "required": True, "min": 1, "max": 50},
    {"name": "loss", "label": "损失金额", "type": "decimal", "min": 0, "max": 1000.5},
    {"name": "visit_date", "label": "核查日期", "type": "date", "required": True},
    {"name": "visit_at", "label": "到场时间", "type": "datetime"},
    {"name": "site_kind", "label": "现场类型", "type": "select", "required": True,
     "choices": ["field|农田", "house|房屋"]},
    {"name": "priority", "label": "紧急程度", "type": "radio", "required": True,
     "choices": [["high", "紧急"], ["normal", "一般"]]},
    {"name": "photos_taken", "label": "已拍照", "type": "checkbox"},
    {"name": "present", "label": "到场人员", "type": "multi_checkbox",
     "choices": ["applicant|申请人", "respondent|被申请人", "grid|网格员"]},
]
GOOD = {"visitor": "王明", "notes": "", "households": "3", "loss": "120.50", "visit_date": "2026-03-02",
        "visit_at": "2026-03-02T09:30", "site_kind": "house", "priority": "high", "photos_taken": "y",
        "present": ["grid", "applicant"]}


def spec(fields=None):
    return check_definition("site_visit", "现场核查", "", json.dumps(fields or FIELDS), shipped_form_keys())


def posted(form_cls, values: dict):
    data = MultiDict()
    for name, value in values.items():
        for v in value if isinstance(value, list) else [value]:
            data.add(name, v)
    form = form_cls(formdata=data, meta={"csrf": False})
    form.validate()
    return form


@pytest.fixture
def no_definitions(ctx):
    yield
    db.session.rollback()
    db.session.execute(delete(FormDefinition))
    db.session.commit()


def _kinds(field):
    return [type(v) for v in field.validators]


def test_each_type_gets_the_field_widget_and_validators_of_the_shipped_forms(ctx):
    form = form_for_spec(spec())(formdata=None, meta={"csrf": False})
    expected = {  # name: (field class, widget class, validator classes)
        "visitor": (StringField, BS3TextFieldWidget, [DataRequired, Length]),
        "notes": (TextAreaField, BS3TextAreaFieldWidget, [Optional, Length]),
        "households": (IntegerField, BS3TextFieldWidget, [InputRequired, NumberRange]),
        "loss": (DecimalField, BS3TextFieldWidget, [Optional, Finite, NumberRange]),
        "visit_date": (DateField, DateInput, [InputRequired]),
        "visit_at": (DateTimeLocalField, None, [Optional]),
        "site_kind": (SelectField, Select2Widget, [InputRequired]),
        "priority": (RadioField, None, [InputRequired]),
        "photos_taken": (BooleanField, None, []),
        "present": (CheckboxList, None, [Optional]),
    }
    assert [f.name for f in form if f.name != "csrf_token"] == list(expected)
    for name, (field_cls, widget_cls, validators) in expected.items():
        field = form[name]
        assert type(field) is field_cls, name
        if widget_cls:
            assert isinstance(field.widget, widget_cls), name
        assert _kinds(field) == validators, name
    assert form.visitor.validators[1].max == 10 and form.notes.validators[1].max == 5000
    assert (form.households.validators[1].min, form.households.validators[1].max) == (1, 50)
    assert form.site_kind.choices == [("field", "农田"), ("house", "房屋")]
    assert form.present.choices[2] == ("grid", "网格员") and form.notes.description == "看到了什么"


def test_the_built_form_refuses_what_the_definition_forbids(ctx):
    form_cls = form_for_spec(spec())
    assert posted(form_cls, GOOD).errors == {}
    assert posted(form_cls, GOOD).data["loss"] == Decimal("120.50")
    missing = posted(form_cls, {**GOOD, "visitor": " ", "households": "", "visit_date": "", "site_kind": "",
                                "priority": ""}).errors
    assert set(missing) == {"visitor", "households", "visit_date", "site_kind", "priority"}
    for bad in ({"households": "0"}, {"households": "51"}, {"households": "2.5"}, {"loss": "-1"},
                {"loss": "1000.51"}, {"loss": "sNaN"}, {"site_kind": "pond"}, {"priority": "low"},
                {"present": ["boss"]}, {"visitor": "王" * 11}, {"visit_date": "2026-13-01"}):
        assert set(posted(form_cls, {**GOOD, **bad}).errors) == set(bad), bad
    # optional fields may stay empty; a required tick box must be ticked
    assert posted(form_cls, {**GOOD, "loss": "", "visit_at": "", "present": [], "photos_taken": ""}).errors == {}
    ticked = form_for_spec(spec([{**FIELDS[8], "required": True}]))
    assert set(posted(ticked, {}).errors) == {"photos_taken"} and posted(ticked, {"photos_taken": "y"}).errors == {}


def test_a_step_checks_every_value_again_and_gives_json_safe_routing_data(ctx):
    s = spec()
    data = {**GOOD, "loss": Decimal("120.50"), "visit_date": date(2026, 3, 2), "visit_at": datetime(2026, 3, 2, 9, 30),
            "households": 3, "photos_taken": True}
    values = clean_values(s, data)
    assert values == {"visitor": "王明", "notes": None, "households": 3, "loss": 120.5, "visit_date": "2026-03-02",
                      "visit_at": "2026-03-02T09:30", "site_kind": "house", "priority": "high",
                      "photos_taken": True, "present": ["applicant", "grid"]}
    assert json.loads(json.dumps(values)) == values and data["visit_date"] == "2026-03-02"
    for bad, field, words in (({"visitor": ""}, "visitor", "核查人"), ({"households": "0"}, "households", "1"),
                              ({"households": "x"}, "households", "涉及户数"), ({"loss": "1e9"}, "loss", "1000.5"),
                              ({"site_kind": "pond"}, "site_kind", "现场类型"), ({"present": ["boss"]}, "present", ""),
                              ({"priority": None}, "priority", "紧急程度"), ({"visit_at": "soon"}, "visit_at", ""),
                              ({"visitor": "王" * 11}, "visitor", "10")):
        with pytest.raises(ValidationFailed) as refused:
            clean_values(s, {**GOOD, **bad})
        assert refused.value.field == field and words in str(refused.value), (bad, str(refused.value))


def test_a_definition_is_checked_as_a_whole_and_every_problem_named(ctx):
    fields = [{"name": "visitor", "label": "核查人", "type": "text"},
              {"name": "visitor", "label": "又一个", "type": "text"},
              {"name": "site_kind", "label": "现场类型", "type": "select", "choices": []},
              {"name": "Bad-Name", "label": "x", "type": "text"},
              {"name": "escalate", "label": "上报", "type": "checkbox"},
              {"name": "count", "label": "数量", "type": "integer", "min": 5, "max": 1},
              {"name": "kind", "label": "", "type": "nonsense"}]
    with pytest.raises(DefinitionInvalidError) as refused:
        check_definition("Site Visit", "", "", json.dumps(fields), shipped_form_keys())
    text = "\n".join(refused.value.problems)
    for words in ("visitor", "site_kind", "|", "4", "escalate", "count", "kind"):  # Bad-Name: row 4
        assert words in text, words
    # the key, the title, and seven in the fields (the last field has neither label nor type)
    assert len(refused.value.problems) == 9, refused.value.problems
    for key in ("triage", "aid_supervise", "supervision_card", "ab"):
        with pytest.raises(DefinitionInvalidError):
            check_definition(key, "标题", "", json.dumps(FIELDS[:1]), shipped_form_keys())
    with pytest.raises(DefinitionInvalidError):
        check_definition("site_visit", "标题", "", "not json", shipped_form_keys())
    with pytest.raises(DefinitionInvalidError):
        check_definition("site_visit", "标题", "", "[]", shipped_form_keys())


def test_no_shipped_form_key_and_no_name_the_processes_use_can_be_taken():
    assert set(FORMS) | set(SIDE_FORMS) <= shipped_form_keys()
    names = set()
    for xml in {**shipped_diagrams(), **shipped_decisions()}.values():
        for el in etree.fromstring(xml).iter("{*}conditionExpression", "{*}text", "{*}loopDataInputRef",
                                             "{*}loopDataOutputRef", "{*}timeDate", "{*}timeDuration"):
            names |= set(re.findall(r"[A-Za-z_]\w*", re.sub(r"\"[^\"]*\"|'[^']*'", "", el.text or "")))
        for el in etree.fromstring(xml).iter("{*}inputDataItem", "{*}outputDataItem", "{*}output"):
            names.add(el.get("name"))
        for el in etree.fromstring(xml).iter("{*}property"):
            if el.get("name") == "orgUnitVar":
                names.add(el.get("value"))
            elif el.get("name") == "formDefaults":  # field=variable, …
                names |= {pair.split("=")[1].strip() for pair in el.get("value").split(",")}
    names -= {"True", "False", "None"}
    assert "escalate" in names and "proposed_lead" in names   # the scan sees conditions and decision outputs
    assert names <= RESERVED_NAMES, names - RESERVED_NAMES
    # a field may not hide what a form object carries
    attributes = {n for n in dir(FlaskForm) if re.fullmatch(r"[a-z][a-z0-9_]*", n)}
    assert attributes <= FORM_ATTRIBUTES, attributes - FORM_ATTRIBUTES


def test_a_stored_form_is_built_once_per_version_and_found_by_its_key(no_definitions):
    admin = user("admin")
    draft = DefinitionDraft("site_visit", "现场核查", "", json.dumps(FIELDS))
    definition = add_definition(admin, draft)
    built = form_class("site_visit")
    assert built is build_form(definition) and form_class("site_visit") is built
    assert form_class("triage") is FORMS["triage"] and form_class("no_such_form") is None
    update_definition(admin, "site_visit", DefinitionDraft("site_visit", "现场核查", "", json.dumps(
        [*FIELDS, {"name": "weather", "label": "天气", "type": "text"}])), definition.lock_version)
    rebuilt = form_class("site_visit")
    assert rebuilt is not built and hasattr(rebuilt, "weather") and not hasattr(built, "weather")
    rows = dict(describe("site_visit", clean_values(spec(), dict(GOOD))))
    assert rows["现场类型"] == "房屋" and rows["到场人员"] == "申请人、网格员" and rows["已拍照"] == "是"
    assert rows["损失金额"] == "120.5" and "核查情况" not in rows
