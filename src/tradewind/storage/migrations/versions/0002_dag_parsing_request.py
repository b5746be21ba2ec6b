"""``dag_priority_parsing_request``: files a user asked to re-parse (``PUT /parseDagFile``).

Revision ID: 0002_dag_parsing_request
Revises: 0001_initial
Create Date: 2026-11-27
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002_dag_parsing_request"
down_revision: str | None = "0001_initial"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "dag_priority_parsing_request",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("fileloc", sa.String(length=2000), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dag_priority_parsing_request")),
    )


def downgrade() -> None:
    op.drop_table("dag_priority_parsing_request")
