"""fewer indexes written by every step

Each step of a case inserts a work item and rewrites the case row, and every index on a changed column is
written with them. Four indexes no query needs are dropped:

- ``ix_work_item_task_id``: the engine's task ids are random, so each new item wrote a leaf page of this
  index at a random place (a page read from disk on a large database, then written); no query looks an
  item up by its task id alone (the partial unique index on open items keeps one open item per task);
- ``ix_work_item_case_id``, ``ix_mediation_case_status``, ``ix_mediation_case_township_id``: each is the
  first column of another index (``ix_work_item_case_status``, ``ix_mediation_case_status_due``,
  ``ix_mediation_case_township_registered``), which serves the same lookups.

Revision ID: a4e6b8d0c2f1
Revises: 9c3d5e7f1a2b
Create Date: 2026-11-29 15:20:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'a4e6b8d0c2f1'
down_revision = '9c3d5e7f1a2b'
branch_labels = None
depends_on = None

_DROPPED = (
    ("work_item", "ix_work_item_task_id", ["task_id"]),
    ("work_item", "ix_work_item_case_id", ["case_id"]),
    ("mediation_case", "ix_mediation_case_status", ["status"]),
    ("mediation_case", "ix_mediation_case_township_id", ["township_id"]),
)


def upgrade():
    for table, name, _columns in _DROPPED:
        op.drop_index(name, table_name=table)


def downgrade():
    for table, name, columns in _DROPPED:
        op.create_index(name, table, columns)
