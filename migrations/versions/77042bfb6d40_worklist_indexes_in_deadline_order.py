"""worklist indexes in deadline order; the worker's outbox indexed

A worklist lists the open steps of the user's lanes, soonest deadline first, a page at a time: with the
deadline, the creation time and the step's id (which orders steps of the same moment, as a bulk import
makes thousands) in the index, the database reads one page in order instead of sorting every open step
of those lanes. Each new index holds the columns of the one it replaces first, so every query that used
the old one can use the new one.

The worker looks for steps whose unit has not been told yet every round; a partial index of those few
replaces a scan of every step.

Revision ID: 77042bfb6d40
Revises: 5ff85747ea3e
Create Date: 2026-11-27 15:16:30.797991

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '77042bfb6d40'
down_revision = '5ff85747ea3e'
branch_labels = None
depends_on = None

NOT_NOTIFIED = dict(sqlite_where=sa.text('notified IS 0'), postgresql_where=sa.text('notified IS false'))


def upgrade():
    with op.batch_alter_table('work_item', schema=None) as batch_op:
        batch_op.drop_index('ix_work_item_open_lane')
        batch_op.drop_index('ix_work_item_status_due')
        batch_op.create_index('ix_work_item_open_lane_due', ['status', 'lane', 'due_at', 'created_at', 'id'], unique=False)
        batch_op.create_index('ix_work_item_status_due_created', ['status', 'due_at', 'created_at', 'id'], unique=False)
        batch_op.create_index('ix_work_item_not_notified', ['id'], unique=False, **NOT_NOTIFIED)


def downgrade():
    with op.batch_alter_table('work_item', schema=None) as batch_op:
        batch_op.drop_index('ix_work_item_not_notified', **NOT_NOTIFIED)
        batch_op.drop_index('ix_work_item_status_due_created')
        batch_op.drop_index('ix_work_item_open_lane_due')
        batch_op.create_index('ix_work_item_status_due', ['status', 'due_at'], unique=False)
        batch_op.create_index('ix_work_item_open_lane', ['status', 'lane'], unique=False)
