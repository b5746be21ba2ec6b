"""``ix_task_outlet_dataset_reference_dag_id_task_id``: the outlets of one task.

A worker's claim of every try asks whether its task updates datasets, and a successful
try's record reads them: both look up ``task_outlet_dataset_reference`` by ``(dag_id,
task_id)``. Its primary key begins with ``dataset_id``, so without this index each
lookup scanned the whole table, once per try.

Revision ID: 0006_task_outlet_task_index
Revises: 0005_dag_tag_dag_id_index
Create Date: 2026-12-08
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0006_task_outlet_task_index"
down_revision: str | None = "0005_dag_tag_dag_id_index"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_NAME = "ix_task_outlet_dataset_reference_dag_id_task_id"


def upgrade() -> None:
    op.create_index(_NAME, "task_outlet_dataset_reference", ["dag_id", "task_id"], unique=False)


def downgrade() -> None:
    op.drop_index(_NAME, table_name="task_outlet_dataset_reference")
