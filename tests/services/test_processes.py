"""Process versions and the form registry."""
from __future__ import annotations

from sqlalchemy import func, select

from portal.bpmn import MAIN_PROCESS_ID, shipped_decisions, shipped_diagrams
from portal.extensions import db
from portal.forms import FORMS
from portal.models import ProcessVersion
from portal.services.engine import get_engine
from portal.services.processes import publish_shipped_processes, published_version
from portal.services.steps import STEPS


def test_every_user_task_of_every_shipped_diagram_has_a_form_and_a_step(ctx):
    engine = get_engine()
    for file_name, xml in shipped_diagrams().items():
        parsed = engine.parse({file_name: xml, **shipped_decisions()}, file_name.rsplit(".", 1)[0])
        for task in parsed.user_tasks:
            assert task.form_key in FORMS, (file_name, task.bpmn_id)
            assert task.form_key in STEPS, (file_name, task.bpmn_id)
    assert set(FORMS) == set(STEPS)


def test_publishing_the_same_diagram_again_adds_no_version(ctx):
    count = db.session.scalar(select(func.count(ProcessVersion.id)))
    assert publish_shipped_processes() == []
    assert db.session.scalar(select(func.count(ProcessVersion.id))) == count
    version = published_version(MAIN_PROCESS_ID)
    assert "task_specs" in version.spec_json and version.bpmn_xml.startswith("<?xml")
