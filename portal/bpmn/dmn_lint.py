"""Upload-time checks of a decision table: every cell as the DMN engine will evaluate it.

SpiffWorkflow turns a cell into Python text (``DMNEngine.evaluate``): ``-`` (exactly) is
"any"; a cell with ``?`` outside quotes is evaluated with the input in place of ``?``;
a cell that parses as an expression is compared with ``(input) == (cell)``; otherwise
(``> 3``, ``<= 10``) the cell is glued to the input's text. The checks below build the
same text and hold it to the expression allow-list, and they point out the FEEL forms
the engine silently gets wrong (comma lists, ``not(…)``, ranges such as ``[1..5]``).
"""
from __future__ import annotations

import ast
import re

from lxml import etree

from portal.bpmn.errors import N_, Message, Problem
from portal.bpmn.expressions import expression_refusals

DMN_NAMESPACES = {"http://www.omg.org/spec/DMN/20151101/dmn.xsd", "http://www.omg.org/spec/DMN/20180521/MODEL/",
                  "https://www.omg.org/spec/DMN/20191111/MODEL/"}
_QUESTION = re.compile(r'(\?)(?=(?:[^\'"]|[\'"][^\'"]*[\'"])*$)')  # the engine's own: a ? outside quotes
_RANGE = re.compile(r"^[\[\]\(]\s*[^.\s]+\s*\.\.\s*[^.\s]+\s*[\]\[\)]$")
_OUTPUT_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*(\.[A-Za-z][A-Za-z0-9_]*)*$")


def _owner(node) -> str:
    while node is not None and node.get("id") is None:
        node = node.getparent()
    return node.get("id") if node is not None else ""


def _parses(source: str) -> ast.AST | None:
    try:
        return ast.parse(source)  # as the engine checks it: a module, not an expression
    except SyntaxError:
        return None


def input_cell_python(input_expr: str, text: str) -> tuple[str | None, Message | None]:
    """The Python the engine evaluates for an input cell, or None with why the cell cannot work."""
    with_input = _QUESTION.sub("dmninputexpr", text)
    if "dmninputexpr" in with_input:
        return with_input, None
    if text.strip() == "-":
        return None, N_("write - alone, without spaces, for \"any value\"")
    if _RANGE.match(text.strip()):
        return None, N_("ranges such as [1..5] are not understood: write 1 <= ? <= 5")
    tree = _parses(text)
    if tree is not None:
        body = tree.body[0].value if len(tree.body) == 1 and isinstance(tree.body[0], ast.Expr) else None
        if isinstance(body, ast.Tuple):
            return None, N_("a list of values never matches: write ? in (\"a\", \"b\")")
        if isinstance(body, ast.UnaryOp) and isinstance(body.op, ast.Not):
            return None, N_("not(…) does not negate a value here: write ? != \"a\" or ? not in (\"a\", \"b\")")
        return f"({input_expr}) == ({text})", None
    if _parses(f"v {text}") is None:
        return None, N_("not a Python expression")
    glued = input_expr + text
    meant = f"({input_expr}) {text}"
    if _parses(glued) is None or ast.dump(ast.parse(glued)) != ast.dump(ast.parse(meant)):
        return None, N_("the engine would read this as %(python)s: write it with ?, such as ? %(cell)s",
                        python=glued, cell=text.strip())
    return glued, None


class _TableLint:
    def __init__(self, file_name: str, ns: str) -> None:
        self.file_name, self.ns = file_name, ns
        self.problems: list[Problem] = []

    def tag(self, name: str) -> str:
        return f"{{{self.ns}}}{name}"

    def problem(self, node, message) -> None:
        self.problems.append((self.file_name, node.sourceline, _owner(node), message))

    def expression(self, node, source: str, cell: str | None = None) -> None:
        reasons = expression_refusals(source)
        if reasons:
            self.problem(node, N_("expression refused: %(source)s (%(reasons)s)",
                                  source=repr((cell or source)[:80]), reasons=reasons))

    def text_of(self, node) -> tuple[etree._Element | None, str | None]:
        text = node.find(self.tag("text"))
        return text, None if text is None else text.text

    def table(self, table) -> None:
        inputs = []
        for inp in table.findall(self.tag("input")):
            expression = inp.find(self.tag("inputExpression"))
            node, source = self.text_of(expression) if expression is not None else (None, None)
            if not (source or "").strip():
                self.problem(inp, N_("input %(input)s has no expression", input=inp.get("id", "")))
            else:
                self.expression(node, source)
            inputs.append((source or "").strip())
        outputs = table.findall(self.tag("output"))
        for out in outputs:
            if not _OUTPUT_NAME.match(out.get("name") or ""):
                self.problem(out, N_("output name %(name)r must be a data name (letters, digits and _)",
                                     name=out.get("name") or ""))
        for rule in table.findall(self.tag("rule")):
            self.rule(rule, inputs, len(outputs))

    def rule(self, rule, inputs: list[str], outputs: int) -> None:
        entries, results = rule.findall(self.tag("inputEntry")), rule.findall(self.tag("outputEntry"))
        if len(entries) != len(inputs) or len(results) != outputs:
            self.problem(rule, N_("rule %(rule)s has %(entries)s input and %(results)s output cells for %(inputs)s "
                                  "inputs and %(outputs)s outputs", rule=rule.get("id", ""), entries=len(entries),
                                  results=len(results), inputs=len(inputs), outputs=outputs))
            return
        for entry, input_expr in zip(entries, inputs, strict=True):
            node, text = self.text_of(entry)
            if text is None or text == "-" or node is None or not input_expr:
                continue
            python, why = input_cell_python(input_expr, text)
            if why is not None:
                self.problem(node, N_("the cell %(cell)r cannot work: %(why)s", cell=text[:80], why=why))
            else:
                self.expression(node, python, cell=text)
        for result in results:
            node, text = self.text_of(result)
            if node is not None and text:
                self.expression(node, text)


def lint_decision(file_name: str, root) -> list[Problem]:
    """Problems of one DMN file (one decision with one table, as the engine requires)."""
    ns = etree.QName(root).namespace
    lint = _TableLint(file_name, ns)
    decisions = root.findall(lint.tag("decision"))
    if len(decisions) != 1:
        lint.problem(root, N_("a decision table file must hold exactly one decision (found %(n)s)", n=len(decisions)))
    for decision in decisions:
        tables = decision.findall(lint.tag("decisionTable"))
        if not tables:
            lint.problem(decision, N_("the decision %(decision)s holds no decision table",
                                      decision=decision.get("id", "")))
        for table in tables[:1]:
            lint.table(table)
    return lint.problems
