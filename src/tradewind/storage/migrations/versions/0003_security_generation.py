"""``security_generation``: one number that grows with every change to who may do what.

The API trusts a principal it verified (user, roles, permissions) without reloading it
for as long as this number reads the same (:mod:`tradewind.security.generation`). So
the number must move in the same transaction as any change a login depends on, whoever
makes it: triggers on the security tables bump it, which covers the API, the CLI, other
processes and an operator's hand-written SQL alike. Bookkeeping columns (``last_login``,
``login_count``, a token's ``last_used_at``) are left out, so logging in does not bump it.

SQLite triggers are per row and cannot name several events; PostgreSQL's run one shared
function once per statement. A bump re-creates the row if it is missing. The function is
created "OR REPLACE": ``db reset`` drops tables (and so their triggers), not functions.

Revision ID: 0003_security_generation
Revises: 0002_dag_parsing_request
Create Date: 2026-11-29
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003_security_generation"
down_revision: str | None = "0002_dag_parsing_request"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: Table -> the columns whose UPDATE changes what a login proves (None: any column).
WATCHED: dict[str, tuple[str, ...] | None] = {
    "user": ("username", "password_hash", "active"),
    "role": ("name",),
    "permission": ("action", "resource"),
    "user_role": None,
    "role_permission": None,
    "api_token": ("user_id", "token_hash", "revoked", "expires_at"),
}
EVENTS = ("INSERT", "UPDATE", "DELETE")
FUNCTION = "tw_bump_security_generation"


def trigger_name(table: str, event: str) -> str:
    return f"tw_security_generation_{table}_{event.lower()}"


def _event_clause(table: str, event: str) -> str:
    columns = WATCHED[table]
    if event == "UPDATE" and columns:
        return f"UPDATE OF {', '.join(columns)}"
    return event


def upgrade() -> None:
    op.create_table(
        "security_generation",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("generation", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_security_generation")),
    )
    op.execute("INSERT INTO security_generation (id, generation) VALUES (1, 1)")
    if op.get_bind().dialect.name == "postgresql":
        _create_postgresql_triggers()
    else:
        _create_sqlite_triggers()


def _create_sqlite_triggers() -> None:
    for table in WATCHED:
        for event in EVENTS:
            op.execute(
                f"CREATE TRIGGER {trigger_name(table, event)} "
                f'AFTER {_event_clause(table, event)} ON "{table}" '
                "BEGIN "
                "INSERT OR IGNORE INTO security_generation (id, generation) VALUES (1, 0); "
                "UPDATE security_generation SET generation = generation + 1 WHERE id = 1; "
                "END"
            )


def _create_postgresql_triggers() -> None:
    op.execute(
        f"CREATE OR REPLACE FUNCTION {FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$ "
        "BEGIN "
        "INSERT INTO security_generation (id, generation) VALUES (1, 1) "
        "ON CONFLICT (id) DO UPDATE SET generation = security_generation.generation + 1; "
        "RETURN NULL; "
        "END $$"
    )
    for table in WATCHED:
        for event in (*EVENTS, "TRUNCATE"):
            op.execute(
                f"CREATE TRIGGER {trigger_name(table, event)} "
                f'AFTER {_event_clause(table, event)} ON "{table}" '
                f"FOR EACH STATEMENT EXECUTE FUNCTION {FUNCTION}()"
            )


def downgrade() -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    for table in WATCHED:
        for event in (*EVENTS, "TRUNCATE") if postgresql else EVENTS:
            suffix = f' ON "{table}"' if postgresql else ""
            op.execute(f"DROP TRIGGER {trigger_name(table, event)}{suffix}")
    if postgresql:
        op.execute(f"DROP FUNCTION {FUNCTION}()")
    op.drop_table("security_generation")
