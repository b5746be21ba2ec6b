"""Every table of Tradewind's first release, and ``default_pool``.

Column types are spelled out here (``utc_datetime``, ``json``, ``big_id``) instead of
importing the ORM's types, so this revision keeps creating the same schema whatever later
versions of ``tradewind.storage`` look like. Encrypted columns are plain TEXT: encryption
happens in Python.

Revision ID: 0001_initial
Revises:
Create Date: 2026-11-25
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001_initial"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: Used when the caller passes no ``default_pool_slots`` (Airflow's default too).
DEFAULT_POOL_SLOTS = 128


def utc_datetime() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def json() -> sa.types.TypeEngine[Any]:
    return sa.JSON(none_as_null=True).with_variant(
        postgresql.JSONB(none_as_null=True, astext_type=sa.Text()), "postgresql"
    )


def big_id() -> sa.types.TypeEngine[int]:
    return sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _insert_default_pool() -> None:
    config = op.get_context().config
    attributes = config.attributes if config is not None else {}
    slots = attributes.get("default_pool_slots", DEFAULT_POOL_SLOTS)
    pool = sa.table(
        "slot_pool",
        sa.column("name", sa.String),
        sa.column("slots", sa.Integer),
        sa.column("description", sa.Text),
        sa.column("include_deferred", sa.Boolean),
    )
    op.bulk_insert(
        pool,
        [
            {
                "name": "default_pool",
                "slots": int(slots),
                "description": "Default pool",
                "include_deferred": False,
            }
        ],
    )


def upgrade() -> None:
    op.create_table(
        "callback_request",
        sa.Column("id", big_id(), autoincrement=True, nullable=False),
        sa.Column("created_at", utc_datetime(), nullable=False),
        sa.Column("priority_weight", sa.Integer(), nullable=False),
        sa.Column("callback_type", sa.String(length=20), nullable=False),
        sa.Column("callback_data", json(), nullable=False),
        sa.Column("dag_id", sa.String(length=250), nullable=False),
        sa.Column("run_id", sa.String(length=250), nullable=False),
        sa.Column("processor_subdir", sa.String(length=2000), nullable=True),
        sa.Column("claimed_by_job_id", sa.Integer(), nullable=True),
        sa.Column("claimed_at", utc_datetime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_callback_request")),
    )
    op.create_index(
        "ix_callback_request_claimed_by_job_id",
        "callback_request",
        ["claimed_by_job_id"],
        unique=False,
    )
    op.create_table(
        "connection",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("conn_id", sa.String(length=250), nullable=False),
        sa.Column("conn_type", sa.String(length=500), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("host", sa.String(length=500), nullable=True),
        sa.Column("schema", sa.String(length=500), nullable=True),
        sa.Column("login", sa.Text(), nullable=True),
        sa.Column("password", sa.Text(), nullable=True),
        sa.Column("port", sa.Integer(), nullable=True),
        sa.Column("extra", sa.Text(), nullable=True),
        sa.Column("is_encrypted", sa.Boolean(), nullable=False),
        sa.Column("is_extra_encrypted", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_connection")),
        sa.UniqueConstraint("conn_id", name=op.f("uq_connection_conn_id")),
    )
    op.create_table(
        "dag",
        sa.Column("dag_id", sa.String(length=250), nullable=False),
        sa.Column("dag_display_name", sa.String(length=2000), nullable=True),
        sa.Column("is_paused", sa.Boolean(), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("last_parsed_time", utc_datetime(), nullable=True),
        sa.Column("last_expired", utc_datetime(), nullable=True),
        sa.Column("fileloc", sa.String(length=2000), nullable=True),
        sa.Column("processor_subdir", sa.String(length=2000), nullable=True),
        sa.Column("owners", sa.String(length=2000), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("default_view", sa.String(length=25), nullable=True),
        sa.Column("timetable_summary", sa.Text(), nullable=True),
        sa.Column("timetable_description", sa.String(length=1000), nullable=True),
        sa.Column(
            "schedule_interval",
            json(),
            nullable=True,
        ),
        sa.Column(
            "dataset_expression",
            json(),
            nullable=True,
        ),
        sa.Column("max_active_tasks", sa.Integer(), nullable=False),
        sa.Column("max_active_runs", sa.Integer(), nullable=True),
        sa.Column("max_consecutive_failed_dag_runs", sa.Integer(), nullable=False),
        sa.Column("has_task_concurrency_limits", sa.Boolean(), nullable=False),
        sa.Column("has_import_errors", sa.Boolean(), nullable=False),
        sa.Column("next_dagrun", utc_datetime(), nullable=True),
        sa.Column("next_dagrun_data_interval_start", utc_datetime(), nullable=True),
        sa.Column("next_dagrun_data_interval_end", utc_datetime(), nullable=True),
        sa.Column("next_dagrun_create_after", utc_datetime(), nullable=True),
        sa.PrimaryKeyConstraint("dag_id", name=op.f("pk_dag")),
    )
    op.create_index("ix_dag_is_active_is_paused", "dag", ["is_active", "is_paused"], unique=False)
    op.create_index(
        "ix_dag_next_dagrun_create_after", "dag", ["next_dagrun_create_after"], unique=False
    )
    op.create_table(
        "dag_code",
        sa.Column("fileloc_hash", sa.String(length=64), nullable=False),
        sa.Column("fileloc", sa.String(length=2000), nullable=False),
        sa.Column("source_code", sa.Text(), nullable=False),
        sa.Column("last_updated", utc_datetime(), nullable=False),
        sa.PrimaryKeyConstraint("fileloc_hash", name=op.f("pk_dag_code")),
    )
    op.create_table(
        "dataset",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("uri", sa.String(length=1500), nullable=False),
        sa.Column(
            "extra",
            json(),
            nullable=True,
        ),
        sa.Column("created_at", utc_datetime(), nullable=False),
        sa.Column("updated_at", utc_datetime(), nullable=False),
        sa.Column("is_orphaned", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dataset")),
        sa.UniqueConstraint("uri", name=op.f("uq_dataset_uri")),
    )
    op.create_table(
        "import_error",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("filename", sa.String(length=1024), nullable=False),
        sa.Column("processor_subdir", sa.String(length=2000), nullable=True),
        sa.Column("timestamp", utc_datetime(), nullable=False),
        sa.Column("stacktrace", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_import_error")),
    )
    op.create_index("ix_import_error_filename", "import_error", ["filename"], unique=False)
    op.create_table(
        "job",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("dag_id", sa.String(length=250), nullable=True),
        sa.Column("state", sa.String(length=20), nullable=True),
        sa.Column("job_type", sa.String(length=30), nullable=False),
        sa.Column("start_date", utc_datetime(), nullable=True),
        sa.Column("end_date", utc_datetime(), nullable=True),
        sa.Column("latest_heartbeat", utc_datetime(), nullable=True),
        sa.Column("executor_class", sa.String(length=500), nullable=True),
        sa.Column("hostname", sa.String(length=500), nullable=True),
        sa.Column("unixname", sa.String(length=1000), nullable=True),
        sa.Column("pid", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_job")),
    )
    op.create_index("ix_job_dag_id", "job", ["dag_id"], unique=False)
    op.create_index(
        "ix_job_type_state_heartbeat",
        "job",
        ["job_type", "state", "latest_heartbeat"],
        unique=False,
    )
    op.create_table(
        "log",
        sa.Column("id", big_id(), autoincrement=True, nullable=False),
        sa.Column("dttm", utc_datetime(), nullable=False),
        sa.Column("dag_id", sa.String(length=250), nullable=True),
        sa.Column("task_id", sa.String(length=250), nullable=True),
        sa.Column("map_index", sa.Integer(), nullable=True),
        sa.Column("run_id", sa.String(length=250), nullable=True),
        sa.Column("try_number", sa.Integer(), nullable=True),
        sa.Column("event", sa.String(length=60), nullable=False),
        sa.Column("owner", sa.String(length=500), nullable=True),
        sa.Column("owner_display_name", sa.String(length=500), nullable=True),
        sa.Column("extra", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_log")),
    )
    op.create_index("ix_log_dag_id_dttm", "log", ["dag_id", "dttm"], unique=False)
    op.create_index("ix_log_dttm", "log", ["dttm"], unique=False)
    op.create_index("ix_log_event_dttm", "log", ["event", "dttm"], unique=False)
    op.create_table(
        "permission",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("action", sa.String(length=100), nullable=False),
        sa.Column("resource", sa.String(length=250), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_permission")),
        sa.UniqueConstraint("action", "resource", name=op.f("uq_permission_action_resource")),
    )
    op.create_table(
        "role",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_role")),
        sa.UniqueConstraint("name", name=op.f("uq_role_name")),
    )
    op.create_table(
        "slot_pool",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("name", sa.String(length=256), nullable=False),
        sa.Column("slots", sa.Integer(), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("include_deferred", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_slot_pool")),
        sa.UniqueConstraint("name", name=op.f("uq_slot_pool_name")),
    )
    op.create_table(
        "trigger",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("classpath", sa.String(length=1000), nullable=False),
        sa.Column("kwargs", sa.Text(), nullable=False),
        sa.Column("created_date", utc_datetime(), nullable=False),
        sa.Column("triggerer_id", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_trigger")),
    )
    op.create_index("ix_trigger_triggerer_id", "trigger", ["triggerer_id"], unique=False)
    op.create_table(
        "user",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("username", sa.String(length=256), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("first_name", sa.String(length=256), nullable=False),
        sa.Column("last_name", sa.String(length=256), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("password_hash", sa.String(length=256), nullable=True),
        sa.Column("last_login", utc_datetime(), nullable=True),
        sa.Column("login_count", sa.Integer(), nullable=False),
        sa.Column("failed_login_count", sa.Integer(), nullable=False),
        sa.Column("created_on", utc_datetime(), nullable=False),
        sa.Column("changed_on", utc_datetime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_user")),
        sa.UniqueConstraint("email", name=op.f("uq_user_email")),
        sa.UniqueConstraint("username", name=op.f("uq_user_username")),
    )
    op.create_table(
        "variable",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("key", sa.String(length=250), nullable=False),
        sa.Column("val", sa.Text(), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("is_encrypted", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_variable")),
        sa.UniqueConstraint("key", name=op.f("uq_variable_key")),
    )
    op.create_table(
        "api_token",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=256), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", utc_datetime(), nullable=False),
        sa.Column("expires_at", utc_datetime(), nullable=True),
        sa.Column("revoked", sa.Boolean(), nullable=False),
        sa.Column("last_used_at", utc_datetime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user.id"], name=op.f("fk_api_token_user_id_user"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_token")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_api_token_token_hash")),
    )
    op.create_index("ix_api_token_user_id", "api_token", ["user_id"], unique=False)
    op.create_table(
        "dag_owner_link",
        sa.Column("dag_id", sa.String(length=250), nullable=False),
        sa.Column("owner", sa.String(length=500), nullable=False),
        sa.Column("link", sa.String(length=500), nullable=False),
        sa.ForeignKeyConstraint(
            ["dag_id"],
            ["dag.dag_id"],
            name=op.f("fk_dag_owner_link_dag_id_dag"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("dag_id", "owner", name=op.f("pk_dag_owner_link")),
    )
    op.create_table(
        "dag_run",
        sa.Column("id", big_id(), autoincrement=True, nullable=False),
        sa.Column("dag_id", sa.String(length=250), nullable=False),
        sa.Column("run_id", sa.String(length=250), nullable=False),
        sa.Column("run_type", sa.String(length=50), nullable=False),
        sa.Column("logical_date", utc_datetime(), nullable=False),
        sa.Column("data_interval_start", utc_datetime(), nullable=True),
        sa.Column("data_interval_end", utc_datetime(), nullable=True),
        sa.Column("state", sa.String(length=50), nullable=False),
        sa.Column(
            "conf",
            json(),
            nullable=True,
        ),
        sa.Column("queued_at", utc_datetime(), nullable=True),
        sa.Column("start_date", utc_datetime(), nullable=True),
        sa.Column("end_date", utc_datetime(), nullable=True),
        sa.Column("external_trigger", sa.Boolean(), nullable=False),
        sa.Column("creating_job_id", sa.Integer(), nullable=True),
        sa.Column("last_scheduling_decision", utc_datetime(), nullable=True),
        sa.Column("dag_hash", sa.String(length=64), nullable=True),
        sa.Column("clear_number", sa.Integer(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("updated_at", utc_datetime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["dag_id"], ["dag.dag_id"], name=op.f("fk_dag_run_dag_id_dag"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dag_run")),
        sa.UniqueConstraint("dag_id", "logical_date", name=op.f("uq_dag_run_dag_id_logical_date")),
        sa.UniqueConstraint("dag_id", "run_id", name=op.f("uq_dag_run_dag_id_run_id")),
    )
    op.create_index("ix_dag_run_dag_id_state", "dag_run", ["dag_id", "state"], unique=False)
    op.create_index("ix_dag_run_end_date", "dag_run", ["end_date"], unique=False)
    op.create_index("ix_dag_run_logical_date", "dag_run", ["logical_date"], unique=False)
    op.create_index("ix_dag_run_start_date", "dag_run", ["start_date"], unique=False)
    op.create_index(
        "ix_dag_run_state_last_scheduling_decision",
        "dag_run",
        ["state", "last_scheduling_decision"],
        unique=False,
    )
    op.create_table(
        "dag_schedule_dataset_reference",
        sa.Column("dataset_id", sa.Integer(), nullable=False),
        sa.Column("dag_id", sa.String(length=250), nullable=False),
        sa.Column("created_at", utc_datetime(), nullable=False),
        sa.Column("updated_at", utc_datetime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["dag_id"],
            ["dag.dag_id"],
            name=op.f("fk_dag_schedule_dataset_reference_dag_id_dag"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["dataset_id"],
            ["dataset.id"],
            name=op.f("fk_dag_schedule_dataset_reference_dataset_id_dataset"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "dataset_id", "dag_id", name=op.f("pk_dag_schedule_dataset_reference")
        ),
    )
    op.create_table(
        "dag_tag",
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("dag_id", sa.String(length=250), nullable=False),
        sa.ForeignKeyConstraint(
            ["dag_id"], ["dag.dag_id"], name=op.f("fk_dag_tag_dag_id_dag"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("name", "dag_id", name=op.f("pk_dag_tag")),
    )
    op.create_table(
        "dag_warning",
        sa.Column("dag_id", sa.String(length=250), nullable=False),
        sa.Column("warning_type", sa.String(length=50), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("timestamp", utc_datetime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["dag_id"], ["dag.dag_id"], name=op.f("fk_dag_warning_dag_id_dag"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("dag_id", "warning_type", name=op.f("pk_dag_warning")),
    )
    op.create_table(
        "dataset_dag_run_queue",
        sa.Column("dataset_id", sa.Integer(), nullable=False),
        sa.Column("target_dag_id", sa.String(length=250), nullable=False),
        sa.Column("created_at", utc_datetime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["dataset_id"],
            ["dataset.id"],
            name=op.f("fk_dataset_dag_run_queue_dataset_id_dataset"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["target_dag_id"],
            ["dag.dag_id"],
            name=op.f("fk_dataset_dag_run_queue_target_dag_id_dag"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "dataset_id", "target_dag_id", name=op.f("pk_dataset_dag_run_queue")
        ),
    )
    op.create_table(
        "dataset_event",
        sa.Column("id", big_id(), autoincrement=True, nullable=False),
        sa.Column("dataset_id", sa.Integer(), nullable=False),
        sa.Column(
            "extra",
            json(),
            nullable=True,
        ),
        sa.Column("source_dag_id", sa.String(length=250), nullable=True),
        sa.Column("source_task_id", sa.String(length=250), nullable=True),
        sa.Column("source_run_id", sa.String(length=250), nullable=True),
        sa.Column("source_map_index", sa.Integer(), nullable=True),
        sa.Column("timestamp", utc_datetime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["dataset_id"],
            ["dataset.id"],
            name=op.f("fk_dataset_event_dataset_id_dataset"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dataset_event")),
    )
    op.create_index(
        "ix_dataset_event_dataset_id_timestamp",
        "dataset_event",
        ["dataset_id", "timestamp"],
        unique=False,
    )
    op.create_table(
        "role_permission",
        sa.Column("role_id", sa.Integer(), nullable=False),
        sa.Column("permission_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["permission_id"],
            ["permission.id"],
            name=op.f("fk_role_permission_permission_id_permission"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["role_id"],
            ["role.id"],
            name=op.f("fk_role_permission_role_id_role"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("role_id", "permission_id", name=op.f("pk_role_permission")),
    )
    op.create_table(
        "serialized_dag",
        sa.Column("dag_id", sa.String(length=250), nullable=False),
        sa.Column("fileloc", sa.String(length=2000), nullable=False),
        sa.Column("processor_subdir", sa.String(length=2000), nullable=True),
        sa.Column(
            "data",
            json(),
            nullable=False,
        ),
        sa.Column("dag_hash", sa.String(length=64), nullable=False),
        sa.Column("last_updated", utc_datetime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["dag_id"],
            ["dag.dag_id"],
            name=op.f("fk_serialized_dag_dag_id_dag"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("dag_id", name=op.f("pk_serialized_dag")),
    )
    op.create_table(
        "task_outlet_dataset_reference",
        sa.Column("dataset_id", sa.Integer(), nullable=False),
        sa.Column("dag_id", sa.String(length=250), nullable=False),
        sa.Column("task_id", sa.String(length=250), nullable=False),
        sa.Column("created_at", utc_datetime(), nullable=False),
        sa.Column("updated_at", utc_datetime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["dag_id"],
            ["dag.dag_id"],
            name=op.f("fk_task_outlet_dataset_reference_dag_id_dag"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["dataset_id"],
            ["dataset.id"],
            name=op.f("fk_task_outlet_dataset_reference_dataset_id_dataset"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "dataset_id", "dag_id", "task_id", name=op.f("pk_task_outlet_dataset_reference")
        ),
    )
    op.create_table(
        "user_role",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("role_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["role_id"], ["role.id"], name=op.f("fk_user_role_role_id_role"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user.id"], name=op.f("fk_user_role_user_id_user"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("user_id", "role_id", name=op.f("pk_user_role")),
    )
    op.create_table(
        "dagrun_dataset_event",
        sa.Column("dag_run_id", big_id(), nullable=False),
        sa.Column("event_id", big_id(), nullable=False),
        sa.ForeignKeyConstraint(
            ["dag_run_id"],
            ["dag_run.id"],
            name=op.f("fk_dagrun_dataset_event_dag_run_id_dag_run"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["dataset_event.id"],
            name=op.f("fk_dagrun_dataset_event_event_id_dataset_event"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("dag_run_id", "event_id", name=op.f("pk_dagrun_dataset_event")),
    )
    op.create_index(
        "ix_dagrun_dataset_event_event_id", "dagrun_dataset_event", ["event_id"], unique=False
    )
    op.create_table(
        "task_instance",
        sa.Column("trigger_id", sa.Integer(), nullable=True),
        sa.Column("id", big_id(), autoincrement=True, nullable=False),
        sa.Column("dag_id", sa.String(length=250), nullable=False),
        sa.Column("run_id", sa.String(length=250), nullable=False),
        sa.Column("task_id", sa.String(length=250), nullable=False),
        sa.Column("map_index", sa.Integer(), nullable=False),
        sa.Column("try_number", sa.Integer(), nullable=False),
        sa.Column("max_tries", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=True),
        sa.Column("pool", sa.String(length=256), nullable=False),
        sa.Column("pool_slots", sa.Integer(), nullable=False),
        sa.Column("queue", sa.String(length=256), nullable=False),
        sa.Column("priority_weight", sa.Integer(), nullable=False),
        sa.Column("operator", sa.String(length=1000), nullable=True),
        sa.Column("custom_operator_name", sa.String(length=1000), nullable=True),
        sa.Column("task_display_name", sa.String(length=2000), nullable=True),
        sa.Column("hostname", sa.String(length=1000), nullable=True),
        sa.Column("pid", sa.Integer(), nullable=True),
        sa.Column("unixname", sa.String(length=1000), nullable=True),
        sa.Column("executor", sa.String(length=1000), nullable=True),
        sa.Column(
            "executor_config",
            json(),
            nullable=True,
        ),
        sa.Column("start_date", utc_datetime(), nullable=True),
        sa.Column("end_date", utc_datetime(), nullable=True),
        sa.Column("duration", sa.Float(), nullable=True),
        sa.Column("queued_dttm", utc_datetime(), nullable=True),
        sa.Column("queued_by_job_id", sa.Integer(), nullable=True),
        sa.Column("job_id", sa.Integer(), nullable=True),
        sa.Column("external_executor_id", sa.String(length=250), nullable=True),
        sa.Column("next_method", sa.String(length=1000), nullable=True),
        sa.Column(
            "next_kwargs",
            json(),
            nullable=True,
        ),
        sa.Column("trigger_timeout", utc_datetime(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column(
            "rendered_fields",
            json(),
            nullable=True,
        ),
        sa.Column("rendered_map_index", sa.String(length=250), nullable=True),
        sa.Column("last_heartbeat_at", utc_datetime(), nullable=True),
        sa.Column("updated_at", utc_datetime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["dag_id", "run_id"],
            ["dag_run.dag_id", "dag_run.run_id"],
            name=op.f("fk_task_instance_dag_id_dag_run"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["trigger_id"],
            ["trigger.id"],
            name=op.f("fk_task_instance_trigger_id_trigger"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_task_instance")),
        sa.UniqueConstraint(
            "dag_id",
            "run_id",
            "task_id",
            "map_index",
            name=op.f("uq_task_instance_dag_id_run_id_task_id_map_index"),
        ),
    )
    op.create_index(
        "ix_task_instance_dag_id_state", "task_instance", ["dag_id", "state"], unique=False
    )
    op.create_index(
        "ix_task_instance_dag_id_task_id", "task_instance", ["dag_id", "task_id"], unique=False
    )
    op.create_index("ix_task_instance_job_id", "task_instance", ["job_id"], unique=False)
    op.create_index(
        "ix_task_instance_pool_state",
        "task_instance",
        ["pool", "state", "priority_weight"],
        unique=False,
    )
    op.create_index(
        "ix_task_instance_queue_state", "task_instance", ["queue", "state"], unique=False
    )
    op.create_index("ix_task_instance_state", "task_instance", ["state"], unique=False)
    op.create_index("ix_task_instance_trigger_id", "task_instance", ["trigger_id"], unique=False)
    op.create_table(
        "task_instance_history",
        sa.Column("trigger_id", sa.Integer(), nullable=True),
        sa.Column("id", big_id(), autoincrement=True, nullable=False),
        sa.Column("dag_id", sa.String(length=250), nullable=False),
        sa.Column("run_id", sa.String(length=250), nullable=False),
        sa.Column("task_id", sa.String(length=250), nullable=False),
        sa.Column("map_index", sa.Integer(), nullable=False),
        sa.Column("try_number", sa.Integer(), nullable=False),
        sa.Column("max_tries", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=True),
        sa.Column("pool", sa.String(length=256), nullable=False),
        sa.Column("pool_slots", sa.Integer(), nullable=False),
        sa.Column("queue", sa.String(length=256), nullable=False),
        sa.Column("priority_weight", sa.Integer(), nullable=False),
        sa.Column("operator", sa.String(length=1000), nullable=True),
        sa.Column("custom_operator_name", sa.String(length=1000), nullable=True),
        sa.Column("task_display_name", sa.String(length=2000), nullable=True),
        sa.Column("hostname", sa.String(length=1000), nullable=True),
        sa.Column("pid", sa.Integer(), nullable=True),
        sa.Column("unixname", sa.String(length=1000), nullable=True),
        sa.Column("executor", sa.String(length=1000), nullable=True),
        sa.Column(
            "executor_config",
            json(),
            nullable=True,
        ),
        sa.Column("start_date", utc_datetime(), nullable=True),
        sa.Column("end_date", utc_datetime(), nullable=True),
        sa.Column("duration", sa.Float(), nullable=True),
        sa.Column("queued_dttm", utc_datetime(), nullable=True),
        sa.Column("queued_by_job_id", sa.Integer(), nullable=True),
        sa.Column("job_id", sa.Integer(), nullable=True),
        sa.Column("external_executor_id", sa.String(length=250), nullable=True),
        sa.Column("next_method", sa.String(length=1000), nullable=True),
        sa.Column(
            "next_kwargs",
            json(),
            nullable=True,
        ),
        sa.Column("trigger_timeout", utc_datetime(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column(
            "rendered_fields",
            json(),
            nullable=True,
        ),
        sa.Column("rendered_map_index", sa.String(length=250), nullable=True),
        sa.Column("last_heartbeat_at", utc_datetime(), nullable=True),
        sa.Column("updated_at", utc_datetime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["dag_id", "run_id", "task_id", "map_index"],
            [
                "task_instance.dag_id",
                "task_instance.run_id",
                "task_instance.task_id",
                "task_instance.map_index",
            ],
            name=op.f("fk_task_instance_history_dag_id_task_instance"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_task_instance_history")),
        sa.UniqueConstraint(
            "dag_id",
            "run_id",
            "task_id",
            "map_index",
            "try_number",
            name="uq_task_instance_history_try",
        ),
    )
    op.create_table(
        "task_map",
        sa.Column("dag_id", sa.String(length=250), nullable=False),
        sa.Column("run_id", sa.String(length=250), nullable=False),
        sa.Column("task_id", sa.String(length=250), nullable=False),
        sa.Column("map_index", sa.Integer(), nullable=False),
        sa.Column("length", sa.Integer(), nullable=False),
        sa.Column(
            "keys",
            json(),
            nullable=True,
        ),
        sa.ForeignKeyConstraint(
            ["dag_id", "run_id", "task_id", "map_index"],
            [
                "task_instance.dag_id",
                "task_instance.run_id",
                "task_instance.task_id",
                "task_instance.map_index",
            ],
            name=op.f("fk_task_map_dag_id_task_instance"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "dag_id", "run_id", "task_id", "map_index", name=op.f("pk_task_map")
        ),
    )
    op.create_table(
        "task_reschedule",
        sa.Column("id", big_id(), autoincrement=True, nullable=False),
        sa.Column("dag_id", sa.String(length=250), nullable=False),
        sa.Column("run_id", sa.String(length=250), nullable=False),
        sa.Column("task_id", sa.String(length=250), nullable=False),
        sa.Column("map_index", sa.Integer(), nullable=False),
        sa.Column("try_number", sa.Integer(), nullable=False),
        sa.Column("start_date", utc_datetime(), nullable=False),
        sa.Column("end_date", utc_datetime(), nullable=False),
        sa.Column("duration", sa.Float(), nullable=False),
        sa.Column("reschedule_date", utc_datetime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["dag_id", "run_id", "task_id", "map_index"],
            [
                "task_instance.dag_id",
                "task_instance.run_id",
                "task_instance.task_id",
                "task_instance.map_index",
            ],
            name=op.f("fk_task_reschedule_dag_id_task_instance"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_task_reschedule")),
    )
    op.create_index(
        "ix_task_reschedule_ti_key",
        "task_reschedule",
        ["dag_id", "run_id", "task_id", "map_index", "try_number"],
        unique=False,
    )
    op.create_table(
        "xcom",
        sa.Column("id", big_id(), autoincrement=True, nullable=False),
        sa.Column("dag_id", sa.String(length=250), nullable=False),
        sa.Column("run_id", sa.String(length=250), nullable=False),
        sa.Column("task_id", sa.String(length=250), nullable=False),
        sa.Column("map_index", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=512), nullable=False),
        sa.Column(
            "value",
            json(),
            nullable=True,
        ),
        sa.Column("timestamp", utc_datetime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["dag_id", "run_id", "task_id", "map_index"],
            [
                "task_instance.dag_id",
                "task_instance.run_id",
                "task_instance.task_id",
                "task_instance.map_index",
            ],
            name=op.f("fk_xcom_dag_id_task_instance"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_xcom")),
        sa.UniqueConstraint(
            "dag_id", "run_id", "task_id", "map_index", "key", name="uq_xcom_ti_key"
        ),
    )
    op.create_index(
        "ix_xcom_dag_id_task_id_key", "xcom", ["dag_id", "task_id", "key"], unique=False
    )

    _insert_default_pool()


def downgrade() -> None:
    op.drop_index("ix_xcom_dag_id_task_id_key", table_name="xcom")
    op.drop_table("xcom")
    op.drop_index("ix_task_reschedule_ti_key", table_name="task_reschedule")
    op.drop_table("task_reschedule")
    op.drop_table("task_map")
    op.drop_table("task_instance_history")
    op.drop_index("ix_task_instance_trigger_id", table_name="task_instance")
    op.drop_index("ix_task_instance_state", table_name="task_instance")
    op.drop_index("ix_task_instance_queue_state", table_name="task_instance")
    op.drop_index("ix_task_instance_pool_state", table_name="task_instance")
    op.drop_index("ix_task_instance_job_id", table_name="task_instance")
    op.drop_index("ix_task_instance_dag_id_task_id", table_name="task_instance")
    op.drop_index("ix_task_instance_dag_id_state", table_name="task_instance")
    op.drop_table("task_instance")
    op.drop_index("ix_dagrun_dataset_event_event_id", table_name="dagrun_dataset_event")
    op.drop_table("dagrun_dataset_event")
    op.drop_table("user_role")
    op.drop_table("task_outlet_dataset_reference")
    op.drop_table("serialized_dag")
    op.drop_table("role_permission")
    op.drop_index("ix_dataset_event_dataset_id_timestamp", table_name="dataset_event")
    op.drop_table("dataset_event")
    op.drop_table("dataset_dag_run_queue")
    op.drop_table("dag_warning")
    op.drop_table("dag_tag")
    op.drop_table("dag_schedule_dataset_reference")
    op.drop_index("ix_dag_run_state_last_scheduling_decision", table_name="dag_run")
    op.drop_index("ix_dag_run_start_date", table_name="dag_run")
    op.drop_index("ix_dag_run_logical_date", table_name="dag_run")
    op.drop_index("ix_dag_run_end_date", table_name="dag_run")
    op.drop_index("ix_dag_run_dag_id_state", table_name="dag_run")
    op.drop_table("dag_run")
    op.drop_table("dag_owner_link")
    op.drop_index("ix_api_token_user_id", table_name="api_token")
    op.drop_table("api_token")
    op.drop_table("variable")
    op.drop_table("user")
    op.drop_index("ix_trigger_triggerer_id", table_name="trigger")
    op.drop_table("trigger")
    op.drop_table("slot_pool")
    op.drop_table("role")
    op.drop_table("permission")
    op.drop_index("ix_log_event_dttm", table_name="log")
    op.drop_index("ix_log_dttm", table_name="log")
    op.drop_index("ix_log_dag_id_dttm", table_name="log")
    op.drop_table("log")
    op.drop_index("ix_job_type_state_heartbeat", table_name="job")
    op.drop_index("ix_job_dag_id", table_name="job")
    op.drop_table("job")
    op.drop_index("ix_import_error_filename", table_name="import_error")
    op.drop_table("import_error")
    op.drop_table("dataset")
    op.drop_table("dag_code")
    op.drop_index("ix_dag_next_dagrun_create_after", table_name="dag")
    op.drop_index("ix_dag_is_active_is_paused", table_name="dag")
    op.drop_table("dag")
    op.drop_table("connection")
    op.drop_index("ix_callback_request_claimed_by_job_id", table_name="callback_request")
    op.drop_table("callback_request")
