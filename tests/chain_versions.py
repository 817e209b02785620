"""Later versions of the shipped mediation chain, drawn by editing its XML as an administrator would."""
from __future__ import annotations

from contextlib import contextmanager

from lxml import etree

from portal.bpmn import MAIN_PROCESS_ID, shipped_decisions, shipped_diagrams

BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
SPIFF = "http://spiffworkflow.org/bpmn/schema/1.0/core"
NS = {"bpmn": BPMN}
FILE_NAME = f"{MAIN_PROCESS_ID}.bpmn"


def chain_with_step(after: str, step_id: str, name: str, form_key: str, lane: str,
                    case_status: str | None = None, xml: bytes | None = None) -> bytes:
    """The chain (or ``xml``) with a user task ``step_id`` inserted on the one flow leaving ``after``."""
    root = etree.fromstring(xml or shipped_diagrams()[FILE_NAME])
    [process] = root.xpath("//bpmn:process", namespaces=NS)
    [flow] = process.xpath("bpmn:sequenceFlow[@sourceRef=$s]", namespaces=NS, s=after)
    target = flow.get("targetRef")
    flow.set("targetRef", step_id)
    new_flow = f"flow_{step_id}_{target}"
    [incoming] = process.xpath("bpmn:*[@id=$t]/bpmn:incoming[text()=$f]", namespaces=NS, t=target, f=flow.get("id"))
    incoming.text = new_flow
    task = etree.SubElement(process, f"{{{BPMN}}}userTask", id=step_id, name=name)
    props = etree.SubElement(etree.SubElement(task, f"{{{BPMN}}}extensionElements"), f"{{{SPIFF}}}properties")
    etree.SubElement(props, f"{{{SPIFF}}}property", name="formKey", value=form_key)
    if case_status:
        etree.SubElement(props, f"{{{SPIFF}}}property", name="caseStatus", value=case_status)
    etree.SubElement(task, f"{{{BPMN}}}incoming").text = flow.get("id")
    etree.SubElement(task, f"{{{BPMN}}}outgoing").text = new_flow
    etree.SubElement(process, f"{{{BPMN}}}sequenceFlow", id=new_flow, sourceRef=step_id, targetRef=target)
    [lane_el] = root.xpath("//bpmn:lane[@name=$n]", namespaces=NS, n=lane)
    etree.SubElement(lane_el, f"{{{BPMN}}}flowNodeRef").text = step_id
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def chain_with_review() -> bytes:
    """The chain with a review of the triage (研判复核, the dispatcher's note) before dispatching."""
    return chain_with_step("triage", "triage_review", "研判复核", "supervise_accept", "综合调度", "triaging")


def relief_with_renamed_notice() -> bytes:
    """临时救助 whose public notice step is renamed (the element changes, nothing else)."""
    xml = shipped_diagrams()["temporary_relief.bpmn"]
    return xml.replace('id="relief_notice" name="张榜公示"'.encode(), 'id="relief_notice" name="张榜公示七日"'.encode())


@contextmanager
def published(app):
    """Publish versions inside the block (``publish(file_name, xml)``); afterwards the suite's clean-up
    removes every case, branch and migration and withdraws the versions, so later tests start cases on
    the shipped versions again."""
    from portal.extensions import db
    from portal.services.processes import publish_process

    def publish(file_name: str, xml: bytes):
        return publish_process(None, file_name, xml, shipped_decisions())

    try:
        yield publish
    finally:  # the cases go and the versions are withdrawn by the suite's own clean-up (tests/conftest.py)
        db.session.rollback()
