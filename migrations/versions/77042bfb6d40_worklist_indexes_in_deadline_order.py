"""worklist indexes in deadline order

A worklist lists the open steps of the user's lanes, soonest deadline first, 200 at a time: with the
deadline and the creation time in the index, the database reads the first 200 in order instead of
sorting every open step of those lanes. Each new index holds the columns of the one it replaces first,
so every query that used the old one can use the new one.

Revision ID: 77042bfb6d40
Revises: 5ff85747ea3e
Create Date: 2026-11-27 15:16:30.797991

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '77042bfb6d40'
down_revision = '5ff85747ea3e'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('work_item', schema=None) as batch_op:
        batch_op.drop_index('ix_work_item_open_lane')
        batch_op.drop_index('ix_work_item_status_due')
        batch_op.create_index('ix_work_item_open_lane_due', ['status', 'lane', 'due_at', 'created_at'], unique=False)
        batch_op.create_index('ix_work_item_status_due_created', ['status', 'due_at', 'created_at'], unique=False)


def downgrade():
    with op.batch_alter_table('work_item', schema=None) as batch_op:
        batch_op.drop_index('ix_work_item_status_due_created')
        batch_op.drop_index('ix_work_item_open_lane_due')
        batch_op.create_index('ix_work_item_status_due', ['status', 'due_at'], unique=False)
        batch_op.create_index('ix_work_item_open_lane', ['status', 'lane'], unique=False)
