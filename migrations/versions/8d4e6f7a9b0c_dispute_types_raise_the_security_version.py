"""dispute types raise the security version too

App servers keep the county's reference lists (its units, the dispute types) that every form offers,
with the users and permissions they read, for as long as the security version stays the number they
read. Units already raise it; a change to a dispute type now does as well, whoever makes it.

Revision ID: 8d4e6f7a9b0c
Revises: 3c1d2e4f5a6b
Create Date: 2026-11-28 02:30:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '8d4e6f7a9b0c'
down_revision = '3c1d2e4f5a6b'
branch_labels = None
depends_on = None

TABLE = "dispute_type"
OPERATIONS = ("INSERT", "UPDATE", "DELETE")


def upgrade():
    if op.get_bind().dialect.name == "postgresql":  # the function security_version_raise() exists already
        op.execute(f"CREATE TRIGGER security_version_{TABLE} AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE "
                   f"ON {TABLE} FOR EACH STATEMENT EXECUTE FUNCTION security_version_raise()")
    else:
        for operation in OPERATIONS:
            op.execute(f"CREATE TRIGGER security_version_{TABLE}_{operation.lower()} AFTER {operation} "
                       f"ON {TABLE} BEGIN UPDATE security_version SET version = version + 1; END")


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP TRIGGER IF EXISTS security_version_{TABLE} ON {TABLE}")
    else:
        for operation in OPERATIONS:
            op.execute(f"DROP TRIGGER IF EXISTS security_version_{TABLE}_{operation.lower()}")
