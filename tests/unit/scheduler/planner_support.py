"""Builders of planner snapshots from real SDK DAGs, and readers of the decisions."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta

from tradewind.scheduler.model import (
    DagSnapshot,
    Decisions,
    PoolSnapshot,
    RunSnapshot,
    Snapshot,
    TaskInstanceSnapshot,
)
from tradewind.sdk import DAG
from tradewind.sdk.timetables import TimeRestriction
from tradewind.serialization import SerializedDAG, deserialize_dag, serialize_dag

START = datetime(2024, 1, 1, tzinfo=UTC)
NOW = datetime(2024, 6, 1, 12, tzinfo=UTC)
LOGICAL = datetime(2024, 5, 31, tzinfo=UTC)
DEFAULT_POOL = "default_pool"


def serialized(dag: DAG) -> SerializedDAG:
    return deserialize_dag(serialize_dag(dag))


def dag_snapshot(
    dag: SerializedDAG,
    *,
    is_paused: bool = False,
    max_active_runs: int = 16,
    max_active_tasks: int = 16,
    catchup: bool = True,
    active_runs: int = 0,
    now: datetime = NOW,
    due: bool = False,
) -> DagSnapshot:
    """The DAG as the loop would read it; ``due`` fills the next-run fields as the
    loop does for a DAG that never ran (first timetable answer at ``now``)."""
    fields: dict[str, object] = {}
    if due:
        info = dag.timetable.next_dagrun_info(
            last_automated_data_interval=None,
            restriction=TimeRestriction(dag.start_date, dag.end_date, catchup, now),
        )
        assert info is not None
        fields = {
            "next_dagrun": info.logical_date,
            "next_dagrun_data_interval": (info.data_interval.start, info.data_interval.end),
            "next_dagrun_create_after": info.run_after,
        }
    return DagSnapshot(
        dag_id=dag.dag_id,
        dag=dag,
        is_paused=is_paused,
        max_active_runs=max_active_runs,
        max_active_tasks=max_active_tasks,
        catchup=catchup,
        active_runs=active_runs,
        **fields,  # type: ignore[arg-type]
    )


def run_of(
    dag: SerializedDAG,
    states: Mapping[str, str | None] | None = None,
    *,
    id: int = 1,
    logical_date: datetime = LOGICAL,
    start_date: datetime | None = None,
    state: str = "running",
    tries: Mapping[str, int] | None = None,
    end_dates: Mapping[str, datetime] | None = None,
    extra: Iterable[TaskInstanceSnapshot] = (),
) -> RunSnapshot:
    """A run of ``dag`` with one task instance per task, in the given states (default None).

    Task instance ids are ``id * 100_000 + position``, so they are unique across runs.
    """
    states = states or {}
    tis = tuple(
        TaskInstanceSnapshot(
            id=id * 100_000 + position,
            task_id=task.task_id,
            map_index=-1,
            state=states.get(task.task_id),
            try_number=(tries or {}).get(task.task_id, 1 if states.get(task.task_id) else 0),
            max_tries=task.retries,
            pool=task.pool,
            pool_slots=task.pool_slots,
            priority_weight=task.priority_weight,
            end_date=(end_dates or {}).get(task.task_id),
        )
        for position, task in enumerate(dag.tasks)
    )
    return RunSnapshot(
        id=id,
        dag_id=dag.dag_id,
        run_id=f"scheduled__{logical_date.isoformat()}",
        run_type="scheduled",
        state=state,
        logical_date=logical_date,
        data_interval_start=logical_date,
        data_interval_end=logical_date + timedelta(days=1),
        queued_at=logical_date,
        start_date=start_date if start_date is not None else NOW - timedelta(minutes=1),
        task_instances=tis + tuple(extra),
    )


def snapshot(
    dags: Iterable[DagSnapshot],
    runs: Iterable[RunSnapshot] = (),
    *,
    now: datetime = NOW,
    parallelism: int = 32,
    executor_open_slots: int = 32,
    pools: Iterable[PoolSnapshot] = (),
    active_tis: int = 0,
    active_tis_by_dag: Mapping[str, int] | None = None,
    active_tis_by_task: Mapping[tuple[str, str], int] | None = None,
    previous_ti_states: Mapping[tuple[str, str, str], str | None] | None = None,
) -> Snapshot:
    pool_map = {DEFAULT_POOL: PoolSnapshot(DEFAULT_POOL, 128, 0)}
    pool_map.update({pool.name: pool for pool in pools})
    return Snapshot(
        now=now,
        parallelism=parallelism,
        executor_open_slots=executor_open_slots,
        dags={dag.dag_id: dag for dag in dags},
        runs=tuple(runs),
        pools=pool_map,
        active_tis=active_tis,
        active_tis_by_dag=active_tis_by_dag or {},
        active_tis_by_task=active_tis_by_task or {},
        previous_ti_states=previous_ti_states or {},
    )


def outcome(decisions: Decisions, run: RunSnapshot) -> dict[str, str | None]:
    """Task id -> the state this pass moves it to (``queued`` for queue transitions);
    task instances with no decision are absent."""
    task_of = {ti.id: ti.task_id for ti in run.task_instances}
    found: dict[str, str | None] = {}
    for transition in decisions.task_transitions + decisions.tis_to_queue:
        if transition.ti_id in task_of:
            assert task_of[transition.ti_id] not in found, "two transitions for one TI"
            found[task_of[transition.ti_id]] = transition.state
    return found


def queued_task_ids(decisions: Decisions, *runs: RunSnapshot) -> list[str]:
    """Task ids of ``tis_to_queue`` in admission order (``task@run id`` across runs)."""
    names = {ti.id: f"{ti.task_id}@{run.id}" for run in runs for ti in run.task_instances}
    if len(runs) == 1:
        names = {ti_id: name.split("@")[0] for ti_id, name in names.items()}
    return [names[t.ti_id] for t in decisions.tis_to_queue]
