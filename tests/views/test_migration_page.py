"""The administrator's migration page: dry run, move the ticked cases, see the results, undo a move."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from portal.extensions import db
from portal.models import Case, CaseMigration
from portal.services.processes import published_version
from tests.chain_versions import FILE_NAME, chain_with_review, published
from tests.conftest import do_step, row_counts


@pytest.fixture
def publish(app, ctx):
    with published(app) as publish:
        yield publish


def _row(html: str, row_id: str) -> str:
    match = re.search(rf'<tr id="{row_id}"[^>]*>(.*?)</tr>', html, re.S)
    assert match, f"no row {row_id}"
    return match.group(1)


def test_admin_dry_runs_moves_the_ticked_case_and_puts_it_back(login_as, make_case, publish):
    v1 = published_version()
    waiting = make_case(until="triage")
    past = make_case(until="accept")
    v2 = publish(FILE_NAME, chain_with_review())
    client = login_as("admin")

    page = client.get(f"/processes/migrate/?version_id={v2.id}").get_data(as_text=True)
    assert 'name="case_id" value="%d"' % waiting in _row(page, f"check-{waiting}")
    refused = _row(page, f"check-{past}")
    assert 'name="case_id"' not in refused and "研判" in refused and "新版本修改了该环节" in refused

    resp = client.post("/processes/migrate/run", data={"version_id": v2.id, "case_id": [waiting, past]})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "共2件，已迁移到新版本1件" in html
    results = re.search(r'<table class="table table-condensed" id="migration-results">(.*?)</table>', html, re.S)
    assert results and "该案件不能迁移到新版本" in results.group(1)
    assert db.session.get(Case, waiting, populate_existing=True).process_version_id == v2.id
    assert db.session.get(Case, past, populate_existing=True).process_version_id == v1.id
    [migration] = db.session.scalars(select(CaseMigration))
    assert "退回第%d版" % v1.version in _row(html, f"migration-{migration.id}")

    resp = client.post(f"/processes/migrate/revert/{migration.id}", data={"version_id": v2.id})
    assert resp.status_code == 302 and f"version_id={v2.id}" in resp.headers["Location"]
    assert db.session.get(Case, waiting, populate_existing=True).process_version_id == v1.id
    page = client.get(resp.headers["Location"]).get_data(as_text=True)
    assert "已退回第%d版" % v1.version in page and "已由" in _row(page, f"migration-{migration.id}")

    before = row_counts()
    page = client.post(f"/processes/migrate/revert/{migration.id}", follow_redirects=True).get_data(as_text=True)
    assert "该迁移已经撤销" in page and row_counts() == before


def test_a_refused_revert_is_shown_and_changes_nothing(login_as, make_case, publish):
    waiting = make_case(until="triage")
    v2 = publish(FILE_NAME, chain_with_review())
    client = login_as("admin")
    client.post("/processes/migrate/run", data={"version_id": v2.id, "case_id": [waiting]})
    migration_id = db.session.scalar(select(func.max(CaseMigration.id)))
    do_step(waiting, "triage")
    before = row_counts()
    page = client.post(f"/processes/migrate/revert/{migration_id}", follow_redirects=True).get_data(as_text=True)
    assert "不能退回原版本" in page and row_counts() == before
    assert db.session.get(Case, waiting, populate_existing=True).process_version_id == v2.id


def test_only_an_administrator_opens_the_page(login_as):
    assert login_as("director").get("/processes/migrate/").status_code in (302, 403)
    assert login_as("admin").get("/processes/migrate/").status_code == 200
