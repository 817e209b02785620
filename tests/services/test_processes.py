"""Process versions and the form registry."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from portal.bpmn import MAIN_PROCESS_ID, shipped_decisions, shipped_diagrams
from portal.extensions import db
from portal.forms import FORMS
from portal.models import ProcessVersion
from portal.services.engine import get_engine
from portal.services.processes import publish_shipped_processes, published_version
from portal.services.steps import STEPS


def test_every_user_task_of_every_shipped_diagram_has_a_form_and_a_step(ctx):
    from portal.services.aid import BRANCH_STEPS
    engine = get_engine()
    used = set()
    for file_name, xml in shipped_diagrams().items():
        process_id = file_name.rsplit(".", 1)[0]
        steps = STEPS if process_id == MAIN_PROCESS_ID else BRANCH_STEPS
        parsed = engine.parse({file_name: xml, **shipped_decisions()}, process_id)
        for task in parsed.user_tasks:
            assert task.form_key in FORMS, (file_name, task.bpmn_id)
            assert task.form_key in steps, (file_name, task.bpmn_id)
            used.add(task.form_key)
    assert set(FORMS) == set(STEPS) | set(BRANCH_STEPS)
    assert not set(STEPS) & set(BRANCH_STEPS)
    assert set(BRANCH_STEPS) <= used  # no step that no diagram reaches


def test_publishing_the_same_diagram_again_adds_no_version(ctx):
    count = db.session.scalar(select(func.count(ProcessVersion.id)))
    assert publish_shipped_processes() == []
    assert db.session.scalar(select(func.count(ProcessVersion.id))) == count
    version = published_version(MAIN_PROCESS_ID)
    assert "task_specs" in version.spec_json and version.bpmn_xml.startswith("<?xml")


def _without_rules(xml: bytes, *rule_ids: str) -> bytes:
    from lxml import etree
    root = etree.fromstring(xml)
    for rule_id in rule_ids:
        [rule] = root.xpath("//*[local-name()='rule'][@id=$i]", i=rule_id)
        rule.getparent().remove(rule)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def test_a_decision_table_edit_that_leaves_a_dispute_type_without_a_rule_is_refused(ctx):
    from portal.bpmn import DiagramInvalidError
    from portal.services.processes import check_decision_coverage, publish_process
    decisions = shipped_decisions()
    lead = decisions["triage_lead.dmn"]
    catch_all = etree_rule_ids(lead)[-1]          # the last row answers every type the rows above miss
    edited = {**decisions, "triage_lead.dmn": _without_rules(lead, "lead_03", catch_all)}
    file_name = f"{MAIN_PROCESS_ID}.bpmn"
    xml = shipped_diagrams()[file_name]
    count = db.session.scalar(select(func.count(ProcessVersion.id)))
    with pytest.raises(DiagramInvalidError) as refused:
        publish_process(None, file_name, xml, edited)
    problems = refused.value.problems
    assert problems and all(p[0] == "triage_lead.dmn" for p in problems)
    assert problems[0][2] == "0301" and "0301" in problems[0][3] and "宅基地" in problems[0][3]
    assert db.session.scalar(select(func.count(ProcessVersion.id))) == count
    # the table without one type's row but with its catch-all row still covers everything
    check_decision_coverage({**decisions, "triage_lead.dmn": _without_rules(lead, "lead_03")})


def etree_rule_ids(xml: bytes) -> list[str]:
    from lxml import etree
    return etree.fromstring(xml).xpath("//*[local-name()='rule']/@id")
