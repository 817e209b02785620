"""lists of cases newest first: the case's id beside its registration time in the index

The unit's cases and the case lists are ordered by registration time and id. With the id in the index the
database reads one page of that order and stops; with the time alone, cases registered at the same moment
(a bulk import makes thousands) were all read and sorted to find the first fifty. The new index holds the
old one's column first, so every query that used it can use this one.

Revision ID: 3c1d2e4f5a6b
Revises: 77042bfb6d40
Create Date: 2026-11-28 02:10:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '3c1d2e4f5a6b'
down_revision = '77042bfb6d40'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('mediation_case', schema=None) as batch_op:
        batch_op.drop_index('ix_mediation_case_registered_at')
        batch_op.create_index('ix_mediation_case_registered_id', ['registered_at', 'id'], unique=False)


def downgrade():
    with op.batch_alter_table('mediation_case', schema=None) as batch_op:
        batch_op.drop_index('ix_mediation_case_registered_id')
        batch_op.create_index('ix_mediation_case_registered_at', ['registered_at'], unique=False)
