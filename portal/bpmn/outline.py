"""What a diagram declares for the portal, read from its XML: user tasks with their lane,
properties and line. The portal's own rules (known forms, lanes mapped to roles) are checked
on this, so they are reported with lines, and even when the engine cannot parse the diagram."""
from __future__ import annotations

from dataclasses import dataclass, field

from portal.bpmn.graph import BPMN
from portal.bpmn.xmlsafe import parse_xml

SPIFF = "http://spiffworkflow.org/bpmn/schema/1.0/core"
_MANUAL = (f"{{{BPMN}}}userTask", f"{{{BPMN}}}manualTask")


@dataclass(frozen=True)
class DeclaredLane:
    bpmn_id: str
    name: str
    line: int | None


@dataclass(frozen=True)
class DeclaredTask:
    """A user (or manual) task as the XML declares it."""

    bpmn_id: str
    line: int | None
    lane: DeclaredLane | None
    properties: dict[str, str] = field(default_factory=dict)
    name: str = ""

    @property
    def form_key(self) -> str | None:
        return self.properties.get("formKey")


@dataclass(frozen=True)
class Outline:
    process_ids: list[str]
    user_tasks: list[DeclaredTask]


def _lanes(root) -> dict[str, DeclaredLane]:
    """Flow node id -> its lane; a nested lane comes later in the document and wins, as in the engine."""
    lanes = {}
    for ref in root.iter(f"{{{BPMN}}}flowNodeRef"):
        lane = ref.getparent()
        if ref.text:
            lanes[ref.text.strip()] = DeclaredLane(lane.get("id", ""), lane.get("name") or "", lane.sourceline)
    return lanes


def _lane_of(node, lanes: dict[str, DeclaredLane]) -> DeclaredLane | None:
    """A task's own lane, or the lane of the sub-process it sits in."""
    while node is not None:
        lane = lanes.get(node.get("id", ""))
        if lane is not None:
            return lane
        node = node.getparent()
    return None


def outline_diagram(file_name: str, xml: bytes) -> Outline | None:
    """The processes and user tasks of a BPMN file; None when it cannot be read (the lint says why)."""
    root, _problems = parse_xml(file_name, xml)
    if root is None:
        return None
    lanes = _lanes(root)
    tasks = []
    for node in root.iter(*_MANUAL):
        properties = {p.get("name"): p.get("value") or "" for p in node.iter(f"{{{SPIFF}}}property")
                      if p.get("name")}
        tasks.append(DeclaredTask(node.get("id", ""), node.sourceline, _lane_of(node, lanes), properties,
                                  node.get("name") or ""))
    return Outline([p.get("id", "") for p in root.iter(f"{{{BPMN}}}process")], tasks)
