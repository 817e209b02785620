"""The upload-time lint: the safe XML door, the expression allow-list, timers, scripts, decision-table
cells and the flow graph. Every problem is listed with its file, line and element."""
from __future__ import annotations

import pytest

from portal.bpmn import DiagramInvalidError, Engine, shipped_decisions, shipped_diagrams
from portal.bpmn.dmn_lint import input_cell_python
from portal.bpmn.expressions import expression_reasons
from portal.bpmn.lint import lint_diagram, timer_reasons
from portal.bpmn.xmlsafe import parse_xml

HEAD = ('<?xml version="1.0" encoding="UTF-8"?>\n<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/'
        'MODEL" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:spiffworkflow="http://spiffworkflow.org'
        '/bpmn/schema/1.0/core" id="defs" targetNamespace="http://bpmn.io/schema/bpmn">\n'
        '<bpmn:process id="p" isExecutable="true">\n')
TAIL = "</bpmn:process>\n</bpmn:definitions>\n"
# start -> gw -(cond)-> a -> end ; gw -(default)-> end   (one element a line, so lines are easy to read)
NODES = [
    '<bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>',
    '<bpmn:exclusiveGateway id="gw" default="f3"><bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>'
    '<bpmn:outgoing>f3</bpmn:outgoing></bpmn:exclusiveGateway>',
    '<bpmn:task id="a"><bpmn:incoming>f2</bpmn:incoming><bpmn:outgoing>f4</bpmn:outgoing></bpmn:task>',
    '<bpmn:endEvent id="end"><bpmn:incoming>f3</bpmn:incoming><bpmn:incoming>f4</bpmn:incoming></bpmn:endEvent>',
    '<bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="gw" />',
    '<bpmn:sequenceFlow id="f2" sourceRef="gw" targetRef="a"><bpmn:conditionExpression xsi:type="bpmn:'
    'tFormalExpression">amount &gt; 1000</bpmn:conditionExpression></bpmn:sequenceFlow>',
    '<bpmn:sequenceFlow id="f3" sourceRef="gw" targetRef="end" />',
    '<bpmn:sequenceFlow id="f4" sourceRef="a" targetRef="end" />',
]
FIRST_LINE = 4  # the line of NODES[0]


def diagram(*extra: str, replace: dict[str, str] | None = None) -> bytes:
    text = HEAD + "\n".join([*NODES, *extra]) + "\n" + TAIL
    for old, new in (replace or {}).items():
        assert old in text, old
        text = text.replace(old, new)
    return text.encode()


def problems_of(xml: bytes, name: str = "p.bpmn", **kwargs) -> list[tuple]:
    return lint_diagram(name, xml, **kwargs)


def test_the_small_diagram_and_every_shipped_file_are_clean():
    assert problems_of(diagram()) == []
    for name, xml in {**shipped_diagrams(), **shipped_decisions()}.items():
        assert lint_diagram(name, xml) == [], name


# -- the XML door ----------------------------------------------------------------------------------------
XXE = b'<?xml version="1.0"?>\n<!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]>\n<d name="&x;">&x;</d>'
LAUGHS = (b'<?xml version="1.0"?>\n<!DOCTYPE l [<!ENTITY a "ha">' + b"".join(
    b'<!ENTITY a%d "%s">' % (i, (b"&a%d;" % (i - 1) if i > 1 else b"&a;") * 10) for i in range(1, 10))
    + b"]>\n<l>&a9;</l>")


@pytest.mark.parametrize("xml", [
    XXE, LAUGHS,
    b'<?xml version="1.0"?><!DOCTYPE d SYSTEM "http://example.com/d.dtd"><d/>',
    b'<!DOCTYPE d><d/>',
    XXE.decode().replace('<?xml version="1.0"?>', '<?xml version="1.0" encoding="UTF-16"?>').encode("utf-16"),
])
def test_doctypes_and_entities_are_refused_before_any_parser_sees_them(xml):
    root, problems = parse_xml("evil.bpmn", xml)
    assert root is None
    [(file_name, line, element, message)] = problems
    assert (file_name, element) == ("evil.bpmn", "") and line in (1, 2)
    assert message == "DOCTYPE and entity declarations are not allowed"
    assert message.msgid == message  # the portal translates it by its msgid


def test_malformed_xml_is_refused_with_its_line():
    xml = diagram()
    [(file_name, line, element, message)] = problems_of(xml[: len(xml) // 2])
    assert file_name == "p.bpmn" and line > FIRST_LINE and "not well-formed XML" in message


def test_a_file_that_is_neither_bpmn_nor_dmn_is_refused():
    [(_, _, _, message)] = problems_of(b"<html><body/></html>")
    assert "neither a BPMN diagram nor a DMN decision table" in message


def test_the_engine_is_given_parsed_trees_never_text(monkeypatch):
    from SpiffWorkflow.spiff.parser import SpiffBpmnParser

    def refuse(*args, **kwargs):
        raise AssertionError("the engine's parser read text")
    monkeypatch.setattr(SpiffBpmnParser, "add_bpmn_str", refuse)
    monkeypatch.setattr(SpiffBpmnParser, "add_dmn_str", refuse)
    parsed = Engine().parse({**shipped_diagrams(), **shipped_decisions()}, "mediation_chain")
    assert parsed.user_tasks


# -- expressions -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("source", [
    'route != "mediation"', "escalate == True", "amount > 1000 and kind in ('a', 'b')", "not done or x is None",
    "-amount + 3 * 2 // 1 % 5 - 1 / 2", 'data["x"] == 1', "items[0] >= items[-1]", "dispute_type[:2]",
    "len(parties) > 2", "round(abs(min(a, b)), 2)", "timedelta(days=3)", "workdays_after(10)", "[1, 2.5, 'x']",
    '{"a": 1}', "x not in (1, 2)", '"big" if amount >= 100000 else "small"', "str(int(float('1')))",
])
def test_allowed_expressions(source):
    assert expression_reasons(source) == []


@pytest.mark.parametrize("source, reason", [
    ("__import__('os').system('id') == 0", "calls __import__"),
    ("().__class__.__bases__[0].__subclasses__()", "attribute access"),
    ("x.__globals__", "attribute access"),
    ("amount.real", "attribute access"),
    ("open('/etc/passwd')", "calls open"),
    ("getattr(x, 'y')", "calls getattr"),
    ("eval('1')", "calls eval"),
    ("type == 'a'", "type is a Python built-in"),
    ("__builtins__", "starts with an underscore"),
    ("_secret > 1", "starts with an underscore"),
    ("(lambda: 1)()", "lambda"),
    ("[c for c in 'abc']", "comprehensions"),
    ("(x := 1)", "assignment expressions"),
    ('f"{x}"', "f-strings"),
    ("2 ** 10 ** 8", "powers"),
    ("data[key]", "literal key"),
    ("min(*xs)", "unpacking with *"),
    ("round(x, **k)", "unpacking with **"),
    ("b'x' == y", "the literal b'x'"),
    ("x = 1", "not a Python expression"),
])
def test_refused_expressions(source, reason):
    assert any(reason in r for r in expression_reasons(source)), expression_reasons(source)


def test_an_unsafe_condition_is_refused_with_its_file_line_and_element():
    xml = diagram(replace={"amount &gt; 1000": "().__class__.__bases__[0].__subclasses__()"})
    [(file_name, line, element, message)] = problems_of(xml)
    assert (file_name, line, element) == ("p.bpmn", FIRST_LINE + 5, "f2")
    assert message.startswith("expression refused:") and "attribute access" in message


# -- timers ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("kind, source", [
    ("timeDuration", '"P3D"'), ("timeDuration", '"PT1H"'), ("timeDuration", '"P1DT12H"'),
    ("timeDuration", "followup_delay"), ("timeDate", "workdays_after(10)"), ("timeDate", "days_after(7)"),
    ("timeDate", '"2025-03-01T09:00:00+08:00"'), ("timeDate", "notice_until"), ("timeCycle", '"R3/P1D"'),
])
def test_allowed_timers(kind, source):
    assert timer_reasons(kind, source) == []


@pytest.mark.parametrize("kind, source, reason", [
    ("timeDuration", "P3D", 'write the timer in quotes, as "P3D"'),
    ("timeDuration", "PT1H", 'as "PT1H"'),
    ("timeDate", "2025-03-01T09:00:00+08:00", "in quotes"),
    ("timeCycle", "R3/P1D", "in quotes"),
    ("timeDuration", '"P3X"', "not an ISO 8601 duration"),
    ("timeDuration", '"P1M"', "not an ISO 8601 duration"),   # months: the portal counts days
    ("timeDuration", "workdays_after(3)", "timeDate only"),
    ("timeDate", "workdays_after(days)", "must be a quoted ISO 8601 value"),
    ("timeDate", '"2025-03-01T09:00:00"', "no time zone"),
    ("timeDate", '"next monday"', "not an ISO 8601 date"),
    ("timeCycle", '"R0/P1D"', "not a cycle"),
    ("timeCycle", '"P1D"', "not a cycle"),
    ("timeDuration", "__import__('os')", "must be a quoted ISO 8601 value"),
    ("timeDuration", "open", "Python built-in"),
])
def test_refused_timers(kind, source, reason):
    assert any(reason in r for r in timer_reasons(kind, source)), timer_reasons(kind, source)


def test_an_unquoted_timer_in_a_diagram_names_its_element():
    timer = ('<bpmn:boundaryEvent id="late" attachedToRef="a"><bpmn:outgoing>f5</bpmn:outgoing>'
             '<bpmn:timerEventDefinition id="late_timer"><bpmn:timeDuration xsi:type="bpmn:tFormalExpression">P3D'
             '</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:boundaryEvent>\n'
             '<bpmn:sequenceFlow id="f5" sourceRef="late" targetRef="end" />')
    assert problems_of(diagram(timer.replace("P3D", '"P3D"'))) == []
    [(_, line, element, message)] = problems_of(diagram(timer))
    assert (line, element) == (FIRST_LINE + len(NODES), "late_timer") and '"P3D"' in message


# -- scripts and service tasks ---------------------------------------------------------------------------
def _with_script(script: str) -> bytes:
    return diagram(replace={
        '<bpmn:task id="a">': '<bpmn:scriptTask id="a">',
        '<bpmn:outgoing>f4</bpmn:outgoing></bpmn:task>':
            f'<bpmn:outgoing>f4</bpmn:outgoing><bpmn:script>{script}</bpmn:script></bpmn:scriptTask>'})


def test_script_tasks_are_refused_unless_allowed_and_then_only_safe_ones():
    [(_, _, element, message)] = problems_of(_with_script("fee = 50 * 2"))
    assert element == "a" and "scripts are refused" in message
    assert problems_of(_with_script("fee = 50 * 2"), allow_scripts=True) == []
    for script, reason in [("data = open('/etc/passwd').read()", "calls open"), ("import os", "imports modules"),
                           ("x = ().__class__", "underscore"), ("x = eval('1')", "calls eval")]:
        [(_, _, element, message)] = problems_of(_with_script(script), allow_scripts=True)
        assert element == "a" and "script refused" in message and reason in message, message


def test_pre_and_post_scripts_are_refused_unless_allowed():
    xml = diagram(replace={'<bpmn:task id="a">': '<bpmn:task id="a"><bpmn:extensionElements><spiffworkflow:preScript>'
                                                 'x = 1</spiffworkflow:preScript></bpmn:extensionElements>'})
    [(_, _, element, message)] = problems_of(xml)
    assert element == "a" and "scripts are refused" in message
    assert problems_of(xml, allow_scripts=True) == []


def test_an_allowed_script_runs_in_the_restricted_environment():
    engine = Engine()
    parsed = engine.parse({"p.bpmn": _with_script("fee = max(amount, 50) * 2")}, "p", allow_scripts=True)
    wf = engine.start(parsed.spec_json, data={"amount": 2000})
    assert engine.is_completed(wf) and engine.data(wf)["fee"] == 4000
    with pytest.raises(DiagramInvalidError):
        engine.parse({"p.bpmn": _with_script("fee = 1")}, "p")


def test_service_tasks_are_refused():
    xml = diagram(replace={'<bpmn:task id="a">': '<bpmn:serviceTask id="a">',
                           '<bpmn:outgoing>f4</bpmn:outgoing></bpmn:task>':
                               '<bpmn:outgoing>f4</bpmn:outgoing></bpmn:serviceTask>'})
    [(_, _, element, message)] = problems_of(xml, allow_scripts=True)
    assert element == "a" and message == "service tasks are not available"


# -- the flow graph --------------------------------------------------------------------------------------
def test_an_unreachable_element_and_a_dead_end_are_reported():
    xml = diagram('<bpmn:task id="orphan" />')
    assert [(p[2], p[3]) for p in problems_of(xml)] == [
        ("orphan", "orphan cannot be reached from a start event"),
        ("orphan", "orphan has no outgoing sequence flow: a case would stop there")]
    assert problems_of(xml)[0][1] == FIRST_LINE + len(NODES)


def test_a_flow_to_nowhere_is_reported_with_its_line():
    problems = problems_of(diagram(replace={'sourceRef="a" targetRef="end"': 'sourceRef="a" targetRef="nowhere"'}))
    assert (FIRST_LINE + 7, "f4") in [(p[1], p[2]) for p in problems]
    assert any("leads to 'nowhere'" in p[3] for p in problems)


def test_a_gateway_flow_without_condition_or_default_is_reported():
    problems = problems_of(diagram(replace={' default="f3"': ""}))
    assert [(p[2], p[3]) for p in problems] == [
        ("f3", "flow f3 out of gateway gw has no condition and is not the gateway's default")]
    problems = problems_of(diagram(replace={'default="f3"': 'default="f9"'}))
    assert any("the default flow f9 of gateway gw does not leave it" == p[3] for p in problems)


def test_boundary_events_are_reachable_with_their_task_and_need_a_flow_out():
    boundary = ('<bpmn:boundaryEvent id="late" attachedToRef="a"><bpmn:timerEventDefinition id="t">'
                '<bpmn:timeDuration xsi:type="bpmn:tFormalExpression">"P3D"</bpmn:timeDuration>'
                '</bpmn:timerEventDefinition></bpmn:boundaryEvent>')
    assert [(p[2], p[3]) for p in problems_of(diagram(boundary))] == [
        ("late", "late has no outgoing sequence flow: a case would stop there")]


def test_every_problem_is_listed_not_only_the_first():
    xml = diagram('<bpmn:task id="orphan"><bpmn:outgoing>f9</bpmn:outgoing></bpmn:task>',
                  '<bpmn:sequenceFlow id="f9" sourceRef="orphan" targetRef="end" />',
                  replace={"amount &gt; 1000": "open('x')", ' default="f3"': ""})
    with pytest.raises(DiagramInvalidError) as refused:
        Engine().parse({"p.bpmn": xml}, "p")
    assert sorted(p[2] for p in refused.value.problems) == ["f2", "f3", "orphan"]


# -- decision-table cells --------------------------------------------------------------------------------
@pytest.mark.parametrize("cell, python", [
    ('"01"', '(dispute_type[:2]) == ("01")'),
    (">= 10", "dispute_type[:2]>= 10"),
    ('? in ("05", "06")', 'dmninputexpr in ("05", "06")'),
    ("1000 <= ? < 20000", "1000 <= dmninputexpr < 20000"),
    ('"what?"', '(dispute_type[:2]) == ("what?")'),  # a ? inside quotes is text, as the engine reads it
])
def test_decision_cells_become_the_python_the_engine_evaluates(cell, python):
    assert input_cell_python("dispute_type[:2]", cell) == (python, None)


@pytest.mark.parametrize("input_expr, cell, hint", [
    ("kind", '"a", "b"', '? in ("a", "b")'),
    ("kind", 'not("a")', "? !="),
    ("amount", "[1..5]", "1 <= ? <= 5"),
    ("amount", "- ", "write - alone"),
    ("kind", 'in ("a", "b")', "the engine would read this as kindin"),
])
def test_decision_cells_the_engine_gets_wrong_are_refused_with_a_hint(input_expr, cell, hint):
    python, why = input_cell_python(input_expr, cell)
    assert python is None and hint in why


def test_an_unsafe_decision_cell_is_refused_with_its_line():
    dmn = shipped_decisions()["triage_tier.dmn"].replace(b"&gt;= 10<", b"&gt;= ().__class__.__base__<")
    [(file_name, line, element, message)] = lint_diagram("triage_tier.dmn", dmn)
    assert (file_name, element) == ("triage_tier.dmn", "tier_group_in1") and line > 1
    assert "attribute access" in message


def test_a_decision_output_must_be_a_data_name():
    dmn = shipped_decisions()["triage_tier.dmn"].replace(b'name="proposed_risk"', b'name="__builtins__"')
    [(_, _, element, message)] = lint_diagram("triage_tier.dmn", dmn)
    assert element == "out_risk" and "must be a data name" in message
