"""worklist indexes end in the step's id, for pages in a stable order; the worker's outbox indexed

A worklist now comes a page at a time, ordered by deadline, creation time and, for steps of the same
moment (a bulk import makes thousands), the step's id. With the id at the end of the index the database
still reads one page in order; without it PostgreSQL sorted every open step of a moment to find a page
(a dispatcher's worklist of 100,000 imported cases: 480 ms instead of a few).

The worker looks for steps whose unit has not been told yet every round; a partial index of those few
replaces a scan of every step.

Revision ID: 83e38508cf90
Revises: 77042bfb6d40
Create Date: 2026-11-27 19:02:23.325866

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '83e38508cf90'
down_revision = '77042bfb6d40'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('work_item', schema=None) as batch_op:
        batch_op.drop_index('ix_work_item_open_lane_due')
        batch_op.create_index('ix_work_item_open_lane_due', ['status', 'lane', 'due_at', 'created_at', 'id'], unique=False)
        batch_op.drop_index('ix_work_item_status_due_created')
        batch_op.create_index('ix_work_item_status_due_created', ['status', 'due_at', 'created_at', 'id'], unique=False)
        batch_op.create_index('ix_work_item_not_notified', ['id'], unique=False,
                              sqlite_where=sa.text('notified IS 0'), postgresql_where=sa.text('notified IS false'))


def downgrade():
    with op.batch_alter_table('work_item', schema=None) as batch_op:
        batch_op.drop_index('ix_work_item_not_notified', sqlite_where=sa.text('notified IS 0'),
                            postgresql_where=sa.text('notified IS false'))
        batch_op.drop_index('ix_work_item_status_due_created')
        batch_op.create_index('ix_work_item_status_due_created', ['status', 'due_at', 'created_at'], unique=False)
        batch_op.drop_index('ix_work_item_open_lane_due')
        batch_op.create_index('ix_work_item_open_lane_due', ['status', 'lane', 'due_at', 'created_at'], unique=False)
