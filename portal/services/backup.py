"""Backup and restore of a whole portal: its database and its uploaded files, in one folder.

A backup folder holds

- ``database.sqlite3`` (SQLite: a copy made by SQLite's online backup API, one consistent snapshot taken
  while the portal goes on writing) or ``database.dump`` (PostgreSQL: ``pg_dump``'s custom format, also
  one snapshot, read back by ``pg_restore``);
- ``uploads/``: the upload folder's files (attached papers, served documents);
- ``manifest.json``, written last: a folder without it is an unfinished backup and is not restored.

The database is copied first, then the files: a file is written before the row naming it commits, and
it never changes or goes away (it is named by its content's SHA-256), so every file the snapshot names
is there when the files are copied. Finished batch prints and the page images of attachments are not
copied: the portal makes them again.

A restore goes only into an empty database (a new SQLite file, or a PostgreSQL database just created),
with the same code version or a newer one (the schema is then migrated); anything else is refused
before anything changes. Both are audited as an operator's action (no user).
"""
from __future__ import annotations

import getpass
import json
import os
import re
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url

from portal.clock import utcnow
from portal.extensions import db
from portal.models import Case, CaseAttachment, DocumentDelivery, PortalUser
from portal.services._tx import transaction
from portal.services.audit import audit
from portal.services.errors import DomainError
from portal.services.invariants import check_invariants

MANIFEST = "manifest.json"
UPLOADS = "uploads"
FORMAT = 1
DATABASE_FILE = {"sqlite": "database.sqlite3", "postgresql": "database.dump"}
MANIFEST_KEYS = {"made_at", "dialect", "revision", "database", "database_bytes", "pg_dump_major", "files"}


class BackupError(DomainError):
    message = _l("The backup could not be made.")


FOLDER_NOT_EMPTY = _l("The folder %(folder)s is not empty: back up into a new or empty folder.")
NOT_A_BACKUP = _l("%(folder)s holds no finished backup (its manifest.json is missing or unreadable).")
NOT_EMPTY = _l("The database %(database)s is not empty: a backup is restored only into an empty database. "
               "Nothing was changed.")
OTHER_DIALECT = _l("This backup is of a %(backup)s database and cannot be restored into %(target)s. "
                   "Nothing was changed.")
UNKNOWN_REVISION = _l("This backup was made by a newer version of the portal (database revision "
                      "%(revision)s); restore it with that version. Nothing was changed.")
FILE_MISSING = _l("The backup is incomplete: the file %(file)s is missing or has another size. "
                  "Nothing was changed.")
NO_FILE_DATABASE = _l("Only a database in a file can be backed up or restored (not %(database)s).")
NO_TOOL = _l("%(tool)s of PostgreSQL %(major)s or newer is needed: install the Debian package "
             "postgresql-client-%(major)s.")
TOOL_FAILED = _l("%(tool)s failed: %(error)s")


@dataclass
class BackupSummary:
    folder: Path
    dialect: str
    database_bytes: int
    files: int
    file_bytes: int


@dataclass
class RestoreSummary:
    cases: int
    users: int
    attachments: int
    files: int
    migrated_from: str | None
    problems: list[str] = field(default_factory=list)


# -- backup --------------------------------------------------------------------------------------------
def backup_portal(folder: Path) -> BackupSummary:
    """Copy the database, then the uploaded files, into ``folder`` (new or empty); safe while the portal
    runs. The manifest is written last; a failed backup leaves nothing behind. Audited."""
    folder = Path(folder)
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        raise BackupError(FOLDER_NOT_EMPTY, folder=str(folder))
    created = not folder.exists()
    folder.mkdir(parents=True, exist_ok=True)
    try:
        dialect = db.engine.dialect.name
        database = folder / DATABASE_FILE[dialect]
        if dialect == "sqlite":
            copy_sqlite(_sqlite_path(), database)
            revision, tool = _sqlite_scalar(database, "SELECT version_num FROM alembic_version"), None
        else:
            revision = db.session.scalar(text("SELECT version_num FROM alembic_version"))
            db.session.rollback()
            tool = dump_postgresql(database)
        files = _copy_files(_upload_folder(), folder / UPLOADS, _upload_names(_upload_folder()))
        manifest = {"portal_backup": FORMAT, "made_at": utcnow().isoformat(timespec="seconds") + "Z",
                    "dialect": dialect, "revision": revision, "database": database.name,
                    "database_bytes": database.stat().st_size, "pg_dump_major": tool, "files": files}
        _write_manifest(folder, manifest)
    except BaseException:
        _empty(folder, remove=created)
        raise
    summary = BackupSummary(folder, dialect, database.stat().st_size, len(files), sum(files.values()))
    _record("portal.backup", folder=str(folder.resolve()), dialect=dialect, revision=revision,
            database_bytes=summary.database_bytes, files=summary.files, file_bytes=summary.file_bytes)
    return summary


def copy_sqlite(source: Path, target: Path) -> None:
    """SQLite's online backup: one read transaction, so writers go on (WAL) and the copy is a snapshot.
    The copy keeps no write-ahead log beside it: it is one self-contained file (the portal turns WAL on
    again when it opens it)."""
    src = sqlite3.connect(source, timeout=30)
    dst = sqlite3.connect(target)
    try:
        src.backup(dst)
        dst.execute("PRAGMA journal_mode=DELETE")
    finally:
        dst.close()
        src.close()


def _sqlite_scalar(path: Path, sql: str):
    conn = sqlite3.connect(path, timeout=30)
    try:
        row = conn.execute(sql).fetchone()
    finally:
        conn.close()
    return row[0] if row else None


def dump_postgresql(target: Path) -> int:
    """``pg_dump`` of the portal's database in the custom format (one snapshot; writers go on); returns
    the major version of the pg_dump used."""
    url, env = _libpq()
    tool, major = _pg_tool("pg_dump", _server_major())
    _run([tool, "--format=custom", "--no-owner", "--file", str(target), "--dbname", url], env, "pg_dump")
    return major


# -- restore -------------------------------------------------------------------------------------------
def restore_portal(folder: Path) -> RestoreSummary:
    """Restore a backup made by ``backup_portal`` into this portal's database, which must be empty, and
    its files into the upload folder; migrate the schema if the backup is older; then check that every
    stored workflow loads and matches its open steps, and that every file named is there. Audited."""
    folder = Path(folder)
    manifest = _read_manifest(folder)
    dialect = db.engine.dialect.name
    if manifest["dialect"] != dialect:
        raise BackupError(OTHER_DIALECT, backup=manifest["dialect"], target=dialect)
    _check_revision(manifest["revision"])
    source = folder / manifest["database"]
    for path, size in [(source, manifest["database_bytes"])] + [
            (folder / UPLOADS / name, size) for name, size in manifest["files"].items()]:
        if not path.is_file() or path.stat().st_size != size:
            raise BackupError(FILE_MISSING, file=str(path))
    tool = None
    if dialect == "postgresql":
        tool, _major = _pg_tool("pg_restore", max(_server_major(), manifest["pg_dump_major"] or 0))
    _check_empty(dialect)
    db.session.remove()
    db.engine.dispose()
    copied = _copy_files(folder / UPLOADS, _upload_folder(), manifest["files"])
    if dialect == "sqlite":
        copy_sqlite(source, _sqlite_path())
    else:
        url, env = _libpq()
        _run([tool, "--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction",
              "--dbname", url, str(source)], env, "pg_restore")
    migrated_from = _upgrade(manifest["revision"])
    summary = _restored_summary(len(copied), migrated_from)
    _record("portal.restore", folder=str(folder.resolve()), made_at=manifest["made_at"],
            revision=manifest["revision"], migrated=bool(migrated_from), files=len(copied),
            problems=len(summary.problems))
    return summary


def _restored_summary(files: int, migrated_from: str | None) -> RestoreSummary:
    report = check_invariants(timers=False)  # timers that fell due meanwhile fire when the worker starts
    missing = [f"{kind} {row_id}: the file {name} is not in the upload folder"
               for kind, model in (("attachment", CaseAttachment), ("delivery", DocumentDelivery))
               for row_id, name in db.session.execute(select(model.id, model.stored_name))
               if not (_upload_folder() / name).is_file()]
    cases, users, attachments = (db.session.scalar(select(func.count()).select_from(model))
                                 for model in (Case, PortalUser, CaseAttachment))
    summary = RestoreSummary(cases, users, attachments, files, migrated_from, report.problems + missing)
    db.session.rollback()
    return summary


def _read_manifest(folder: Path) -> dict:
    try:
        manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise BackupError(NOT_A_BACKUP, folder=str(folder)) from None
    if not (isinstance(manifest, dict) and manifest.get("portal_backup") == FORMAT and MANIFEST_KEYS <= set(manifest)
            and manifest["database"] == DATABASE_FILE.get(manifest["dialect"])
            and isinstance(manifest["files"], dict) and all(map(_plain_name, manifest["files"]))):
        raise BackupError(NOT_A_BACKUP, folder=str(folder))
    return manifest


def _plain_name(name: str) -> bool:
    """A stored file's name: no folder, nothing hidden (a manifest cannot send a file elsewhere)."""
    return isinstance(name, str) and bool(name) and Path(name).name == name and not name.startswith(".")


def _check_revision(revision: str | None) -> None:
    from alembic.script import ScriptDirectory
    from alembic.util import CommandError
    scripts = ScriptDirectory(current_app.extensions["migrate"].directory)
    try:
        known = revision is not None and scripts.get_revision(revision) is not None
    except CommandError:
        known = False
    if not known:
        raise BackupError(UNKNOWN_REVISION, revision=revision)


def _check_empty(dialect: str) -> None:
    if dialect == "sqlite":
        path = _sqlite_path()
        tables = path.exists() and _sqlite_scalar(path, "SELECT count(*) FROM sqlite_master WHERE type = 'table'")
        where = str(path)
    else:
        tables = db.session.scalar(text("SELECT count(*) FROM information_schema.tables "
                                        "WHERE table_schema NOT IN ('pg_catalog', 'information_schema')"))
        db.session.rollback()
        where = db.engine.url.database
    if tables:
        raise BackupError(NOT_EMPTY, database=where)


def _upgrade(revision: str | None) -> str | None:
    """Migrate a backup made by an older version to this version's schema; return the old revision."""
    from alembic.script import ScriptDirectory
    from flask_migrate import upgrade
    if revision == ScriptDirectory(current_app.extensions["migrate"].directory).get_current_head():
        return None
    upgrade()
    return revision


# -- files, tools, audit -------------------------------------------------------------------------------
def _upload_folder() -> Path:
    return Path(current_app.config["UPLOAD_FOLDER"])


def _upload_names(folder: Path) -> dict[str, int]:
    """The stored files (named by their content), without temporary files and the page-image cache."""
    if not folder.is_dir():
        return {}
    return {p.name: p.stat().st_size for p in sorted(folder.iterdir()) if p.is_file() and not p.name.startswith(".")}


def _copy_files(source: Path, target: Path, names: dict[str, int]) -> dict[str, int]:
    """Copy each named file, under a temporary name then renamed; one already there with its size is the
    same file (a name is its content's hash) and is left as it is."""
    target.mkdir(parents=True, exist_ok=True)
    for name, size in names.items():
        destination = target / name
        if destination.is_file() and destination.stat().st_size == size:
            continue
        temp = target / f".restore-{name}.part"
        shutil.copyfile(source / name, temp)
        os.replace(temp, destination)
    return dict(names)


def _empty(folder: Path, remove: bool) -> None:
    """Take away what an unfinished backup wrote (and the folder, when the backup made it)."""
    if remove:
        shutil.rmtree(folder, ignore_errors=True)
        return
    for path in folder.iterdir():
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)


def _write_manifest(folder: Path, manifest: dict) -> None:
    temp = folder / f".{MANIFEST}.part"
    with open(temp, "w", encoding="utf-8") as out:
        json.dump(manifest, out, ensure_ascii=False, indent=1)
        out.flush()
        os.fsync(out.fileno())
    os.replace(temp, folder / MANIFEST)


def _sqlite_path() -> Path:
    name = db.engine.url.database  # resolved by Flask-SQLAlchemy (a relative path lies in the instance folder)
    if not name or name == ":memory:" or name.startswith("file:"):
        raise BackupError(NO_FILE_DATABASE, database=str(db.engine.url))
    return Path(name)


def _libpq() -> tuple[str, dict[str, str]]:
    """The database as a libpq URL for the PostgreSQL tools, its password in their environment (not on
    the command line, where every user of the machine could read it)."""
    url = db.engine.url
    env = {**os.environ, "PGCONNECT_TIMEOUT": "10"}
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    plain = make_url(url.render_as_string(hide_password=False)).set(drivername="postgresql", password=None)
    return plain.render_as_string(hide_password=False), env


def _server_major() -> int:
    number = int(db.session.scalar(text("SHOW server_version_num")))
    db.session.rollback()
    return number // 10000


def _pg_tool(name: str, major: int) -> tuple[str, int]:
    """The PostgreSQL tool of the server's major version (Debian's /usr/lib/postgresql/N/bin), else the
    newest one installed, else the one on PATH; it must be at least version ``major``."""
    installed = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"),
                       key=lambda p: (p.parent.parent.name != str(major), -_int(p.parent.parent.name)))
    for path in [*map(str, installed), shutil.which(name)]:
        if path and os.access(path, os.X_OK):
            found = _tool_major(path)
            if found >= major:
                return path, found
    raise BackupError(NO_TOOL, tool=name, major=major)


def _int(text_: str) -> int:
    return int(text_) if text_.isdigit() else 0


def _tool_major(path: str) -> int:
    out = subprocess.run([path, "--version"], capture_output=True, text=True, check=False).stdout
    found = re.search(r"\)\s+(\d+)", out)
    return int(found.group(1)) if found else 0


def _run(command: list[str], env: dict[str, str], tool: str) -> None:
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if done.returncode:
        raise BackupError(TOOL_FAILED, tool=tool, error=(done.stderr.strip() or done.stdout.strip())[-800:])


@transaction
def _record(action: str, **detail) -> None:
    """The operator's action in the audit log: no portal user, the machine account that ran it."""
    audit(action, operator=getpass.getuser(), **detail)
