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
_DMN = "{https://www.omg.org/spec/DMN/20191111/MODEL/}"
_OPERATORS = ("<", ">", "=", "!", "in ", "not ")

Problem = tuple[str, "int | None", str, str]


def _owner(node) -> str:
    while node is not None and node.get("id") is None:
        node = node.getparent()
    return node.get("id") if node is not None else ""


def _dmn_expression(node) -> str | None:
    """The Python expression the DMN engine will build from a table cell, or None for '-'."""
    text = (node.text or "").strip()
    if not text or text == "-":
        return None
    cell = node.getparent()
    if cell.tag == f"{_DMN}inputEntry":
        # the engine writes "? in (…)" with the input in place of "?", and "< 5" as "input < 5"
        return text.replace("?", "dmn_input") if "?" in text else (
            f"dmn_input {text}" if text.startswith(_OPERATORS) else f"dmn_input == ({text})")
    return text


def _lint_dmn(file_name: str, root) -> list[Problem]:
    problems: list[Problem] = []
    decisions = root.findall(f"{_DMN}decision")
    if len(decisions) != 1:
        problems.append((file_name, root.sourceline, root.get("id", ""),
                         f"a decision table file must hold exactly one decision (found {len(decisions)})"))
    for node in root.iter(f"{_DMN}text"):
        source = _dmn_expression(node)
        if source is None:
            continue
        try:
            check_expression(source)
        except UnsafeExpressionError as exc:
            problems.append((file_name, node.sourceline, _owner(node),
                             f"expression refused: {(node.text or '')[:80]!r} ({exc.reason})"))
        except SyntaxError as exc:
            problems.append((file_name, node.sourceline, _owner(node),
                             f"not a Python expression: {(node.text or '')[:80]!r} ({exc.msg})"))
    return problems


def lint_diagram(file_name: str, xml: bytes) -> list[Problem]:
    """Problems found in one diagram or decision-table file: (file, line, element id, message)."""
    try:
        root = etree.fromstring(xml)
    except etree.XMLSyntaxError as exc:
        return [(file_name, exc.lineno, "", f"XML syntax error: {exc.msg}")]
    if root.tag.startswith(_DMN):
        return _lint_dmn(file_name, root)
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
