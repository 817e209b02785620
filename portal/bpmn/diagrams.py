"""Reading diagram files as XML (no engine): which decision tables a process calls, which decisions
a table holds, and what differs between two versions of a process, element by element."""
from __future__ import annotations

from dataclasses import dataclass, field

from lxml import etree

from portal.bpmn.xmlsafe import parse_xml

BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
SPIFF = "http://spiffworkflow.org/bpmn/schema/1.0/core"
DMN_NAMESPACES = ("https://www.omg.org/spec/DMN/20191111/MODEL/", "http://www.omg.org/spec/DMN/20180521/MODEL/",
                  "http://www.omg.org/spec/DMN/20151101/dmn.xsd")


def _root(xml: bytes):
    """The file's root element through the portal's one XML door (no DOCTYPE, no entities)."""
    root, problems = parse_xml("", xml)
    if root is None:
        raise etree.XMLSyntaxError(str(problems[0][3]), None, problems[0][1] or 0, 0)
    return root


def called_decisions(bpmn_xml: bytes) -> set[str]:
    """The decision ids a process's business-rule tasks call."""
    try:
        root = _root(bpmn_xml)
    except etree.XMLSyntaxError:
        return set()
    return {(e.text or "").strip() for e in root.iter(f"{{{SPIFF}}}calledDecisionId")} - {""}


def decision_ids(dmn_xml: bytes) -> set[str]:
    """The ids of the decisions a table file holds."""
    try:
        root = _root(dmn_xml)
    except etree.XMLSyntaxError:
        return set()
    return {e.get("id") for ns in DMN_NAMESPACES for e in root.iter(f"{{{ns}}}decision") if e.get("id")}


def form_keys(bpmn_xml: bytes) -> list[tuple[str, str]]:
    """(form key, task name) of each user task of a diagram."""
    root = _root(bpmn_xml)
    found = []
    for task in root.iter(f"{{{BPMN}}}userTask"):
        key = next((p.get("value") for p in task.iter(f"{{{SPIFF}}}property") if p.get("name") == "formKey"), "")
        found.append((key or "", task.get("name") or task.get("id")))
    return found


CAMUNDA = "http://camunda.org/schema/1.0/bpmn"


def from_camunda(bpmn_xml: bytes) -> bytes:
    """A diagram drawn in Camunda Modeler 7 names a user task's form with ``camunda:formKey``; the
    portal reads ``spiffworkflow:properties``. Copy each such form key over (the file is otherwise
    unchanged; it is returned as it came when there is nothing to copy)."""
    root = _root(bpmn_xml)
    changed = False
    for task in root.iter(f"{{{BPMN}}}userTask"):
        key = task.get(f"{{{CAMUNDA}}}formKey")
        if not key or any(p.get("name") == "formKey" for p in task.iter(f"{{{SPIFF}}}property")):
            continue
        ext = task.find(f"{{{BPMN}}}extensionElements")
        if ext is None:
            ext = etree.Element(f"{{{BPMN}}}extensionElements")
            docs = task.findall(f"{{{BPMN}}}documentation")
            task.insert(len(docs), ext)  # after any documentation, as the schema orders them
        props = ext.find(f"{{{SPIFF}}}properties")
        if props is None:
            props = etree.SubElement(ext, f"{{{SPIFF}}}properties", nsmap={"spiffworkflow": SPIFF})
        etree.SubElement(props, f"{{{SPIFF}}}property", name="formKey", value=key)
        changed = True
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8") if changed else bpmn_xml


# Elements of a process compared between versions (their diagram shapes are not).
_FLOW_TAGS = {"startEvent", "endEvent", "userTask", "task", "serviceTask", "scriptTask", "businessRuleTask",
              "manualTask", "sendTask", "receiveTask", "callActivity", "subProcess", "exclusiveGateway",
              "parallelGateway", "inclusiveGateway", "eventBasedGateway", "intermediateCatchEvent",
              "intermediateThrowEvent", "boundaryEvent", "sequenceFlow", "lane"}


@dataclass
class DiagramDiff:
    added: list[tuple[str, str]] = field(default_factory=list)      # (id, name)
    removed: list[tuple[str, str]] = field(default_factory=list)
    changed: list[tuple[str, str, list[str]]] = field(default_factory=list)  # (id, name, aspects)

    @property
    def same(self) -> bool:
        return not (self.added or self.removed or self.changed)


def _elements(xml: bytes) -> dict[str, dict[str, object]]:
    root = _root(xml)
    found = {}
    for element in root.iter(f"{{{BPMN}}}*"):
        tag = etree.QName(element).localname
        if tag not in _FLOW_TAGS or not element.get("id"):
            continue
        found[element.get("id")] = {
            "kind": tag,
            "name": element.get("name") or "",
            "attributes": {k: v for k, v in element.attrib.items() if k not in ("id", "name")},
            "properties": {p.get("name"): p.get("value") for p in element.iter(f"{{{SPIFF}}}property")},
            "condition": " ".join((c.text or "").strip() for c in element.iter(f"{{{BPMN}}}conditionExpression")),
            "timer": " ".join((t.text or "").strip() for t in element.iter(
                f"{{{BPMN}}}timeDuration", f"{{{BPMN}}}timeDate", f"{{{BPMN}}}timeCycle")),
            "lane_members": sorted((r.text or "").strip() for r in element.iter(f"{{{BPMN}}}flowNodeRef")),
            "decision": " ".join((d.text or "").strip() for d in element.iter(f"{{{SPIFF}}}calledDecisionId")),
            "instructions": " ".join((d.text or "").strip() for d in element.iter(
                f"{{{SPIFF}}}instructionsForEndUser")),
        }
    return found


_ASPECTS = {"kind": "type", "name": "name", "attributes": "connections or settings", "properties": "properties",
            "condition": "condition", "timer": "timer", "lane_members": "lane members",
            "decision": "decision table", "instructions": "instructions"}


def diagram_diff(old_xml: bytes, new_xml: bytes) -> DiagramDiff:
    """Elements added, removed and changed (with what changed) from one version to the next,
    matched by element id (the ids tie a running case to its steps)."""
    old, new = _elements(old_xml), _elements(new_xml)
    diff = DiagramDiff()
    for element_id in new.keys() - old.keys():
        diff.added.append((element_id, str(new[element_id]["name"])))
    for element_id in old.keys() - new.keys():
        diff.removed.append((element_id, str(old[element_id]["name"])))
    for element_id in old.keys() & new.keys():
        aspects = [label for key, label in _ASPECTS.items() if old[element_id][key] != new[element_id][key]]
        if aspects:
            diff.changed.append((element_id, str(new[element_id]["name"]), aspects))
    for items in (diff.added, diff.removed, diff.changed):
        items.sort()
    return diff
