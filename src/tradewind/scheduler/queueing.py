"""Which ``scheduled`` task instances get a slot now: Airflow 2.10's admission order and limits.

Candidates from every running run are ordered by effective priority (the DAG's
``priority_weights()``, highest first), then by their run's logical date (oldest
first), then by task id and map index, so the order is stable from pass to pass.
Each is admitted while all of these hold, counting the ones admitted before it in
this pass:

* queued + running task instances overall < ``[core] parallelism``;
* admitted in this pass < the executor's open slots;
* the DAG's queued + running < its ``max_active_tasks``;
* the task's queued + running across runs < its ``max_active_tis_per_dag`` (if set);
* its pool exists and has ``pool_slots`` free (``slots - occupied - taken``; a pool
  of negative size, Airflow's ``-1``, is unlimited).

The first two stop admission altogether; the others skip only that candidate, so a
lower-priority task instance of another DAG or pool may still go (as in Airflow). A
task instance whose pool does not exist stays ``scheduled``.

**The guard of a queue transition is the row as stored.** A candidate that this same
pass found ready (stored ``None`` or ``up_for_retry``) and that gets a slot is
emitted once, as ``stored state -> queued`` (both legal transitions), never as two
transitions through ``scheduled``: the loop applies each transition as
``UPDATE ... WHERE state = :expected_state AND try_number = :expected_try_number``,
and the row never held ``scheduled``. One that gets no slot is emitted as ``stored
state -> scheduled`` instead, and competes again in the next pass. Every queue
transition carries ``try_number + 1``, the try the worker will run.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping

from tradewind.scheduler.model import DagSnapshot, Snapshot, TaskTransition
from tradewind.scheduler.readiness import Candidate
from tradewind.sdk.states import TaskInstanceState

_TI = TaskInstanceState


def admit(
    candidates: Iterable[Candidate], snapshot: Snapshot, dags: Mapping[str, DagSnapshot]
) -> tuple[list[TaskTransition], list[TaskTransition]]:
    """Split ``candidates`` into queue transitions and newly ``scheduled`` ones.

    Returns:
        ``(to_queue, to_schedule)``: ``to_queue`` in admission order (highest
        priority first); ``to_schedule`` holds the candidates not admitted whose
        stored state is not already ``scheduled``.
    """
    ordered = sorted(
        candidates,
        key=lambda c: (-c.priority, c.logical_date, c.ti.task_id, c.ti.map_index),
    )
    room = min(snapshot.parallelism - snapshot.active_tis, snapshot.executor_open_slots)
    by_dag: Counter[str] = Counter()
    by_task: Counter[tuple[str, str]] = Counter()
    pool_taken: Counter[str] = Counter()
    to_queue: list[TaskTransition] = []
    to_schedule: list[TaskTransition] = []
    for candidate in ordered:
        ti = candidate.ti
        if len(to_queue) < room and _fits(candidate, snapshot, dags, by_dag, by_task, pool_taken):
            by_dag[candidate.dag_id] += 1
            by_task[candidate.dag_id, ti.task_id] += 1
            pool_taken[ti.pool] += ti.pool_slots
            to_queue.append(_transition(candidate, _TI.QUEUED, ti.try_number + 1))
        elif candidate.stored_state != _TI.SCHEDULED:
            to_schedule.append(_transition(candidate, _TI.SCHEDULED, ti.try_number))
    return to_queue, to_schedule


def _fits(
    candidate: Candidate,
    snapshot: Snapshot,
    dags: Mapping[str, DagSnapshot],
    by_dag: Counter[str],
    by_task: Counter[tuple[str, str]],
    pool_taken: Counter[str],
) -> bool:
    ti, dag_id = candidate.ti, candidate.dag_id
    dag_active = snapshot.active_tis_by_dag.get(dag_id, 0) + by_dag[dag_id]
    if dag_active >= dags[dag_id].max_active_tasks:
        return False
    limit = candidate.max_active_tis_per_dag
    if limit is not None:
        key = (dag_id, ti.task_id)
        if snapshot.active_tis_by_task.get(key, 0) + by_task[key] >= limit:
            return False
    pool = snapshot.pools.get(ti.pool)
    if pool is None:
        return False
    return pool.slots < 0 or pool.slots - pool.occupied - pool_taken[ti.pool] >= ti.pool_slots


def _transition(candidate: Candidate, state: str, try_number: int) -> TaskTransition:
    ti = candidate.ti
    return TaskTransition(
        ti_id=ti.id,
        expected_state=candidate.stored_state,
        expected_try_number=ti.try_number,
        state=state,
        try_number=try_number,
    )
