"""The scheduler's decisions, made from a snapshot and nothing else.

``plan(snapshot) -> Decisions`` is a pure function: no database, no clock (the
instant is ``snapshot.now``), no I/O. ``loop.py`` reads the :class:`Snapshot` in one
transaction and applies the :class:`Decisions` with guarded updates; a decision
whose guard no longer holds is dropped, so planning on slightly stale data is safe.
The semantics are Airflow 2.10's, the same as the in-process runner of
``tradewind dags test``. One pass decides, in this order:

1. runs to create, for DAGs whose next scheduled run is due (:mod:`.runs`);
2. queued runs to start (:mod:`.runs`); their task instances appear, created by the
   loop, in the next snapshot;
3. for each running run of a DAG that is not paused (or that is a backfill run,
   :data:`.runs.RUN_TYPES_IGNORING_PAUSE`): timeout, then each task
   instance's readiness in topological order, cascading within the pass, then
   whether the run is finished (:mod:`.readiness`);
4. which ``scheduled`` task instances (including those found ready in step 3) take
   a slot, by priority, under parallelism, executor, DAG, task and pool limits
   (:mod:`.queueing`, whose docstring explains why a task instance found ready and
   queued in the same pass gets a single ``stored state -> queued`` transition).

Cost: O(tasks + edges) per running run, plus sorting the candidates for slots; each
DAG's topological order, leaves and priority weights are computed once per call
(and memoised on the serialized DAG). Zombie detection is the loop's (heartbeats).

Runs of DAGs missing from ``snapshot.dags``, or whose edges form a cycle, are left
alone and named in ``Decisions.problems`` for the loop to log.

A run's finish is decided on the states *after* this pass's task decisions (as
Airflow's ``DagRun.update_state`` does), so a cascade and the run's end land in one
pass. The loop applies task transitions before run transitions; if a task transition
of a run loses its guard, the loop should drop that run's finish and let the next
pass decide again.
"""

from __future__ import annotations

from tradewind.errors import CycleError
from tradewind.scheduler.model import Decisions, RunTransition, Snapshot, TaskTransition
from tradewind.scheduler.queueing import admit
from tradewind.scheduler.readiness import Candidate, DagPlan, decide_run
from tradewind.scheduler.runs import RUN_TYPES_IGNORING_PAUSE, create_runs, start_runs
from tradewind.sdk.states import DagRunState

__all__ = ["plan"]


def plan(snapshot: Snapshot) -> Decisions:
    """Everything the scheduler should do now, given ``snapshot``.

    Never raises for a problem confined to one DAG (a broken timetable, a cyclic
    document): that DAG is skipped and the problem listed in ``Decisions.problems``.
    """
    problems: list[str] = []
    runs_to_create = create_runs(snapshot, problems)
    runs_to_start = start_runs(snapshot, problems)
    plans: dict[str, DagPlan | None] = {}
    transitions: list[TaskTransition] = []
    candidates: list[Candidate] = []
    finished: list[RunTransition] = []
    for run in snapshot.runs:
        if run.state != DagRunState.RUNNING:
            continue
        if run.dag_id not in plans:
            plans[run.dag_id] = _dag_plan(run.dag_id, snapshot, problems)
        dag_plan = plans[run.dag_id]
        if dag_plan is None:
            continue
        if dag_plan.dag.is_paused and run.run_type not in RUN_TYPES_IGNORING_PAUSE:
            continue  # Airflow examines no run of a paused DAG
        outcome = decide_run(run, dag_plan, snapshot.now, snapshot.previous_ti_states)
        transitions.extend(outcome.transitions)
        candidates.extend(outcome.candidates)
        if outcome.finish is not None:
            finished.append(outcome.finish)
    dags = {dag_id: p.dag for dag_id, p in plans.items() if p is not None}
    to_queue, to_schedule = admit(candidates, snapshot, dags)
    return Decisions(
        runs_to_create=tuple(runs_to_create),
        runs_to_start=tuple(runs_to_start),
        task_transitions=tuple(transitions + to_schedule),
        tis_to_queue=tuple(to_queue),
        runs_to_finish=tuple(finished),
        problems=tuple(problems),
    )


def _dag_plan(dag_id: str, snapshot: Snapshot, problems: list[str]) -> DagPlan | None:
    """The DAG's precomputed plan; None when its runs must be left alone this pass."""
    dag = snapshot.dags.get(dag_id)
    if dag is None:
        problems.append(f"DAG {dag_id!r} has running runs but is not in the snapshot")
        return None
    try:
        return DagPlan.of(dag)
    except CycleError as exc:
        problems.append(f"DAG {dag_id!r}: {exc}")
        return None
