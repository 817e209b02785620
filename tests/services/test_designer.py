"""The process designer's services: drafts with conflict detection, publishing with a reason,
rolling back for new cases, the difference between versions, decision-table drafts."""
from __future__ import annotations

import json

import pytest
from lxml import etree
from sqlalchemy import func, select

from portal.bpmn import DiagramInvalidError, shipped_decisions, shipped_diagrams
from portal.extensions import db
from portal.models import Case, ProcessDraft, ProcessStatus, ProcessVersion
from portal.services import designer
from portal.services.processes import published_version
from tests.conftest import do_step, open_item, user

BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
SPIFF = "http://spiffworkflow.org/bpmn/schema/1.0/core"
CHAIN = "mediation_chain.bpmn"


def with_step_between(xml: bytes, before: str, after: str, step_id: str = "quality_review",
                      form_key: str = "supervise_accept", name: str = "质量复核", lane: str = "lane_dispatch") -> bytes:
    """The diagram with a user task inserted on the flow from ``before`` to ``after``."""
    root = etree.fromstring(xml)
    process = root.find(f"{{{BPMN}}}process")
    [flow] = [f for f in process.iter(f"{{{BPMN}}}sequenceFlow")
              if f.get("sourceRef") == before and f.get("targetRef") == after]
    flow.set("targetRef", step_id)
    task = etree.SubElement(process, f"{{{BPMN}}}userTask", id=step_id, name=name)
    ext = etree.SubElement(task, f"{{{BPMN}}}extensionElements")
    props = etree.SubElement(ext, f"{{{SPIFF}}}properties")
    etree.SubElement(props, f"{{{SPIFF}}}property", name="formKey", value=form_key)
    etree.SubElement(task, f"{{{BPMN}}}incoming").text = flow.get("id")
    etree.SubElement(task, f"{{{BPMN}}}outgoing").text = f"flow_{step_id}_{after}"
    etree.SubElement(process, f"{{{BPMN}}}sequenceFlow", id=f"flow_{step_id}_{after}", sourceRef=step_id,
                     targetRef=after)
    [lane_el] = [x for x in process.iter(f"{{{BPMN}}}lane") if x.get("id") == lane]
    etree.SubElement(lane_el, f"{{{BPMN}}}flowNodeRef").text = step_id
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def test_a_draft_saved_by_two_administrators_is_not_silently_overwritten(ctx):
    xml = shipped_diagrams()[CHAIN]
    renamed = xml.replace("研判".encode(), "研判A".encode())
    first = designer.save_draft(user("admin"), CHAIN, renamed, 0)
    assert first.revision == 1
    with pytest.raises(designer.DraftConflictError):  # the second administrator opened it before the save
        designer.save_draft(user("director"), CHAIN, xml, 0)
    db.session.rollback()
    draft = db.session.scalar(select(ProcessDraft).where(ProcessDraft.file_name == CHAIN))
    assert draft.revision == 1 and "研判A" in draft.xml
    assert designer.save_draft(user("admin"), CHAIN, xml, 1).revision == 2
    with pytest.raises(designer.DraftConflictError):  # publishing an older revision is refused too
        designer.publish_draft(user("admin"), CHAIN, 1, "试一下")
    designer.discard_draft(user("admin"), CHAIN, 2)
    assert designer.open_draft(CHAIN)[1] == 0


def test_publishing_a_draft_new_cases_take_it_running_cases_stay(make_case):
    running = make_case("triage")
    v1 = published_version("mediation_chain")
    edited = with_step_between(shipped_diagrams()[CHAIN], "triage", "dispatch")
    draft = designer.save_draft(user("admin"), CHAIN, edited, 0)
    with pytest.raises(Exception, match="why|原因|理由"):
        designer.publish_draft(user("admin"), CHAIN, draft.revision, "  ")
    [v2] = designer.publish_draft(user("admin"), CHAIN, draft.revision, "研判后增加质量复核环节")
    assert v2.version > v1.version and v2.reason == "研判后增加质量复核环节"
    assert v2.published_by_id == user("admin").id
    assert db.session.scalar(select(ProcessDraft).where(ProcessDraft.file_name == CHAIN)) is None
    fresh = make_case("dispatch")  # triage done: the new step comes before dispatch
    assert db.session.get(Case, fresh).process_version_id == v2.id
    assert open_item(fresh).bpmn_id == "quality_review"
    assert db.session.get(Case, running).process_version_id == v1.id
    do_step(running, "triage")
    assert open_item(running).form_key == "dispatch"  # the old version has no such step

    diff = designer.compare(v1.id, v2.id)
    assert ("quality_review", "质量复核") in diff.added and not diff.removed
    assert any(element == "flow_triage_dispatch" for element, _name, _aspects in diff.changed)

    now = designer.roll_back(user("admin"), v2.id, "复核环节暂缓实施")
    assert now.id == v1.id and published_version("mediation_chain").id == v1.id
    assert db.session.get(ProcessVersion, v2.id).status == ProcessStatus.ROLLED_BACK
    again = make_case("dispatch")
    assert db.session.get(Case, again).process_version_id == v1.id
    assert db.session.get(Case, fresh).process_version_id == v2.id  # running cases stay on theirs
    with pytest.raises(Exception, match="first|第一"):
        designer.roll_back(user("admin"), v1.id, "不行")


def test_an_invalid_draft_is_not_published_and_nothing_changes(ctx):
    before = published_version("mediation_chain").id
    count = db.session.scalar(select(func.count(ProcessVersion.id)))
    bad = with_step_between(shipped_diagrams()[CHAIN], "triage", "dispatch", form_key="no_such_form")
    assert any("no_such_form" in p[3] for p in designer.check_text(CHAIN, bad))
    assert designer.check_text(CHAIN, shipped_diagrams()[CHAIN]) == []
    draft = designer.save_draft(user("admin"), CHAIN, bad, 0)
    with pytest.raises(DiagramInvalidError) as refused:
        designer.publish_draft(user("admin"), CHAIN, draft.revision, "新环节")
    assert any(p[2] == "quality_review" for p in refused.value.problems)
    assert published_version("mediation_chain").id == before
    assert db.session.scalar(select(func.count(ProcessVersion.id))) == count
    assert designer.open_draft(CHAIN)[1] == draft.revision  # the draft is kept to be fixed
    with pytest.raises(DiagramInvalidError):
        designer.save_draft(user("admin"), CHAIN, b"<bpmn:definitions", draft.revision)


def test_a_decision_table_draft_publishes_the_processes_that_call_it(make_case):
    table = "triage_tier.dmn"
    chain = published_version("mediation_chain")
    relief = published_version("temporary_relief")
    xml = shipped_decisions()[table]
    root = etree.fromstring(xml)
    cell = next(e for e in root.iter() if etree.QName(e).localname == "text" and '"general"' in (e.text or ""))
    cell.text = '"complex"'
    edited = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
    draft = designer.save_draft(user("admin"), table, edited, 0)
    [version] = designer.publish_draft(user("admin"), table, draft.revision, "一般纠纷也按复杂处理（试行）")
    assert version.process_id == "mediation_chain" and version.version > chain.version
    assert '"complex"' in json.loads(version.decision_files)[table]
    assert published_version("temporary_relief").id == relief.id  # it calls no table
    assert designer.current_text(table) == edited
    assert any(f.file_name == table and f.used_by == (CHAIN,) for f in designer.design_files())


def test_a_diagram_drawn_in_camunda_modeler_keeps_its_form_keys(ctx):
    """Camunda Modeler 7 writes camunda:formKey; the draft gets it as the portal's formKey property."""
    xml = shipped_diagrams()[CHAIN].decode("utf-8")
    root = etree.fromstring(xml.encode("utf-8"))
    camunda = "http://camunda.org/schema/1.0/bpmn"
    for task in root.iter(f"{{{BPMN}}}userTask"):
        props = task.find(f"{{{BPMN}}}extensionElements/{{{SPIFF}}}properties")
        key = next(p for p in props if p.get("name") == "formKey")
        task.set(f"{{{camunda}}}formKey", key.get("value"))
        props.remove(key)
    drawn = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
    assert designer.check_text(CHAIN, drawn)  # as drawn, the portal does not know its forms
    draft = designer.save_draft(user("admin"), CHAIN, drawn, 0)
    assert designer.check_text(CHAIN, draft.xml.encode("utf-8")) == []


def test_a_hostile_draft_is_refused_before_it_is_saved(ctx):
    xxe = (b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
           b'<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL">&x;</bpmn:definitions>')
    with pytest.raises(DiagramInvalidError) as refused:
        designer.save_draft(user("admin"), CHAIN, xxe, 0)
    assert "DOCTYPE" in refused.value.problems[0][3]
    assert db.session.scalar(select(func.count(ProcessDraft.id))) == 0
