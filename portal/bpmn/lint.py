"""Upload-time checks of a diagram: every place the engine will evaluate.

SpiffWorkflow checks expressions only when a case reaches them. This lint
finds every condition, timer, script and loop expression with its line and
compiles it with the restricted compiler, so an unsafe or broken diagram is
refused before any case runs on it.
"""
from __future__ import annotations

from lxml import etree

from portal.bpmn.errors import UnsafeExpressionError
from portal.bpmn.sandbox import check_expression, check_script

NS = {
    "bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL",
    "spiffworkflow": "http://spiffworkflow.org/bpmn/schema/1.0/core",
}
# (xpath, is_script)
_EVALUATED = [
    ("//bpmn:conditionExpression", False),
    ("//bpmn:timeDuration", False),
    ("//bpmn:timeDate", False),
    ("//bpmn:timeCycle", False),
    ("//bpmn:loopCardinality", False),
    ("//bpmn:completionCondition", False),
    ("//bpmn:loopCondition", False),
    ("//bpmn:condition", False),
    ("//bpmn:script", True),
    ("//spiffworkflow:preScript", True),
    ("//spiffworkflow:postScript", True),
    ("//spiffworkflow:messagePayload", False),
]
_REFUSED = [("//bpmn:serviceTask", "service tasks are not available")]

Problem = tuple[str, "int | None", str, str]


def _owner(node) -> str:
    while node is not None and node.get("id") is None:
        node = node.getparent()
    return node.get("id") if node is not None else ""


def lint_diagram(file_name: str, xml: bytes) -> list[Problem]:
    """Problems found in one diagram file: (file, line, element id, message)."""
    try:
        root = etree.fromstring(xml)
    except etree.XMLSyntaxError as exc:
        return [(file_name, exc.lineno, "", f"XML syntax error: {exc.msg}")]
    problems: list[Problem] = []
    for xpath, is_script in _EVALUATED:
        for node in root.xpath(xpath, namespaces=NS):
            source = (node.text or "").strip()
            if not source:
                continue
            try:
                (check_script if is_script else check_expression)(source)
            except UnsafeExpressionError as exc:
                problems.append((file_name, node.sourceline, _owner(node),
                                 f"expression refused: {source[:80]!r} ({exc.reason})"))
    for xpath, message in _REFUSED:
        for node in root.xpath(xpath, namespaces=NS):
            problems.append((file_name, node.sourceline, node.get("id", ""), message))
    return problems
