"""The process designer in a real browser: an administrator opens the mediation chain in the modeler,
adds a user task with a registered form between triage and dispatch, saves and publishes it; new
cases pass through the new step, a case started before stays on its version until the migration's
dry run lists it and the migration moves it, and it then reaches the new step; the case page draws
the diagram with the current step marked. Nothing is loaded from outside the portal."""
from __future__ import annotations

from pathlib import Path

from portal.extensions import db
from portal.models import Case
from portal.services.processes import published_version
from tests.browser.test_chain import login
from tests.conftest import do_step, open_item

SHOTS = Path(__file__).resolve().parents[2] / "test-artifacts"

ADD_STEP = """() => {
  const m = window.portalModeler;
  const registry = m.get('elementRegistry'), modeling = m.get('modeling'), factory = m.get('elementFactory');
  const triage = registry.get('triage'), dispatch = registry.get('dispatch');
  const flow = registry.get('flow_triage_dispatch');
  const pool = registry.filter((e) => e.type === 'bpmn:Participant')[0];
  const shape = modeling.createShape(factory.createShape({ type: 'bpmn:UserTask' }),
                                     { x: triage.x + triage.width / 2 + 75, y: triage.y + 140 }, pool);
  modeling.updateLabel(shape, '质量复核');
  modeling.reconnectEnd(flow, shape, { x: shape.x, y: shape.y + shape.height / 2 });
  modeling.connect(shape, dispatch);
  m.get('selection').select(shape);
  return shape.id;
}"""


def test_an_administrator_adds_a_step_in_the_modeler_and_publishes_it(page, make_case):
    SHOTS.mkdir(exist_ok=True)
    before = make_case("triage")
    v1 = published_version("mediation_chain")
    outside = []
    page.on("request", lambda r: outside.append(r.url) if not r.url.startswith(page.live_url) else None)

    login(page, "admin")
    page.goto(page.live_url + "/processes/")
    page.click("#file-mediation_chain-bpmn a.btn")
    page.wait_for_selector("#designer[data-ready='1']")
    step_id = page.evaluate(ADD_STEP)
    page.wait_for_selector("#prop-formKey")
    page.select_option("#prop-formKey", "supervise_accept")
    lane = page.inner_text("#prop-lane")
    assert "综合调度" in lane and "dispatcher" in lane
    page.click("#designer-check")
    page.wait_for_selector("#designer-status.alert")
    page.wait_for_timeout(1500)
    assert "alert-success" in page.get_attribute("#designer-status", "class"), \
        page.inner_text("#designer-status") + page.inner_text("#designer-problems")
    page.click("#designer-save")
    page.wait_for_function("() => document.getElementById('designer-status').textContent.includes('草稿已保存')")
    assert "第1版" in page.inner_text("#designer-status")  # revision 1
    page.screenshot(path=str(SHOTS / "designer.png"), full_page=True)
    page.fill("#publish-reason", "研判后增加质量复核环节")
    page.click("#designer-publish")
    page.wait_for_selector("#version-list")
    assert "研判后增加质量复核环节" in page.inner_text("#version-list")
    assert outside == []

    db.session.expire_all()
    v2 = published_version("mediation_chain")
    assert v2.version > v1.version and step_id in v2.bpmn_xml and v2.published_by.username == "admin"
    fresh = make_case("dispatch")
    assert db.session.get(Case, fresh).process_version_id == v2.id
    assert open_item(fresh).bpmn_id == step_id and open_item(fresh).name == "质量复核"
    assert db.session.get(Case, before).process_version_id == v1.id  # running cases stay on their version

    page.goto(page.live_url + f"/processes/compare?old={v1.id}&new={v2.id}")
    page.wait_for_selector("body[data-diff-ready='1']")
    assert step_id in page.inner_text("#diff-added") and "flow_triage_dispatch" in page.inner_text("#diff-changed")
    page.screenshot(path=str(SHOTS / "designer_compare.png"), full_page=True)

    page.goto(page.live_url + f"/cases/{fresh}")
    page.wait_for_selector("#process-diagram[data-ready='1']")
    assert page.get_attribute("#process-diagram", "data-current") == step_id
    assert page.locator(f"g[data-element-id='{step_id}'].step-current").count() == 1
    assert page.locator("g[data-element-id='triage'].step-done").count() == 1
    page.locator("#process-diagram").screenshot(path=str(SHOTS / "case_diagram.png"))

    # the case started before: listed by the dry run, moved, and then it reaches the new step
    started_before = db.session.get(Case, before)
    page.goto(page.live_url + f"/processes/migrate/?version_id={v2.id}")
    row = page.locator(f"#check-{before}")
    assert started_before.code in row.inner_text() and row.locator("input[type=checkbox]").count() == 1
    row.locator("input[type=checkbox]").check()
    page.screenshot(path=str(SHOTS / "migration_dry_run.png"), full_page=True)
    page.click("#migrate-form button[type=submit]")
    page.wait_for_selector("#migration-results")
    assert started_before.code in page.inner_text("#migration-results")
    db.session.expire_all()
    assert db.session.get(Case, before).process_version_id == v2.id
    do_step(before, "triage")
    assert open_item(before).bpmn_id == step_id
    assert outside == []


def test_a_decision_table_opens_in_the_dmn_modeler_and_is_saved_as_a_draft(page, ctx):
    outside = []
    page.on("request", lambda r: outside.append(r.url) if not r.url.startswith(page.live_url) else None)
    login(page, "admin")
    page.goto(page.live_url + "/processes/edit/triage_tier.dmn")
    page.wait_for_selector("#designer[data-ready='1']")
    table = page.locator(".tjs-table")
    assert table.count() == 1 and "复杂程度" in page.inner_text("#canvas")
    page.click("#designer-save")
    page.wait_for_function("() => document.getElementById('designer-status').textContent.includes('草稿已保存')")
    page.screenshot(path=str(SHOTS / "designer_dmn.png"), full_page=True)
    from portal.services.designer import open_draft
    db.session.expire_all()
    xml, revision, draft = open_draft("triage_tier.dmn")
    assert revision == 1 and draft is not None and b"triage_tier" in xml
    assert outside == []
