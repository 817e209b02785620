"""`flask portal backup` and `flask portal restore`: a backup made while the portal runs, restored into
an empty database (SQLite, or a PostgreSQL database made for the test when the suite runs on
PostgreSQL), is a working portal -- every stored workflow loads, logins work, papers open -- and every
refusal leaves everything as it was."""
from __future__ import annotations

import json
import sqlite3
import subprocess
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url

from portal import create_app
from portal.extensions import db
from portal.models import AuditEvent, Case, CaseStatus, WorkItem, WorkItemStatus
from portal.services import backup
from portal.services.attachments import add_attachment
from portal.services.engine import get_engine, spec_for
from portal.services.invariants import check_invariants
from tests import papers
from tests.conftest import PASSWORD, row_counts, user


@pytest.fixture
def portal_with_papers(make_case):
    """A running case with a scan and a PDF attached, and a closed case."""
    running = make_case(until="handle")
    scan = add_attachment(user("window"), running, "performance", "收条", "receipt.png", papers.png("white"))
    add_attachment(user("window"), running, "identity", "申请人身份证", "id-card.pdf", papers.pdf(2))
    make_case(until=None)
    return running, scan.id


def _cli(portal, *args):
    """``flask portal …`` of ``portal`` (in its own app context: a command runs in the one it finds)."""
    with portal.app_context():
        return portal.test_cli_runner().invoke(args=["portal", *map(str, args)])


@contextmanager
def empty_portal(app, tmp_path: Path):
    """A second portal on a new, empty database (a new SQLite file, or a PostgreSQL database created for
    the test and dropped after it) and its own upload folder."""
    source = make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    server = None
    if source.get_backend_name() == "postgresql":
        name = f"{source.database}_restored"
        server = create_engine(source, isolation_level="AUTOCOMMIT")
        with server.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        url = source.set(database=name).render_as_string(hide_password=False)
    else:
        url = f"sqlite:///{tmp_path / 'restored' / 'portal.db'}"
    other = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "restored",
                        "WTF_CSRF_ENABLED": False, "UPLOAD_FOLDER": f"{tmp_path / 'restored-uploads'}/",
                        "PORTAL_PRINT_FOLDER": str(tmp_path / "restored-prints")})
    try:
        yield other
    finally:
        with other.app_context():
            db.session.remove()
            db.engine.dispose()
        if server is not None:
            with server.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            server.dispose()


def test_a_backup_restored_into_an_empty_database_is_a_working_portal(app, ctx, portal_with_papers, tmp_path):
    running, scan = portal_with_papers
    states = {c.code: (c.status, c.wf_state) for c in db.session.scalars(select(Case))}
    result = _cli(app, "backup", tmp_path / "backup")
    assert result.exit_code == 0, result.output
    made = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "portal.backup")).one()
    # the two papers of this test, and whatever earlier tests of the run left in the shared upload folder
    stored = {p.name for p in Path(app.config["UPLOAD_FOLDER"]).iterdir() if p.is_file() and p.name[0] != "."}
    assert len(stored) >= 2 and json.loads(made.detail)["files"] == len(stored)
    assert made.user_id is None
    manifest = json.loads((tmp_path / "backup" / "manifest.json").read_text())
    assert manifest["dialect"] == db.engine.dialect.name and set(manifest["files"]) == stored

    with empty_portal(app, tmp_path) as restored:
        result = _cli(restored, "restore", tmp_path / "backup")
        assert result.exit_code == 0 and "all consistent" in result.output, result.output
        with restored.app_context():
            assert {c.code: (c.status, c.wf_state) for c in db.session.scalars(select(Case))} == states
            assert check_invariants().ok
            engine = get_engine()   # every case's workflow loads, its ready steps are its open work items
            for case in db.session.scalars(select(Case)):
                workflow = engine.restore(case.wf_state, spec_for(case.process_version_id))
                assert {t.id for t in engine.ready_user_tasks(workflow)} == set(db.session.scalars(
                    select(WorkItem.task_id).where(WorkItem.case_id == case.id, WorkItem.branch_id.is_(None),
                                                   WorkItem.status == WorkItemStatus.OPEN)))
                assert engine.is_completed(workflow) == (case.status == CaseStatus.CLOSED)
            assert db.session.scalar(select(Case.status).where(Case.id == running)) == CaseStatus.HANDLING
            event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "portal.restore")).one()
            assert event.user_id is None and json.loads(event.detail)["problems"] == 0
        client = restored.test_client()
        login = client.post("/login/", data={"username": "window", "password": PASSWORD})
        assert login.status_code == 302 and "/login" not in login.headers["Location"]
        opened = client.get(f"/cases/attachments/{scan}")
        assert opened.status_code == 200 and opened.data == papers.png("white")
        assert client.get(f"/cases/{running}").status_code == 200


def test_a_restore_into_a_database_that_is_not_empty_is_refused_and_changes_nothing(app, ctx, portal_with_papers,
                                                                                    tmp_path):
    assert _cli(app, "backup", tmp_path / "backup").exit_code == 0
    before, files = row_counts(), sorted(Path(app.config["UPLOAD_FOLDER"]).iterdir())
    result = _cli(app, "restore", tmp_path / "backup")
    where = db.engine.url.database
    assert result.exit_code == 1
    assert str(backup.BackupError(backup.NOT_EMPTY, database=where)) in result.output
    assert row_counts() == before and sorted(Path(app.config["UPLOAD_FOLDER"]).iterdir()) == files
    assert not db.session.scalars(select(AuditEvent).where(AuditEvent.action == "portal.restore")).all()


def test_what_is_not_a_finished_backup_of_this_portal_is_refused(app, ctx, portal_with_papers, tmp_path):
    folder = tmp_path / "backup"
    assert _cli(app, "backup", folder).exit_code == 0
    with empty_portal(app, tmp_path) as restored:
        manifest = json.loads((folder / "manifest.json").read_text())
        other = "postgresql" if db.engine.dialect.name == "sqlite" else "sqlite"
        refusals = [
            ({**manifest, "revision": "0123456789ab"}, backup.UNKNOWN_REVISION, {"revision": "0123456789ab"}),
            ({**manifest, "dialect": other, "database": backup.DATABASE_FILE[other]}, backup.OTHER_DIALECT,
             {"backup": other, "target": db.engine.dialect.name}),
            ({**manifest, "files": {"../outside.png": 10}}, backup.NOT_A_BACKUP, {"folder": str(folder)}),
            ({**manifest, "files": {**manifest["files"], "0" * 64 + ".png": 10}}, backup.FILE_MISSING,
             {"file": str(folder / "uploads" / ("0" * 64 + ".png"))}),
        ]
        for changed, message, params in refusals:
            (folder / "manifest.json").write_text(json.dumps(changed))
            result = _cli(restored, "restore", folder)
            with restored.app_context():
                assert result.exit_code == 1 and str(backup.BackupError(message, **params)) in result.output
                assert _tables(restored) == 0
        (folder / "manifest.json").unlink()   # an unfinished backup
        result = _cli(restored, "restore", folder)
        with restored.app_context():
            assert str(backup.BackupError(backup.NOT_A_BACKUP, folder=str(folder))) in result.output
            assert _tables(restored) == 0 and not Path(restored.config["UPLOAD_FOLDER"]).exists()


def _tables(portal) -> int:
    with portal.app_context():
        names = db.inspect(db.engine).get_table_names()
        db.engine.dispose()
    return len(names)


def test_a_backup_goes_only_into_a_new_or_empty_folder(app, ctx, tmp_path):
    (tmp_path / "kept.txt").write_text("an operator's file")
    result = _cli(app, "backup", tmp_path)
    assert result.exit_code == 1
    assert str(backup.BackupError(backup.FOLDER_NOT_EMPTY, folder=str(tmp_path))) in result.output
    assert [p.name for p in tmp_path.iterdir()] == ["kept.txt"]
    assert not db.session.scalars(select(AuditEvent).where(AuditEvent.action == "portal.backup")).all()


def test_the_database_is_copied_while_a_writer_holds_its_transaction(app, ctx, tmp_path):
    """The copy is a snapshot: it neither waits for a transaction under way nor takes its rows."""
    writer = db.engine.connect()
    transaction = writer.begin()
    writer.execute(text("INSERT INTO audit_event (at, action) VALUES (CURRENT_TIMESTAMP, 'test.uncommitted')"))
    try:
        if db.engine.dialect.name == "sqlite":
            copy = tmp_path / "copy.sqlite3"
            backup.copy_sqlite(Path(db.engine.url.database), copy)
            conn = sqlite3.connect(copy)
            content = " ".join(v for (v,) in conn.execute("SELECT action FROM audit_event UNION ALL "
                                                          "SELECT username FROM ab_user"))
            conn.close()
        else:
            copy = tmp_path / "copy.dump"
            major = backup.dump_postgresql(copy)
            tool, _ = backup._pg_tool("pg_restore", major)
            content = subprocess.run([tool, "--data-only", "--table=audit_event", "--table=ab_user", "--file=-",
                                      str(copy)], capture_output=True, text=True, check=True).stdout
        assert "dispatch" in content and "test.uncommitted" not in content
    finally:
        transaction.rollback()
        writer.close()


def test_an_older_backup_is_migrated_when_it_is_restored(tmp_path):
    """A backup made before the newest migration comes back with this version's schema."""
    from alembic.script import ScriptDirectory
    from flask_migrate import upgrade

    old = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'old.db'}",
                      "UPLOAD_FOLDER": f"{tmp_path / 'old-uploads'}/", "SECRET_KEY": "old"})
    new = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'new.db'}",
                      "UPLOAD_FOLDER": f"{tmp_path / 'new-uploads'}/", "SECRET_KEY": "new"})
    with old.app_context():
        scripts = ScriptDirectory(old.extensions["migrate"].directory)
        previous = scripts.get_revision(scripts.get_current_head()).down_revision
        upgrade(revision=previous)
        db.engine.dispose()
    assert _cli(old, "backup", tmp_path / "backup").exit_code == 0
    result = _cli(new, "restore", tmp_path / "backup")
    assert result.exit_code == 0 and f"migrated from revision {previous}" in result.output, result.output
    with new.app_context():
        assert db.session.scalar(text("SELECT version_num FROM alembic_version")) == scripts.get_current_head()
        db.session.remove()
        db.engine.dispose()


def test_the_postgresql_tools_must_be_as_new_as_the_server():
    with pytest.raises(backup.BackupError) as refused:
        backup._pg_tool("pg_dump", 99)
    assert "postgresql-client-99" in str(refused.value)
