"""Upload-time checks of a diagram: every place the engine will evaluate, and its flow graph.

SpiffWorkflow checks expressions only when a case reaches them. This lint
reads every file through the safe XML parser, finds every condition, timer,
script and loop expression with its line, holds it to the expression
allow-list and compiles it with the restricted compiler, and checks the flow
graph, so an unsafe or broken diagram is refused before any case runs on it.
Every problem is listed, not only the first.
"""
from __future__ import annotations

import ast
import re
from collections import Counter
from datetime import datetime

from lxml import etree

from portal.bpmn.dmn_lint import DMN_NAMESPACES, lint_decision
from portal.bpmn.durations import iso_duration
from portal.bpmn.errors import N_, Message, Problem, UnsafeExpressionError
from portal.bpmn.expressions import expression_reasons, expression_refusals
from portal.bpmn.graph import BPMN, graph_problems
from portal.bpmn.sandbox import check_script, forbidden_calls
from portal.bpmn.xmlsafe import parse_xml

NS = {"bpmn": BPMN, "spiffworkflow": "http://spiffworkflow.org/bpmn/schema/1.0/core"}
_EXPRESSIONS = [  # everything else the engine evaluates as a Python expression
    "//bpmn:conditionExpression", "//bpmn:loopCardinality", "//bpmn:completionCondition",
    "//bpmn:loopCondition", "//bpmn:condition", "//spiffworkflow:messagePayload", "//bpmn:messagePath",
    "//bpmn:correlationPropertyRetrievalExpression/bpmn:formalExpression",
]
_TIMERS = "//bpmn:timeDuration | //bpmn:timeDate | //bpmn:timeCycle"
_SCRIPTS = "//bpmn:scriptTask | //spiffworkflow:preScript | //spiffworkflow:postScript"
_PERIOD_HELPERS = ("workdays_after", "days_after")
_CYCLE = re.compile(r"^R(\d+)/(.+)$")


def _owner(node) -> str:
    while node is not None and node.get("id") is None:
        node = node.getparent()
    return node.get("id") if node is not None else ""


def _script_reasons(source: str) -> list[Message]:
    """Why an (allowed) script is refused: imports, built-ins the sandbox does not offer (open, eval …),
    attributes starting with an underscore."""
    try:
        tree = ast.parse(source, mode="exec")
    except SyntaxError as exc:
        return [N_("not Python (%(error)s)", error=exc.msg)]
    reasons = []
    if any(isinstance(node, (ast.Import, ast.ImportFrom)) for node in ast.walk(tree)):
        reasons.append(N_("imports modules, which diagrams may not do"))
    calls = forbidden_calls(source, "exec")
    if calls:
        reasons.append(N_("calls %(names)s, which diagrams may not use", names=", ".join(calls)))
    hidden = sorted({n.attr for n in ast.walk(tree) if isinstance(n, ast.Attribute) and n.attr.startswith("_")})
    if hidden:
        reasons.append(N_("uses the attributes %(names)s, which start with an underscore", names=", ".join(hidden)))
    return reasons


def _script_refusals(source: str) -> list[Message]:
    """The script rules' reasons, then (when they accept) the restricted compiler's, the second line."""
    reasons = _script_reasons(source)
    if not reasons:
        try:
            check_script(source)
        except UnsafeExpressionError as exc:
            reasons.append(N_("the restricted compiler refuses it: %(reason)s", reason=exc.reason))
    return reasons


def _timer_literal(kind: str, text: str) -> Message | None:
    """Why ``text`` is not an ISO 8601 value for this kind of timer (None when it is one)."""
    if kind == "timeDuration":
        try:
            iso_duration(text)
        except ValueError:
            return N_("%(text)s is not an ISO 8601 duration such as P3D or PT1H", text=text)
    elif kind == "timeDate":
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            return N_("%(text)s is not an ISO 8601 date and time", text=text)
        if moment.tzinfo is None:
            return N_("the date %(text)s has no time zone: add it, such as 2025-03-01T09:00:00+08:00", text=text)
    else:
        match = _CYCLE.match(text)
        try:
            if not match or int(match.group(1)) < 1:
                raise ValueError(text)
            iso_duration(match.group(2))
        except ValueError:
            return N_("%(text)s is not a cycle such as R3/P1D (repeat 3 times, every day)", text=text)
    return None


def timer_reasons(kind: str, text: str) -> list[Message]:
    """Why a timer expression is refused: it must be a quoted ISO 8601 literal, a period helper
    (timeDate only) with a whole number of days, or a plain data name."""
    try:
        tree = ast.parse(text, mode="eval").body
    except SyntaxError:
        tree = None
    if isinstance(tree, ast.Constant) and isinstance(tree.value, str):
        why = _timer_literal(kind, tree.value)
        return [why] if why else []
    if _timer_literal(kind, text) is None:  # an ISO value without its quotes: a data name to the engine
        return [N_("write the timer in quotes, as \"%(text)s\": unquoted it is read as a data name", text=text)]
    if isinstance(tree, ast.Name):
        return expression_reasons(text)
    if (isinstance(tree, ast.Call) and isinstance(tree.func, ast.Name) and tree.func.id in _PERIOD_HELPERS
            and kind == "timeDate" and len(tree.args) == 1 and not tree.keywords
            and isinstance(tree.args[0], ast.Constant) and type(tree.args[0].value) is int):
        return []
    return [N_("a %(kind)s must be a quoted ISO 8601 value such as \"P3D\", workdays_after(<days>) or "
               "days_after(<days>) (timeDate only), or a data name", kind=kind)]


def _lint_bpmn(file_name: str, root, allow_scripts: bool) -> list[Problem]:
    problems: list[Problem] = []

    def problem(node, message) -> None:
        problems.append((file_name, node.sourceline, _owner(node), message))

    for node in root.xpath(" | ".join(_EXPRESSIONS), namespaces=NS):
        source = (node.text or "").strip()
        if source and (reasons := expression_refusals(source)):
            problem(node, N_("expression refused: %(source)s (%(reasons)s)", source=repr(source[:80]), reasons=reasons))
    for node in root.xpath(_TIMERS, namespaces=NS):
        source = (node.text or "").strip()
        kind = etree.QName(node).localname
        reasons = (timer_reasons(kind, source) or expression_refusals(source)) if source else [N_("the timer is empty")]
        if reasons:
            problem(node, N_("timer refused: %(source)s (%(reasons)s)", source=repr(source[:80]), reasons=reasons))
    for node in root.xpath(_SCRIPTS, namespaces=NS):
        if not allow_scripts:
            problem(node, N_("scripts are refused: only an administrator holding the right to allow scripts may "
                             "publish a diagram with a script task, pre-script or post-script"))
            continue
        script = node.findtext(f"{{{BPMN}}}script") if etree.QName(node).localname == "scriptTask" else node.text
        if (script or "").strip() and (reasons := _script_refusals(script)):
            problem(node, N_("script refused: %(reasons)s", reasons=reasons))
    for node in root.xpath("//bpmn:serviceTask", namespaces=NS):
        problem(node, N_("service tasks are not available"))
    ids = Counter(node.get("id") for node in root.iter() if isinstance(node.tag, str) and node.get("id"))
    for node in root.iter():
        if isinstance(node.tag, str) and ids[node.get("id")] > 1:
            problem(node, N_("the id %(id)s is used by more than one element", id=node.get("id")))
    return problems + graph_problems(file_name, root)


def lint_root(file_name: str, root, allow_scripts: bool = False) -> list[Problem]:
    """Problems of a file already read by ``parse_xml``."""
    namespace = etree.QName(root).namespace
    if etree.QName(root).localname == "definitions" and namespace in DMN_NAMESPACES:
        kind = "dmn"
    elif root.tag == f"{{{BPMN}}}definitions":
        kind = "bpmn"
    else:
        return [(file_name, root.sourceline, "", N_("the file is neither a BPMN diagram nor a DMN decision table"))]
    if not file_name.endswith(f".{kind}"):
        return [(file_name, root.sourceline, "", N_("a BPMN diagram must be a .bpmn file and a decision table a "
                                                    ".dmn file"))]
    return lint_decision(file_name, root) if kind == "dmn" else _lint_bpmn(file_name, root, allow_scripts)


def lint_diagram(file_name: str, xml: bytes, allow_scripts: bool = False) -> list[Problem]:
    """Problems found in one diagram or decision-table file: (file, line, element id, message)."""
    root, problems = parse_xml(file_name, xml)
    return problems if root is None else lint_root(file_name, root, allow_scripts)


def read_files(files: dict[str, bytes], allow_scripts: bool = False) -> tuple[dict[str, etree._Element], list[Problem]]:
    """Every file read safely and linted: the parsed roots, and every problem of every file."""
    roots, problems = {}, []
    for name, xml in files.items():
        root, refused = parse_xml(name, xml)
        problems.extend(refused)
        if root is not None:
            roots[name] = root
            problems.extend(lint_root(name, root, allow_scripts))
    return roots, problems
