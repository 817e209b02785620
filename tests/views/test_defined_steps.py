"""A step added without code: an administrator defines a form, a diagram names its key in a new user task,
the version is published, and cases pass through the step (in the chain and in a branch)."""
from __future__ import annotations

import json

import pytest
from lxml import etree
from sqlalchemy import delete, func, select

from portal.bpmn import shipped_decisions, shipped_diagrams
from portal.extensions import db
from portal.forms import describe
from portal.models import Case, FormDefinition, ProcessVersion, WorkItem, WorkItemStatus
from portal.services.branches import start_branch
from portal.services.cases import complete_task
from portal.services.engine import get_engine, spec_for
from portal.services.errors import ValidationFailed
from portal.services.formdefs import (
    DefinitionDraft,
    FormHasRecordsError,
    FormInUseError,
    add_definition,
    delete_definition,
)
from portal.services.formdefs import update_definition as update
from portal.services.processes import publish_process
from tests.branches.test_relief import application
from tests.conftest import do_branch_step, open_branch_item, open_item, row_counts, user

BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
SPIFF = "http://spiffworkflow.org/bpmn/schema/1.0/core"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
FIELDS = [
    {"name": "visitor", "label": "核查人", "type": "text", "required": True},
    {"name": "households", "label": "涉及户数", "type": "integer", "required": True, "min": 1, "max": 50},
    {"name": "priority", "label": "紧急程度", "type": "radio", "required": True,
     "choices": ["high|紧急", "normal|一般"]},
    {"name": "visit_date", "label": "核查日期", "type": "date"},
    {"name": "notes", "label": "核查情况", "type": "textarea"},
]
VISIT = {"visitor": "王明", "households": "3", "priority": "normal", "visit_date": "2026-03-02", "notes": ""}


def _el(parent, tag: str, ns: str = BPMN, **attrs):
    return etree.SubElement(parent, f"{{{ns}}}{tag}", {k: str(v) for k, v in attrs.items()})


def insert_task(xml: bytes, flow_id: str, task_id: str, name: str, form_key: str, lane_id: str,
                properties: dict | None = None, high_to: str | None = None) -> bytes:
    """The diagram with a user task on the flow ``flow_id`` (in lane ``lane_id``); with ``high_to``, a gateway
    after the task sends ``priority == "high"`` there and everything else on to the flow's old target."""
    root = etree.fromstring(xml)
    [flow] = root.xpath("//bpmn:sequenceFlow[@id=$i]", namespaces={"bpmn": BPMN}, i=flow_id)
    process, target = flow.getparent(), flow.get("targetRef")
    flow.set("targetRef", task_id)
    task = _el(process, "userTask", id=task_id, name=name)
    props = _el(_el(task, "extensionElements"), "properties", SPIFF)
    for key, value in {"formKey": form_key, **(properties or {})}.items():
        _el(props, "property", SPIFF, name=key, value=value)
    lane = root.xpath("//bpmn:lane[@id=$i]", namespaces={"bpmn": BPMN}, i=lane_id)[0]
    _el(lane, "flowNodeRef").text = task_id
    if high_to is None:
        _el(process, "sequenceFlow", id=f"flow_{task_id}_out", sourceRef=task_id, targetRef=target)
    else:
        gateway = f"{task_id}_gateway"
        _el(process, "exclusiveGateway", id=gateway, default=f"flow_{gateway}_default")
        _el(lane, "flowNodeRef").text = gateway
        _el(process, "sequenceFlow", id=f"flow_{task_id}_out", sourceRef=task_id, targetRef=gateway)
        _el(process, "sequenceFlow", id=f"flow_{gateway}_default", sourceRef=gateway, targetRef=target)
        high = _el(process, "sequenceFlow", id=f"flow_{gateway}_high", sourceRef=gateway, targetRef=high_to)
        condition = _el(high, "conditionExpression", **{f"{{{XSI}}}type": "bpmn:tFormalExpression"})
        condition.text = 'priority == "high"'
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


@pytest.fixture
def published(ctx):
    """Publish edited diagrams for the test; afterwards the forms are removed, and the suite's clean-up
    (tests/conftest.py) removes the cases and withdraws the versions, so the shipped ones serve again."""

    def publish(file_name: str, xml: bytes) -> ProcessVersion:
        return publish_process(None, file_name, xml, shipped_decisions())

    yield publish
    db.session.rollback()
    db.session.execute(delete(FormDefinition))
    db.session.commit()


@pytest.fixture
def site_visit_chain(published):
    add_definition(user("admin"), DefinitionDraft("site_visit", "现场核查", "", json.dumps(FIELDS)))
    xml = insert_task(shipped_diagrams()["mediation_chain.bpmn"], "flow_triage_dispatch", "site_visit_step",
                      "现场核查", "site_visit", "lane_dispatch", high_to="escalate")
    return published("mediation_chain.bpmn", xml)


def test_a_case_passes_through_a_step_whose_form_was_defined_in_the_browser(site_visit_chain, login_as,
                                                                           make_case):
    case_id = make_case(until="dispatch")                 # triage done: the new step is next
    item = open_item(case_id)
    assert (item.form_key, item.name, item.lane) == ("site_visit", "现场核查", "综合调度")
    assert db.session.get(Case, case_id).process_version_id == site_visit_chain.id
    client = login_as("dispatch")
    page = client.get(f"/cases/task/{item.id}").get_data(as_text=True)
    for words in ("核查人", 'name="households"', 'type="radio"', 'value="high"', "一般", 'name="visit_date"'):
        assert words in page, words

    before = row_counts()
    resp = client.post(f"/cases/task/{item.id}", data={**VISIT, "visitor": ""})
    assert resp.status_code == 400 and "请修改标出的填写项" in resp.get_data(as_text=True)
    assert row_counts() == before
    with pytest.raises(ValidationFailed) as refused:    # the step checks again whatever the browser sent
        complete_task(user("dispatch"), item.id, {**VISIT, "households": "99"})
    assert refused.value.field == "households" and "涉及户数" in str(refused.value) and row_counts() == before
    db.session.expire_all()
    assert db.session.get(WorkItem, item.id).status == WorkItemStatus.OPEN

    resp = client.post(f"/cases/task/{item.id}", data=VISIT)
    assert resp.status_code == 302, resp.get_data(as_text=True)[-2000:]
    db.session.expire_all()
    done = db.session.get(WorkItem, item.id)
    assert done.status == WorkItemStatus.DONE and open_item(case_id).form_key == "dispatch"
    rows = dict(describe(done.form_key, json.loads(done.result)))
    assert rows == {"核查人": "王明", "涉及户数": "3", "紧急程度": "一般", "核查日期": "2026-03-02"}
    history = client.get(f"/cases/{case_id}").get_data(as_text=True)
    assert "现场核查" in history and "王明" in history
    case = db.session.get(Case, case_id)
    wf = get_engine().restore(case.wf_state, spec_for(case.process_version_id))
    [dispatch] = get_engine().ready_user_tasks(wf)
    assert {k: dispatch.data[k] for k in ("visitor", "households", "priority", "visit_date", "notes")} == \
        {"visitor": "王明", "households": 3, "priority": "normal", "visit_date": "2026-03-02", "notes": None}


def test_the_process_routes_on_a_value_of_the_defined_form(site_visit_chain, make_case):
    case_id = make_case(until="dispatch")
    complete_task(user("dispatch"), open_item(case_id, "site_visit").id, {**VISIT, "priority": "high"})
    assert open_item(case_id).form_key == "escalate"    # the gateway's condition: priority == "high"


def test_a_form_in_use_cannot_be_deleted_but_can_still_change(site_visit_chain, login_as, make_case):
    with pytest.raises(FormInUseError) as refused:
        delete_definition(user("admin"), "site_visit")
    assert "现场核查" in str(refused.value) and f"第 {site_visit_chain.version} 版" in str(refused.value)
    client = login_as("admin")
    page = client.post("/settings/forms/site_visit/delete", follow_redirects=True).get_data(as_text=True)
    assert "不能删除" in page
    db.session.expire_all()
    definition = db.session.scalar(select(FormDefinition).where(FormDefinition.key == "site_visit"))
    assert definition is not None
    # removing a field the published step shows (and adding one) is a change of data only
    update(user("admin"), "site_visit", DefinitionDraft("site_visit", "现场核查", "", json.dumps(
        [*FIELDS[:3], {"name": "weather", "label": "天气", "type": "text"}])), definition.lock_version)
    case_id = make_case(until="dispatch")
    page = login_as("dispatch").get(f"/cases/task/{open_item(case_id).id}").get_data(as_text=True)
    assert 'name="weather"' in page and 'name="notes"' not in page


def test_a_form_that_case_records_name_cannot_be_deleted(published, make_case):
    add_definition(user("admin"), DefinitionDraft("old_check", "旧核查", "", json.dumps(FIELDS[:1])))
    item = open_item(make_case(until="dispatch"))
    item.form_key = "old_check"   # a step of a version no longer published (no diagram names the form)
    db.session.commit()
    with pytest.raises(FormHasRecordsError) as refused:
        delete_definition(user("admin"), "old_check")
    assert "1 件案件" in str(refused.value)
    assert db.session.scalar(select(func.count()).where(FormDefinition.key == "old_check")) == 1


def test_a_branch_passes_through_a_step_whose_form_was_defined_in_the_browser(published, make_case):
    add_definition(user("admin"), DefinitionDraft("relief_phone_check", "电话核实", "", json.dumps(FIELDS[:3])))
    xml = insert_task(shipped_diagrams()["temporary_relief.bpmn"], "flow_normal", "relief_phone_check",
                      "电话核实", "relief_phone_check", "lane_township", {"orgUnitVar": "township_unit"})
    published("temporary_relief.bpmn", xml)
    case_id = make_case("handle")
    branch = start_branch(user("window"), case_id, "relief", application(case_id))
    item = open_branch_item(branch.id)
    assert (item.form_key, item.name) == ("relief_phone_check", "电话核实")
    before = row_counts()
    with pytest.raises(ValidationFailed) as refused:
        do_branch_step(branch.id, "relief_phone_check", "xiang", {**VISIT, "priority": "urgent"})
    assert refused.value.field == "priority" and row_counts() == before
    do_branch_step(branch.id, "relief_phone_check", "xiang", VISIT)
    assert open_branch_item(branch.id).form_key == "relief_investigate"
    assert json.loads(db.session.get(WorkItem, item.id).result)["households"] == 3
