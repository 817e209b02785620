"""An administrator defines a form in a real browser with the field editor (rows added, moved, removed),
previews it, changes it and deletes it."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import delete, select

from portal.extensions import db
from portal.models import FormDefinition
from tests.browser.test_chain import login

SHOTS = Path(__file__).resolve().parents[2] / "test-artifacts"


@pytest.fixture
def admin_page(page, ctx):
    login(page, "admin")
    yield page
    db.session.rollback()
    db.session.execute(delete(FormDefinition))
    db.session.commit()


def add_row(page, name, label, type_label, required=False, **settings):
    page.click("#add-field")
    row = page.locator("#field-rows tr").last
    row.locator("[data-f=name]").fill(name)
    row.locator("[data-f=label]").fill(label)
    row.locator("[data-f=type]").select_option(label=type_label)
    if required:
        row.locator("[data-f=required]").check()
    for key, value in settings.items():
        row.locator(f"[data-f={key}]").fill(value)
    return row


def stored() -> FormDefinition:
    db.session.expire_all()
    return db.session.scalar(select(FormDefinition).where(FormDefinition.key == "site_visit"))


def test_an_administrator_defines_a_form_with_the_field_editor(admin_page):
    page = admin_page
    page.goto(page.live_url + "/settings/forms/add")
    page.fill("#key", "site_visit")
    page.fill("#title", "现场核查")
    add_row(page, "visitor", "核查人", "文本（单行）", required=True, max_length="20")
    add_row(page, "priority", "紧急程度", "单选按钮", required=True, choices="high|紧急\nnormal|一般")
    add_row(page, "spare", "多余", "日期").locator(".remove-field").click()
    households = add_row(page, "households", "涉及户数", "整数", min="1", max="50")
    assert households.locator("[data-f=choices]").is_disabled()   # a number takes no choices
    households.locator(".move-up").click()                      # above priority
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / "form_editor.png"), full_page=True)
    page.click("#save-definition")
    page.wait_for_selector("#form-list")
    fields = json.loads(stored().fields)
    assert [f["name"] for f in fields] == ["visitor", "households", "priority"]
    assert (fields[0]["required"], fields[0]["max_length"]) == (True, 20)
    assert (fields[1]["min"], fields[1]["max"], fields[1]["required"]) == (1, 50, False)
    assert fields[2]["choices"] == [["high", "紧急"], ["normal", "一般"]]

    page.goto(page.live_url + "/settings/forms/site_visit/preview")
    page.check("input[name=priority][value=high]")
    page.fill("#visitor", "王明")
    page.click("#try-form")
    page.wait_for_selector("#preview-values")
    page.screenshot(path=str(SHOTS / "form_preview.png"), full_page=True)
    assert '"priority": "high"' in page.inner_text("#preview-values")

    page.goto(page.live_url + "/settings/forms/site_visit/edit")
    page.locator("#field-rows tr").first.locator(".remove-field").click()
    page.click("#save-definition")
    page.wait_for_selector("#form-list")
    assert [f["name"] for f in json.loads(stored().fields)] == ["households", "priority"]
    assert stored().lock_version == 2

    page.on("dialog", lambda dialog: dialog.accept())
    page.locator("#form-site_visit button.btn-danger").click()
    page.wait_for_selector("#form-list")
    assert stored() is None and "site_visit" not in page.inner_text("#form-list")
