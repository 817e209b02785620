"""The allow-list every expression of an uploaded diagram is held to.

Conditions, timers, loop and multi-instance expressions, message payloads and
decision-table cells are parsed with ``ast`` and accepted only when every node
is something a rule needs: literals, data names, comparisons, boolean logic,
arithmetic, a subscript with a literal key, and calls of a few harmless
functions. There is no attribute access at all, so the classic escapes
(``().__class__.__subclasses__()``, ``f.__globals__``) cannot be written.
RestrictedPython still compiles everything as a second line (``sandbox``).
"""
from __future__ import annotations

import ast
import builtins

from portal.bpmn.errors import N_, Message, UnsafeExpressionError
from portal.bpmn.sandbox import check_expression

ALLOWED_FUNCTIONS = frozenset({"workdays_after", "days_after", "len", "min", "max", "abs", "round", "int",
                               "float", "str", "date", "timedelta"})
_BUILTINS = frozenset(dir(builtins)) - ALLOWED_FUNCTIONS
_ARITHMETIC = (ast.Add, ast.Sub, ast.Mult, ast.Div, ast.FloorDiv, ast.Mod)
_UNARY = (ast.Not, ast.USub, ast.UAdd)
_LITERALS = (str, int, float, bool, type(None))
_ALLOWED = (ast.Expression, ast.BoolOp, ast.And, ast.Or, ast.Compare, ast.Eq, ast.NotEq, ast.Lt, ast.LtE, ast.Gt,
            ast.GtE, ast.In, ast.NotIn, ast.Is, ast.IsNot, ast.IfExp, ast.List, ast.Tuple, ast.Set, ast.Dict,
            ast.Load, ast.keyword, ast.Slice, *_ARITHMETIC, *_UNARY)
_REFUSED = {  # node type -> why, in words a diagram author can act on
    ast.Attribute: N_("attribute access (a dot after a value) is not allowed"),
    ast.Lambda: N_("lambda functions are not allowed"),
    ast.ListComp: N_("comprehensions are not allowed"),
    ast.SetComp: N_("comprehensions are not allowed"),
    ast.DictComp: N_("comprehensions are not allowed"),
    ast.GeneratorExp: N_("comprehensions are not allowed"),
    ast.NamedExpr: N_("assignment expressions (:=) are not allowed"),
    ast.JoinedStr: N_("f-strings are not allowed"),
    ast.FormattedValue: N_("f-strings are not allowed"),
    ast.Starred: N_("unpacking with * is not allowed"),
    ast.Pow: N_("powers (**) are not allowed"),
}

# refused as a whole: what they hold (their own variables and arguments) is not looked into
_OPAQUE = (ast.Lambda, ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp, ast.NamedExpr, ast.JoinedStr)


def _refusal(node: ast.AST) -> Message:
    return _REFUSED.get(type(node)) or N_("%(construct)s is not allowed in an expression",
                                          construct=type(node).__name__)


def _name_reason(name: str) -> Message | None:
    if name.startswith("_"):
        return N_("the name %(name)s starts with an underscore, which is not allowed", name=name)
    if name in _BUILTINS:
        return N_("%(name)s is a Python built-in, which diagrams may not use", name=name)
    return None


def _whole_number(node: ast.AST | None) -> bool:
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        node = node.operand
    return isinstance(node, ast.Constant) and type(node.value) is int


def _literal_key(node: ast.AST) -> bool:
    """A subscript key diagrams may use: a literal (data["x"], items[0], items[-1]) or a slice of
    whole numbers (code[:2])."""
    if isinstance(node, ast.Slice):
        return all(part is None or _whole_number(part) for part in (node.lower, node.upper, node.step))
    return _whole_number(node) or isinstance(node, ast.Constant) and isinstance(node.value, str)


def _call_reasons(node: ast.Call) -> list[Message]:
    if isinstance(node.func, ast.Attribute):
        return []  # the attribute access is the reason
    if not isinstance(node.func, ast.Name) or node.func.id not in ALLOWED_FUNCTIONS:
        called = node.func.id if isinstance(node.func, ast.Name) else ast.unparse(node.func)[:60]
        return [N_("calls %(name)s; diagrams may only call %(allowed)s", name=called,
                   allowed=", ".join(sorted(ALLOWED_FUNCTIONS)))]
    if any(k.arg is None for k in node.keywords):
        return [N_("unpacking with ** is not allowed")]
    return []


def _node_reasons(node: ast.AST, called: set[int]) -> list[Message]:
    """Why one node is refused (nothing when it is allowed); its children are checked on their own."""
    if isinstance(node, _ALLOWED):
        return []
    if isinstance(node, ast.Constant):
        return [] if isinstance(node.value, _LITERALS) else [
            N_("the literal %(value)s is not allowed", value=repr(node.value)[:40])]
    if isinstance(node, ast.Name):
        reason = None if id(node) in called else _name_reason(node.id)
        return [reason] if reason else []
    if isinstance(node, (ast.BinOp, ast.UnaryOp)):
        return [] if isinstance(node.op, (*_ARITHMETIC, *_UNARY)) else [_refusal(node.op)]
    if isinstance(node, ast.Subscript):
        return [] if _literal_key(node.slice) else [
            N_("a subscript must use a literal key, such as data[\"x\"] or items[0]")]
    if isinstance(node, ast.Call):
        return _call_reasons(node)
    return [_refusal(node)]


def expression_reasons(source: str) -> list[Message]:
    """Why an expression is refused by the allow-list; an empty list when it is accepted."""
    try:
        tree = ast.parse(source.strip(), mode="eval")
    except SyntaxError as exc:
        return [N_("not a Python expression (%(error)s)", error=exc.msg)]
    called = {id(n.func) for n in ast.walk(tree) if isinstance(n, ast.Call)}
    reasons: list[Message] = []
    todo: list[ast.AST] = [tree]
    while todo:
        node = todo.pop(0)
        for reason in _node_reasons(node, called):
            if reason not in reasons:
                reasons.append(reason)
        if not isinstance(node, _OPAQUE):
            todo.extend(ast.iter_child_nodes(node))
    return reasons


def expression_refusals(source: str) -> list[Message]:
    """The allow-list's reasons, then (when it accepts) the restricted compiler's, the second line."""
    reasons = expression_reasons(source)
    if not reasons:
        try:
            check_expression(source)
        except UnsafeExpressionError as exc:
            reasons.append(N_("the restricted compiler refuses it: %(reason)s", reason=exc.reason))
    return reasons
