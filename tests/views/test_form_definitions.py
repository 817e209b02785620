"""The settings pages of defined forms: add, edit (a stale edit is refused), preview, delete."""
from __future__ import annotations

import json
import re
from html import unescape

import pytest
from sqlalchemy import delete, func, select

from portal.extensions import db
from portal.models import AuditEvent, FormDefinition

FIELDS = [
    {"name": "visitor", "label": "核查人", "type": "text", "required": True, "choices": [], "help": "填写姓名"},
    {"name": "households", "label": "涉及户数", "type": "integer", "required": True, "min": "1", "max": "50"},
    {"name": "priority", "label": "紧急程度", "type": "radio", "required": True,
     "choices": ["high|紧急", "normal|一般"]},
    {"name": "site_kind", "label": "现场类型", "type": "select", "required": False,
     "choices": ["field|农田", "house|房屋"]},
]


@pytest.fixture
def admin(login_as, ctx):
    yield login_as("admin")
    db.session.rollback()
    db.session.execute(delete(FormDefinition))
    db.session.commit()


def stored(key="site_visit") -> FormDefinition | None:
    db.session.expire_all()
    return db.session.scalar(select(FormDefinition).where(FormDefinition.key == key))


def count() -> int:
    return db.session.scalar(select(func.count(FormDefinition.id)))


def hidden(html: str, name: str) -> str:
    return unescape(re.search(rf'name="{name}" type="hidden" value="([^"]*)"', html).group(1))


def test_only_administrators_reach_the_forms(login_as):
    for username in ("dispatch", "director"):
        client = login_as(username)
        assert client.get("/settings/forms/").status_code == 403
        assert client.post("/settings/forms/add", data={"key": "site_visit"}).status_code == 403


def test_the_editor_is_served_by_the_portal_itself(admin):
    page = admin.get("/settings/forms/add").get_data(as_text=True)
    assert 'id="field-table"' in page and 'id="field-row-template"' in page
    src = re.search(r'<script[^>]*src="([^"]*form_editor\.js)"', page).group(1)
    assert src.startswith("/static/")                  # no CDN: the intranet has no internet
    script = admin.get(src)
    assert script.status_code == 200 and b"JSON.stringify" in script.data
    assert 'href="/settings/forms/"' in admin.get("/settings/forms/").get_data(as_text=True)  # the Settings menu


def test_a_definition_with_problems_is_refused_with_each_named_and_nothing_saved(admin):
    bad = [FIELDS[0], {**FIELDS[0], "label": "又一个"}, {"name": "site_kind", "label": "现场类型", "type": "select"}]
    before = count()
    resp = admin.post("/settings/forms/add", data={"key": "Site visit", "title": "现场核查", "description": "",
                                                   "fields": json.dumps(bad)})
    page = resp.get_data(as_text=True)
    assert resp.status_code == 400 and count() == before
    assert "字段名 visitor 重复" in page and "字段 site_kind：选择类字段须填写选项" in page and "表单标识须为" in page
    assert 'value="又一个"' in page                       # the rows come back as sent
    resp = admin.post("/settings/forms/add", data={"key": "triage", "title": "研判", "fields": json.dumps(FIELDS)})
    assert resp.status_code == 400 and "平台内置表单" in resp.get_data(as_text=True) and count() == before


def test_add_edit_preview_and_delete_round_trip(admin):
    resp = admin.post("/settings/forms/add", data={"key": "site_visit", "title": "现场核查",
                                                   "description": "分流前到现场核查", "fields": json.dumps(FIELDS)})
    assert resp.status_code == 302, resp.get_data(as_text=True)[-2000:]
    definition = stored()
    assert [f["name"] for f in json.loads(definition.fields)] == ["visitor", "households", "priority", "site_kind"]
    assert definition.lock_version == 1 and definition.created_by.username == "admin"
    listing = admin.get("/settings/forms/").get_data(as_text=True)
    assert "site_visit" in listing and "现场核查" in listing

    page = admin.get("/settings/forms/site_visit/edit").get_data(as_text=True)
    assert hidden(page, "lock_version") == "1" and 'value="涉及户数"' in page and "high|紧急" in page
    fields = json.loads(hidden(page, "fields"))
    added = [*fields, {"name": "weather", "label": "天气", "type": "text", "required": False}]
    resp = admin.post("/settings/forms/site_visit/edit", data={"title": "现场核查（新）", "description": "",
                                                                "fields": json.dumps(added), "lock_version": "1"})
    assert resp.status_code == 302, resp.get_data(as_text=True)[-2000:]
    definition = stored()
    assert definition.lock_version == 2 and definition.title == "现场核查（新）"
    assert json.loads(definition.fields)[-1]["name"] == "weather"

    # another administrator's page, opened before that save, is refused and changes nothing
    resp = admin.post("/settings/forms/site_visit/edit", data={"title": "旧页面", "description": "",
                                                                "fields": json.dumps(FIELDS), "lock_version": "1"})
    page = resp.get_data(as_text=True)
    assert resp.status_code == 409 and "其他人已修改了它" in page and 'value="旧页面"' in page
    after = stored()
    assert (after.lock_version, after.title, after.fields) == (2, "现场核查（新）", definition.fields)

    preview = admin.get("/settings/forms/site_visit/preview").get_data(as_text=True)
    for words in ("核查人", "填写姓名", 'name="households"', 'type="radio"', 'value="high"', "房屋", 'name="weather"'):
        assert words in preview, words
    resp = admin.post("/settings/forms/site_visit/preview", data={"visitor": "王明", "households": "0"})
    assert resp.status_code == 400 and 'id="preview-values"' not in resp.get_data(as_text=True)
    resp = admin.post("/settings/forms/site_visit/preview", data={"visitor": "王明", "households": "3",
                                                                   "priority": "high", "site_kind": ""})
    shown = resp.get_data(as_text=True)
    assert resp.status_code == 200 and 'id="preview-values"' in shown and "&#34;priority&#34;: &#34;high&#34;" in shown
    assert stored().lock_version == 2                   # trying the form saves nothing

    resp = admin.post("/settings/forms/site_visit/delete")
    assert resp.status_code == 302 and stored() is None
    actions = db.session.scalars(select(AuditEvent.action).where(AuditEvent.action.like("form.%"))
                                 .order_by(AuditEvent.id.desc()).limit(3)).all()
    assert actions == ["form.delete", "form.edit", "form.add"]
    assert admin.get("/settings/forms/site_visit/edit").status_code == 404
