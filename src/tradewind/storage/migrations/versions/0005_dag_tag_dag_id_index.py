"""``ix_dag_tag_dag_id_name``: the tags of given DAGs, for lists of DAGs.

``GET /dags`` reads the tags of the DAGs of its page in one query by ``dag_id``.
``dag_tag``'s primary key is ``(name, dag_id)``, so without this index SQLite scanned the
whole table for each page. With ``name`` after ``dag_id`` the index covers the query and
hands each DAG's tags out already in name order.

Revision ID: 0005_dag_tag_dag_id_index
Revises: 0004_dag_active_order_index
Create Date: 2026-12-08
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0005_dag_tag_dag_id_index"
down_revision: str | None = "0004_dag_active_order_index"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_dag_tag_dag_id_name", "dag_tag", ["dag_id", "name"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_dag_tag_dag_id_name", table_name="dag_tag")
