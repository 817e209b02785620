"""deadline rules and the calendar raise the security version too

Every step that sets a case's deadline reads the deadline rules and the center's calendar days. App
servers keep them with the reference lists (units, dispute types) for as long as the security version
stays the number they read; a change to either table now raises it, whoever makes it.

Revision ID: 6b2f8c1e4d7a
Revises: 4e7a1c9d2b3f
Create Date: 2026-11-29 13:20:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '6b2f8c1e4d7a'
down_revision = '4e7a1c9d2b3f'
branch_labels = None
depends_on = None

TABLES = ("deadline_rule", "calendar_day")
OPERATIONS = ("INSERT", "UPDATE", "DELETE")


def upgrade():
    for table in TABLES:
        if op.get_bind().dialect.name == "postgresql":  # the function security_version_raise() exists already
            op.execute(f"CREATE TRIGGER security_version_{table} AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE "
                       f"ON {table} FOR EACH STATEMENT EXECUTE FUNCTION security_version_raise()")
        else:
            for operation in OPERATIONS:
                op.execute(f"CREATE TRIGGER security_version_{table}_{operation.lower()} AFTER {operation} "
                           f"ON {table} BEGIN UPDATE security_version SET version = version + 1; END")


def downgrade():
    for table in TABLES:
        if op.get_bind().dialect.name == "postgresql":
            op.execute(f"DROP TRIGGER IF EXISTS security_version_{table} ON {table}")
        else:
            for operation in OPERATIONS:
                op.execute(f"DROP TRIGGER IF EXISTS security_version_{table}_{operation.lower()}")
