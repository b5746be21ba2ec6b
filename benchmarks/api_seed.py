"""Bulk data for the API benchmarks: many DAGs, runs and task instances, inserted directly.

The rows look like the DAG processor's and the scheduler's (active, unpaused DAGs with
tags and a cron schedule; finished runs; task instances with one try each), but are
written with multi-row Core inserts in a few transactions, so 100,000 task instances
take seconds rather than the hours a scheduler would need to produce them.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from tradewind.storage.tables import DagRow, DagRunRow, DagTagRow, TaskInstanceRow

#: Rows per INSERT statement's parameter list; bounds the memory of one batch.
BATCH = 10_000
EPOCH = datetime(2024, 1, 1, tzinfo=UTC)


def seed(engine: sa.Engine, dags: int, runs_per_dag: int, tasks_per_run: int) -> float:
    """Insert ``dags`` DAGs, each with ``runs_per_dag`` runs of ``tasks_per_run`` task
    instances; returns the seconds it took."""
    began = time.monotonic()
    dag_ids = [f"bench_api_{number:04d}" for number in range(dags)]
    with engine.begin() as connection:
        connection.execute(sa.insert(DagRow), [_dag(dag_id) for dag_id in dag_ids])
        connection.execute(
            sa.insert(DagTagRow),
            [{"dag_id": dag_id, "name": tag} for dag_id in dag_ids for tag in ("bench", "api")],
        )
        connection.execute(
            sa.insert(DagRunRow),
            [_run(dag_id, day) for dag_id in dag_ids for day in range(runs_per_dag)],
        )
    for batch in _batches(_task_instances(dag_ids, runs_per_dag, tasks_per_run)):
        with engine.begin() as connection:
            connection.execute(sa.insert(TaskInstanceRow), batch)
    return time.monotonic() - began


def _dag(dag_id: str) -> dict[str, Any]:
    return {
        "dag_id": dag_id,
        "is_paused": False,
        "is_active": True,
        "last_parsed_time": EPOCH,
        "fileloc": f"/opt/dags/{dag_id}.py",
        "owners": "data-eng",
        "description": "A DAG of the API benchmark",
        "default_view": "grid",
        "timetable_summary": "0 2 * * *",
        "timetable_description": "At 02:00",
        "schedule_interval": {"__type": "CronExpression", "expression": "0 2 * * *"},
        "max_active_tasks": 16,
        "max_active_runs": 16,
        "has_task_concurrency_limits": False,
        "has_import_errors": False,
    }


def _run(dag_id: str, day: int) -> dict[str, Any]:
    logical = EPOCH + timedelta(days=day)
    return {
        "dag_id": dag_id,
        "run_id": f"scheduled__{logical.isoformat()}",
        "run_type": "scheduled",
        "logical_date": logical,
        "data_interval_start": logical,
        "data_interval_end": logical + timedelta(days=1),
        "state": "failed" if day % 7 == 6 else "success",
        "conf": {},
        "queued_at": logical + timedelta(days=1),
        "start_date": logical + timedelta(days=1, seconds=1),
        "end_date": logical + timedelta(days=1, seconds=90),
        "external_trigger": False,
        "clear_number": 0,
    }


def _task_instances(
    dag_ids: list[str], runs_per_dag: int, tasks_per_run: int
) -> Iterator[dict[str, Any]]:
    for dag_id in dag_ids:
        for day in range(runs_per_dag):
            logical = EPOCH + timedelta(days=day)
            run_id = f"scheduled__{logical.isoformat()}"
            for task in range(tasks_per_run):
                start = logical + timedelta(days=1, seconds=2 + task * 8)
                yield {
                    "dag_id": dag_id,
                    "run_id": run_id,
                    "task_id": f"task_{task:02d}",
                    "map_index": -1,
                    "try_number": 1,
                    "max_tries": 1,
                    "state": "success",
                    "pool": "default_pool",
                    "queue": "default",
                    "priority_weight": tasks_per_run - task,
                    "operator": "PythonOperator",
                    "hostname": "worker-1",
                    "unixname": "tradewind",
                    "executor": "LocalExecutor",
                    "start_date": start,
                    "end_date": start + timedelta(seconds=7),
                    "duration": 7.0,
                    "queued_dttm": start - timedelta(seconds=1),
                }


def _batches(rows: Iterator[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    batch: list[dict[str, Any]] = []
    for row in rows:
        batch.append(row)
        if len(batch) == BATCH:
            yield batch
            batch = []
    if batch:
        yield batch
