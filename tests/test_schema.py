"""The migrations build exactly the schema the models describe."""
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_appbuilder import Model

from portal.extensions import db


def test_models_and_migrations_agree(ctx):
    with db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Model.metadata)
    assert diff == []


def test_every_security_table_raises_the_security_version(ctx):
    """A migration that rebuilds a table on SQLite (batch mode) drops its triggers: it must make them again."""
    from sqlalchemy import text

    from portal.models import SECURITY_TABLES
    if db.engine.dialect.name == "postgresql":
        rows = db.session.execute(text("SELECT DISTINCT event_object_table, event_manipulation FROM "
                                       "information_schema.triggers WHERE trigger_name LIKE 'security_version_%'"))
    else:
        operation = "upper(substr(name, length('security_version_' || tbl_name) + 2))"  # ..._<table>_<operation>
        rows = db.session.execute(text(f"SELECT tbl_name, {operation} FROM sqlite_master "
                                       "WHERE type = 'trigger' AND name LIKE 'security_version_%'"))
    assert set(rows) == {(t, op) for t in SECURITY_TABLES for op in ("INSERT", "UPDATE", "DELETE")}
