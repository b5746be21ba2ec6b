"""``ix_dag_is_active_dag_id``: active DAGs in ``dag_id`` order, for lists of DAGs.

``GET /dags`` lists active DAGs ordered by ``dag_id``, a page at a time. With only
``ix_dag_is_active_is_paused``, SQLite (which keeps no statistics unless someone runs
``ANALYZE``) took every active DAG through that index and sorted them all to return
100: 0.4 ms of the request for 1,000 DAGs, growing with their number. This index
hands them out already in order, so the page stops after its last row (0.19 ms).

Revision ID: 0004_dag_active_order_index
Revises: 0003_security_generation
Create Date: 2026-12-08
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0004_dag_active_order_index"
down_revision: str | None = "0003_security_generation"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_dag_is_active_dag_id", "dag", ["is_active", "dag_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_dag_is_active_dag_id", table_name="dag")
