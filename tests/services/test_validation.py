"""Publishing refuses hostile and broken diagrams: each upload is refused with the right message, the
published version stays as it was, and nothing in the file ran."""
from __future__ import annotations

import sys
import uuid
from pathlib import Path

import pytest
from flask_babel import gettext
from lxml import etree
from sqlalchemy import func, select

from portal.bpmn import MAIN_PROCESS_ID, DiagramInvalidError, shipped_decisions, shipped_diagrams
from portal.extensions import db
from portal.models import AuditEvent, ProcessVersion
from portal.services.errors import ScriptsNotAllowedError
from portal.services.processes import may_allow_scripts, publish_process, published_version, validate_upload
from tests.conftest import user

FILE = f"{MAIN_PROCESS_ID}.bpmn"
BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
NS = {"bpmn": BPMN}


def chain():
    """The shipped mediation chain, parsed, to be edited into a hostile or broken upload."""
    return etree.fromstring(shipped_diagrams()[FILE])


def text_of(root) -> bytes:
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def element(root, element_id: str):
    [node] = root.xpath("//*[@id=$i]", i=element_id)
    return node


def with_condition(source: str, flow: str = "flow_route_lawful") -> bytes:
    root = chain()
    element(root, flow).find(f"{{{BPMN}}}conditionExpression").text = source
    return text_of(root)


def with_doctype(doctype: str, name: str) -> bytes:
    """The chain with a DOCTYPE after its XML declaration and ``name`` (an entity reference) as the
    intake step's name."""
    head, rest = shipped_diagrams()[FILE].split(b"\n", 1)
    rest = rest.replace('name="一窗受理"'.encode(), f'name="{name}"'.encode(), 1)
    return head + b"\n" + doctype.encode() + b"\n" + rest


def _state():
    """What a refused upload must leave as it was: the newest published chain, every version, the audit."""
    return (published_version(MAIN_PROCESS_ID).id, db.session.scalar(select(func.count(ProcessVersion.id))),
            db.session.scalar(select(func.count(AuditEvent.id))))


def refused(xml: bytes, by: str = "admin", decisions=None, **kwargs) -> list[tuple]:
    """Publish ``xml`` as the chain: it must be refused with nothing saved; its problems."""
    before = _state()
    with pytest.raises(DiagramInvalidError) as refusal:
        publish_process(user(by), FILE, xml, shipped_decisions() if decisions is None else decisions, **kwargs)
    assert _state() == before
    assert refusal.value.problems
    return refusal.value.problems


def _(msgid: str, **params) -> str:
    return gettext(msgid, **params)


def test_every_shipped_diagram_and_decision_table_passes_the_validator(ctx):
    assert shipped_diagrams() and shipped_decisions()
    for file_name, xml in shipped_diagrams().items():
        assert validate_upload(file_name, xml, shipped_decisions()) == [], file_name


def test_an_external_entity_is_refused_and_not_read(ctx):
    xml = with_doctype('<!DOCTYPE bpmn:definitions [<!ENTITY x SYSTEM "file:///etc/passwd">]>', "&x;")
    [(file_name, line, element_id, message)] = refused(xml)
    assert (file_name, line, element_id) == (FILE, 2, "")
    assert message == _("DOCTYPE and entity declarations are not allowed")
    assert "root:" not in message


def test_a_billion_laughs_file_is_refused(ctx):
    entities = '<!ENTITY lol "lol">' + "".join(
        f'<!ENTITY lol{i} "{(f"&lol{i - 1};" if i > 1 else "&lol;") * 10}">' for i in range(1, 10))
    xml = with_doctype(f"<!DOCTYPE bpmn:definitions [{entities}]>", "&lol9;")
    [(_f, _line, _e, message)] = refused(xml)
    assert message == _("DOCTYPE and entity declarations are not allowed")


@pytest.fixture
def pwned():
    path = Path(f"/tmp/pwned-{uuid.uuid4().hex}")
    yield path
    path.unlink(missing_ok=True)


def test_a_condition_calling_import_is_refused_and_nothing_runs(ctx, pwned):
    assert "tabnanny" not in sys.modules
    xml = with_condition(f"__import__('os').system('touch {pwned}') == 0")
    root = etree.fromstring(xml)
    element(root, "flow_verify_pass").find(f"{{{BPMN}}}conditionExpression").text = \
        "__import__('tabnanny') is not None"
    problems = refused(text_of(root))
    assert [p[2] for p in problems] == ["flow_route_lawful", "flow_verify_pass"]
    assert all(isinstance(p[1], int) for p in problems)
    calls = _("calls %(name)s; diagrams may only call %(allowed)s", name="__import__",
              allowed="abs, date, days_after, float, int, len, max, min, round, str, timedelta, workdays_after")
    assert all(calls in p[3] for p in problems)
    # a decision table is evaluated while publishing (every case type is tried on it): the same call there
    lead = shipped_decisions()["triage_lead.dmn"].replace(
        b'"D06"', f"'D06' if __import__('os').system('touch {pwned}') else 'D06'".encode())
    [(file_name, _line, element_id, message)] = refused(shipped_diagrams()[FILE],
                                                        decisions={**shipped_decisions(), "triage_lead.dmn": lead})
    assert (file_name, element_id) == ("triage_lead.dmn", "lead_07_out0") and calls in message
    assert not pwned.exists()
    assert "tabnanny" not in sys.modules


def test_the_subclasses_escape_is_refused(ctx):
    [(file_name, line, element_id, message)] = refused(with_condition("().__class__.__bases__[0].__subclasses__()"))
    assert (file_name, element_id) == (FILE, "flow_route_lawful") and line > 1
    assert _("attribute access (a dot after a value) is not allowed") in message


def test_an_unquoted_timer_is_refused_telling_to_quote_it(ctx):
    root = chain()
    element(root, "accept_overdue").find(f".//{{{BPMN}}}timeDuration").text = "P3D"
    [(file_name, line, element_id, message)] = refused(text_of(root))
    assert (file_name, element_id) == (FILE, "accept_overdue_timer") and line > 1
    assert _('write the timer in quotes, as "%(text)s": unquoted it is read as a data name', text="P3D") in message


def test_a_lane_without_a_role_is_refused_naming_it(ctx):
    root = chain()
    element(root, "lane_verify").set("name", "质量专班")
    [(file_name, line, element_id, message)] = refused(text_of(root))
    assert (file_name, element_id) == (FILE, "lane_verify") and line == element(root, "lane_verify").sourceline
    assert message == _("the lane %(lane)s is mapped to no role: nobody could work its tasks", lane="质量专班")


def test_a_missing_form_key_is_refused(ctx):
    root = chain()
    [key] = element(root, "verify").xpath(".//*[local-name()='property'][@name='formKey']")
    key.set("value", "no_such_form")
    [(file_name, line, element_id, message)] = refused(text_of(root))
    assert (file_name, element_id, line) == (FILE, "verify", element(root, "verify").sourceline)
    assert message == _("unknown form key %(key)r", key="no_such_form")


def test_a_truncated_file_is_refused_with_its_line(ctx):
    xml = shipped_diagrams()[FILE]
    [(file_name, line, element_id, message)] = refused(xml[: len(xml) // 2])
    assert file_name == FILE and line == xml[: len(xml) // 2].count(b"\n") + 1 and element_id == ""
    assert message.startswith(_("the file is not well-formed XML: %(error)s", error="")[:8])


def test_every_problem_is_listed_at_once(ctx):
    root = chain()
    element(root, "flow_route_lawful").find(f"{{{BPMN}}}conditionExpression").text = "open('/etc/passwd')"
    element(root, "accept_overdue").find(f".//{{{BPMN}}}timeDuration").text = "PT1H"
    element(root, "lane_verify").set("name", "质量专班")
    element(root, "verify").xpath(".//*[local-name()='property'][@name='formKey']")[0].set("value", "nope")
    problems = refused(text_of(root))
    assert sorted(p[2] for p in problems) == ["accept_overdue_timer", "flow_route_lawful", "lane_verify", "verify"]
    assert validate_upload(FILE, text_of(root), shipped_decisions()) == problems  # the same checks, nothing saved


# -- scripts ---------------------------------------------------------------------------------------------
def with_script(script: str) -> bytes:
    """The chain with a script task between the start and the intake step."""
    root = chain()
    process = root.find(f"{{{BPMN}}}process")
    task = etree.SubElement(process, f"{{{BPMN}}}scriptTask", id="prepare", name="准备")
    etree.SubElement(task, f"{{{BPMN}}}incoming").text = "flow_start_intake"
    etree.SubElement(task, f"{{{BPMN}}}outgoing").text = "flow_prepare_intake"
    etree.SubElement(task, f"{{{BPMN}}}script").text = script
    etree.SubElement(process, f"{{{BPMN}}}sequenceFlow", id="flow_prepare_intake", sourceRef="prepare",
                     targetRef="intake")
    element(root, "flow_start_intake").set("targetRef", "prepare")
    [incoming] = element(root, "intake").xpath("bpmn:incoming", namespaces=NS)
    incoming.text = "flow_prepare_intake"
    return text_of(root)


@pytest.fixture
def new_versions(ctx):
    """The versions a test publishes are withdrawn by the suite's clean-up (tests/conftest.py), so the
    chain the other tests run on stays the shipped one."""
    yield
    db.session.rollback()


def test_a_script_task_needs_the_right_and_a_safe_script(new_versions):
    xml = with_script("intake_note = '首问负责'")
    [(file_name, _line, element_id, message)] = refused(xml)  # the administrator did not allow scripts
    assert (file_name, element_id) == (FILE, "prepare") and message.startswith(_(
        "scripts are refused: only an administrator holding the right to allow scripts may publish a diagram "
        "with a script task, pre-script or post-script")[:6])
    before = _state()
    assert not may_allow_scripts(user("director"))
    with pytest.raises(ScriptsNotAllowedError):
        publish_process(user("director"), FILE, xml, shipped_decisions(), allow_scripts=True)
    assert _state() == before
    # even with the right, a script that reads a file is refused
    [(_f, _line, element_id, message)] = refused(with_script("secret = open('/etc/passwd').read()"),
                                                 allow_scripts=True)
    assert element_id == "prepare" and _("calls %(names)s, which diagrams may not use", names="open") in message
    # a safe script is published by an administrator (the Admin role holds every right)
    assert may_allow_scripts(user("admin"))
    version = publish_process(user("admin"), FILE, xml, shipped_decisions(), allow_scripts=True)
    assert published_version(MAIN_PROCESS_ID).id == version.id != before[0]
    event = db.session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc()).limit(1)).first()
    assert event.action == "process.publish" and '"scripts_allowed": true' in event.detail


def test_the_right_to_allow_scripts_can_be_granted_to_a_role(ctx):
    from flask import current_app
    sm = current_app.appbuilder.sm
    publisher = sm.role_model(name="script_publisher")
    db.session.add(publisher)
    publisher.permissions = [sm.find_permission_view_menu("can_allow_scripts", "Processes")]
    director = user("director")
    director.roles.append(publisher)
    db.session.flush()  # rolled back at the end of the test
    assert may_allow_scripts(director)
    assert not may_allow_scripts(user("dispatch"))
