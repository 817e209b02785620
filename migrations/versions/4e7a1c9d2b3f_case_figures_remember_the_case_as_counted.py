"""case figures remember the case's updated_at as counted

A request corrects the figures' day sums by the cases changed since the worker's mark (its last round
less ten minutes). A case the sums already hold as it is -- counted at the updated_at it still has --
needs no correction: its part now is the part counted. Under a busy county's load that is nearly every
case of those ten minutes. Rows counted before this column existed hold NULL: they are corrected as
before until the worker counts their case again.

Revision ID: 4e7a1c9d2b3f
Revises: 8d4e6f7a9b0c
Create Date: 2026-11-29 11:00:00.000000

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '4e7a1c9d2b3f'
down_revision = '8d4e6f7a9b0c'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("case_figures") as batch:
        batch.add_column(sa.Column("case_updated_at", sa.DateTime(), nullable=True))


def downgrade():
    with op.batch_alter_table("case_figures") as batch:
        batch.drop_column("case_updated_at")
