"""security version raised by every change to users, roles, permissions, lanes and units

Revision ID: 5ff85747ea3e
Revises: 58b21e06f707
Create Date: 2026-11-27 15:40:15.243423

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '5ff85747ea3e'
down_revision = '58b21e06f707'
branch_labels = None
depends_on = None

# Who someone is and what they may do (portal.models.SECURITY_TABLES when this was written). A later
# migration that rebuilds one of these tables on SQLite (batch mode) drops its triggers: it must
# create them again (tests/test_schema.py checks that every table has them).
TABLES = ("ab_user", "ab_role", "ab_user_role", "ab_group", "ab_user_group", "ab_group_role",
          "ab_permission", "ab_view_menu", "ab_permission_view", "ab_permission_view_role",
          "lane_role", "org_unit")
OPERATIONS = ("INSERT", "UPDATE", "DELETE")


def upgrade():
    op.create_table('security_version',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.execute("INSERT INTO security_version (id, version) VALUES (1, 1)")
    # Every change to a security table raises the version in the same transaction, whoever makes it:
    # app servers keep the users and permission answers they read while the version stays the same.
    if op.get_bind().dialect.name == "postgresql":
        op.execute("""
            CREATE FUNCTION security_version_raise() RETURNS trigger AS $$
            BEGIN UPDATE security_version SET version = version + 1; RETURN NULL; END; $$ LANGUAGE plpgsql;
        """)
        for table in TABLES:
            op.execute(f"CREATE TRIGGER security_version_{table} AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE "
                       f"ON {table} FOR EACH STATEMENT EXECUTE FUNCTION security_version_raise()")
    else:
        for table in TABLES:
            for operation in OPERATIONS:
                op.execute(f"CREATE TRIGGER security_version_{table}_{operation.lower()} AFTER {operation} "
                           f"ON {table} BEGIN UPDATE security_version SET version = version + 1; END")


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        for table in TABLES:
            op.execute(f"DROP TRIGGER IF EXISTS security_version_{table} ON {table}")
        op.execute("DROP FUNCTION IF EXISTS security_version_raise()")
    else:
        for table in TABLES:
            for operation in OPERATIONS:
                op.execute(f"DROP TRIGGER IF EXISTS security_version_{table}_{operation.lower()}")
    op.drop_table('security_version')
