"""Checks of a diagram's flow graph, per process and sub-process.

The engine accepts a diagram whose steps cannot be reached, or that stops at a
task without an outgoing flow, and only misbehaves when a case gets there.
These checks find such places at upload time, with their element ids and lines.
"""
from __future__ import annotations

from lxml import etree

from portal.bpmn.errors import N_, Problem

BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
_ACTIVITIES = {"task", "userTask", "manualTask", "scriptTask", "serviceTask", "sendTask", "receiveTask",
               "businessRuleTask", "callActivity", "subProcess", "transaction", "adHocSubProcess"}
_EVENTS = {"startEvent", "endEvent", "intermediateCatchEvent", "intermediateThrowEvent", "boundaryEvent"}
_GATEWAYS = {"exclusiveGateway", "inclusiveGateway", "parallelGateway", "eventBasedGateway", "complexGateway"}
_CONDITIONAL = {"exclusiveGateway", "inclusiveGateway", "complexGateway"}
FLOW_NODES = _ACTIVITIES | _EVENTS | _GATEWAYS


def local(node) -> str:
    return etree.QName(node).localname if isinstance(node.tag, str) else ""


def _has(node, definition: str) -> bool:
    return node.find(f"{{{BPMN}}}{definition}") is not None


def _entry(node) -> bool:
    """Started by something other than an incoming flow (a start event, an event sub-process,
    a compensation handler)."""
    return (local(node) == "startEvent" or node.get("triggeredByEvent") == "true"
            or node.get("isForCompensation") == "true")


def _may_end(node) -> bool:
    """Allowed to have no outgoing flow."""
    kind = local(node)
    return (kind == "endEvent" or node.get("triggeredByEvent") == "true" or node.get("isForCompensation") == "true"
            or kind == "intermediateThrowEvent" and _has(node, "linkEventDefinition")
            or kind == "boundaryEvent" and _has(node, "compensateEventDefinition"))


def _link_name(node) -> str | None:
    link = node.find(f"{{{BPMN}}}linkEventDefinition")
    return None if link is None else link.get("name") or ""


class _Scope:
    """The flow nodes and sequence flows directly inside one process or sub-process."""

    def __init__(self, file_name: str, container) -> None:
        self.file_name, self.container = file_name, container
        self.nodes = {n.get("id"): n for n in container if local(n) in FLOW_NODES}
        self.flows = [f for f in container if local(f) == "sequenceFlow"]
        self.outgoing: dict[str, list] = {node_id: [] for node_id in self.nodes}
        self.problems: list[Problem] = []

    def problem(self, node, message) -> None:
        self.problems.append((self.file_name, node.sourceline, node.get("id", ""), message))

    def check_flows(self) -> None:
        for flow in self.flows:
            source, target = flow.get("sourceRef", ""), flow.get("targetRef", "")
            if source not in self.nodes:
                self.problem(flow, N_("sequence flow %(flow)s starts at %(ref)r, which is not an element of "
                                      "this process", flow=flow.get("id", ""), ref=source))
            if target not in self.nodes:
                self.problem(flow, N_("sequence flow %(flow)s leads to %(ref)r, which is not an element of "
                                      "this process", flow=flow.get("id", ""), ref=target))
            if source in self.nodes and target in self.nodes:
                self.outgoing[source].append(flow)

    def check_reachable(self) -> None:
        attached: dict[str, list[str]] = {}
        links: dict[str, list[str]] = {}
        for node_id, node in self.nodes.items():
            if local(node) == "boundaryEvent":
                ref = node.get("attachedToRef", "")
                attached.setdefault(ref, []).append(node_id)
                if ref not in self.nodes:
                    self.problem(node, N_("boundary event attached to %(ref)r, which is not an activity of this "
                                          "process", ref=ref))
            if local(node) == "intermediateCatchEvent" and _link_name(node) is not None:
                links.setdefault(_link_name(node), []).append(node_id)
        todo = [node_id for node_id, node in self.nodes.items() if _entry(node)]
        if not any(local(n) == "startEvent" for n in self.nodes.values()) and self.nodes:
            self.problem(self.container, N_("%(element)s has no start event", element=self.container.get("id", "")))
        seen = set(todo)
        while todo:
            node_id = todo.pop()
            node = self.nodes[node_id]
            following = [f.get("targetRef") for f in self.outgoing[node_id]] + attached.get(node_id, [])
            if local(node) == "intermediateThrowEvent" and _link_name(node) is not None:
                following += links.get(_link_name(node), [])
            for nxt in following:
                if nxt not in seen:
                    seen.add(nxt)
                    todo.append(nxt)
        for node_id, node in self.nodes.items():
            if node_id not in seen:
                self.problem(node, N_("%(element)s cannot be reached from a start event", element=node_id))

    def check_dead_ends(self) -> None:
        for node_id, node in self.nodes.items():
            if not self.outgoing[node_id] and not _may_end(node):
                self.problem(node, N_("%(element)s has no outgoing sequence flow: a case would stop there",
                                      element=node_id))

    def check_gateways(self) -> None:
        for node_id, node in self.nodes.items():
            flows = self.outgoing[node_id]
            default = node.get("default")
            if default and default not in {f.get("id") for f in flows}:
                self.problem(node, N_("the default flow %(flow)s of gateway %(gateway)s does not leave it",
                                      flow=default, gateway=node_id))
            if local(node) not in _CONDITIONAL or len(flows) < 2:
                continue
            for flow in flows:
                condition = flow.find(f"{{{BPMN}}}conditionExpression")
                if flow.get("id") != default and (condition is None or not (condition.text or "").strip()):
                    self.problem(flow, N_("flow %(flow)s out of gateway %(gateway)s has no condition and is not "
                                          "the gateway's default", flow=flow.get("id", ""), gateway=node_id))


def graph_problems(file_name: str, root) -> list[Problem]:
    """Unreachable elements, dead ends, dangling flows and unconditioned gateway flows of every
    process and sub-process in a BPMN document."""
    problems: list[Problem] = []
    # an ad-hoc sub-process is not looked into: its activities have no order to check
    for container in root.iter(f"{{{BPMN}}}process", f"{{{BPMN}}}subProcess", f"{{{BPMN}}}transaction"):
        scope = _Scope(file_name, container)
        scope.check_flows()
        scope.check_reachable()
        scope.check_dead_ends()
        scope.check_gateways()
        problems.extend(scope.problems)
    return problems
