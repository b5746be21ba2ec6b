"""DAG features users rely on, run for real: scheduler ticks, real workers (InlineExecutor),
the database, a frozen clock. Each test writes a DAG file, triggers a run and checks the
states the user would see."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from scheduler_support import Clock, drive, run_state, store_dag_file, ti_states, trigger
from sqlalchemy.orm import Session, sessionmaker

from tradewind.scheduler.loop import Scheduler
from tradewind.serialization import deserialize_dag
from tradewind.services.task_instances import clear_task_instances
from tradewind.storage.engine import transaction
from tradewind.storage.tables import (
    PoolRow,
    SerializedDagRow,
    TaskInstanceHistoryRow,
    XComRow,
)

pytestmark = pytest.mark.db

HEADER = """
from datetime import datetime, timedelta
from pathlib import Path
from tradewind import DAG, task
from tradewind.operators.bash import BashOperator
from tradewind.operators.empty import EmptyOperator
from tradewind.operators.python import (
    BranchPythonOperator, PythonOperator, ShortCircuitOperator,
)
START = datetime(2024, 1, 1)
"""


def _finished(session_factory: sessionmaker[Session], dag_id: str, run_id: str) -> bool:
    return run_state(session_factory, dag_id, run_id) in ("success", "failed")


def _states(session_factory: sessionmaker[Session], dag_id: str, run_id: str) -> dict[str, str]:
    return {
        task: str(state)
        for (run, task), (state, _) in ti_states(session_factory, dag_id).items()
        if run == run_id
    }


def _run(
    scheduler: Scheduler,
    session_factory: sessionmaker[Session],
    folder: Path,
    dag_id: str,
    body: str,
) -> str:
    store_dag_file(session_factory, folder, dag_id, HEADER + body)
    run_id = trigger(session_factory, dag_id)
    drive(scheduler, lambda: _finished(session_factory, dag_id, run_id), max_ticks=80)
    return run_id


def test_branching_runs_the_chosen_branch_and_joins(
    scheduler: Scheduler, session_factory: sessionmaker[Session], dags_folder: Path
) -> None:
    run_id = _run(
        scheduler,
        session_factory,
        dags_folder,
        "branchy",
        """
with DAG("branchy", schedule=None, start_date=START):
    choose = BranchPythonOperator(task_id="choose", python_callable=lambda: "left")
    left, right = EmptyOperator(task_id="left"), EmptyOperator(task_id="right")
    after_right = EmptyOperator(task_id="after_right")
    join = EmptyOperator(task_id="join", trigger_rule="none_failed_min_one_success")
    choose >> [left, right]
    right >> after_right
    [left, after_right] >> join
""",
    )
    assert run_state(session_factory, "branchy", run_id) == "success"
    assert _states(session_factory, "branchy", run_id) == {
        "choose": "success",
        "left": "success",
        "right": "skipped",
        "after_right": "skipped",
        "join": "success",
    }


def test_a_false_short_circuit_skips_everything_downstream(
    scheduler: Scheduler, session_factory: sessionmaker[Session], dags_folder: Path
) -> None:
    run_id = _run(
        scheduler,
        session_factory,
        dags_folder,
        "shorty",
        """
with DAG("shorty", schedule=None, start_date=START):
    gate = ShortCircuitOperator(task_id="gate", python_callable=lambda: False)
    gate >> EmptyOperator(task_id="a") >> EmptyOperator(task_id="b", trigger_rule="all_done")
""",
    )
    assert run_state(session_factory, "shorty", run_id) == "success"
    assert _states(session_factory, "shorty", run_id) == {
        "gate": "success",
        "a": "skipped",
        "b": "skipped",
    }


def test_a_failure_fans_out_by_trigger_rule_and_fails_the_run(
    scheduler: Scheduler, session_factory: sessionmaker[Session], dags_folder: Path
) -> None:
    run_id = _run(
        scheduler,
        session_factory,
        dags_folder,
        "fanin",
        """
def boom():
    raise ValueError("boom")

with DAG("fanin", schedule=None, start_date=START):
    ok = EmptyOperator(task_id="ok")
    bad = PythonOperator(task_id="bad", python_callable=boom)
    upstream = [ok, bad]
    upstream >> EmptyOperator(task_id="needs_all")
    upstream >> EmptyOperator(task_id="on_failure", trigger_rule="one_failed")
    upstream >> EmptyOperator(task_id="cleanup", trigger_rule="all_done")
    upstream >> EmptyOperator(task_id="one_ok", trigger_rule="one_success")
""",
    )
    assert _states(session_factory, "fanin", run_id) == {
        "ok": "success",
        "bad": "failed",
        "needs_all": "upstream_failed",
        "on_failure": "success",
        "cleanup": "success",
        "one_ok": "success",
    }
    assert run_state(session_factory, "fanin", run_id) == "failed"


def test_taskflow_values_travel_through_xcom_in_the_database(
    scheduler: Scheduler, session_factory: sessionmaker[Session], dags_folder: Path
) -> None:
    run_id = _run(
        scheduler,
        session_factory,
        dags_folder,
        "flow",
        """
with DAG("flow", schedule=None, start_date=START):
    @task
    def numbers():
        return [1, 2, 3]

    @task
    def total(values):
        return sum(values)

    total(numbers())
""",
    )
    assert run_state(session_factory, "flow", run_id) == "success"
    with transaction(session_factory) as session:
        value = session.scalar(
            sa.select(XComRow.value).where(
                XComRow.dag_id == "flow", XComRow.task_id == "total", XComRow.key == "return_value"
            )
        )
    assert value == 6


def test_a_failed_try_is_retried_after_its_delay(
    scheduler: Scheduler,
    session_factory: sessionmaker[Session],
    dags_folder: Path,
    clock: Clock,
    tmp_path: Path,
) -> None:
    marker = tmp_path / "tries.txt"
    store_dag_file(
        session_factory,
        dags_folder,
        "flaky",
        HEADER
        + f"""
def flaky():
    marker = Path({str(marker)!r})
    marker.write_text(marker.read_text() + "x" if marker.exists() else "x")
    if len(marker.read_text()) < 2:
        raise RuntimeError("first try fails")

with DAG("flaky", schedule=None, start_date=START):
    PythonOperator(
        task_id="flaky", python_callable=flaky, retries=2, retry_delay=timedelta(seconds=30)
    )
""",
    )
    run_id = trigger(session_factory, "flaky")
    drive(scheduler)
    assert ti_states(session_factory, "flaky")[(run_id, "flaky")] == ("up_for_retry", 1)

    clock.advance(10)
    drive(scheduler)
    assert ti_states(session_factory, "flaky")[(run_id, "flaky")] == ("up_for_retry", 1)

    clock.advance(25)
    drive(scheduler, lambda: _finished(session_factory, "flaky", run_id))
    assert ti_states(session_factory, "flaky")[(run_id, "flaky")] == ("success", 2)
    assert marker.read_text() == "xx"
    with transaction(session_factory) as session:
        archived = session.scalars(sa.select(TaskInstanceHistoryRow.try_number)).all()
    assert archived == [1]


def test_execution_timeout_fails_a_task_that_runs_too_long(
    scheduler: Scheduler, session_factory: sessionmaker[Session], dags_folder: Path
) -> None:
    run_id = _run(
        scheduler,
        session_factory,
        dags_folder,
        "slow",
        """
import time

with DAG("slow", schedule=None, start_date=START):
    PythonOperator(
        task_id="sleepy",
        python_callable=lambda: time.sleep(30),
        execution_timeout=timedelta(seconds=1),
    )
""",
    )
    assert _states(session_factory, "slow", run_id) == {"sleepy": "failed"}
    assert run_state(session_factory, "slow", run_id) == "failed"


def test_a_pool_admits_its_slots_and_priority_picks_who_goes_first(
    scheduler: Scheduler,
    session_factory: sessionmaker[Session],
    dags_folder: Path,
    tmp_path: Path,
) -> None:
    order_file = tmp_path / "order.txt"
    with transaction(session_factory) as session:
        session.add(PoolRow(name="single", slots=1, description="one at a time"))
    run_id = _run(
        scheduler,
        session_factory,
        dags_folder,
        "pooled",
        f"""
def record(name):
    with open({str(order_file)!r}, "a") as out:
        out.write(name + "\\n")

with DAG("pooled", schedule=None, start_date=START):
    for name, weight in (("low", 1), ("high", 10), ("mid", 5)):
        PythonOperator(
            task_id=name, python_callable=record, op_args=[name],
            pool="single", priority_weight=weight,
        )
""",
    )
    assert run_state(session_factory, "pooled", run_id) == "success"
    assert order_file.read_text().split() == ["high", "mid", "low"]


def test_depends_on_past_waits_for_the_previous_run(
    scheduler: Scheduler,
    session_factory: sessionmaker[Session],
    dags_folder: Path,
    clock: Clock,
) -> None:
    first = _run(
        scheduler,
        session_factory,
        dags_folder,
        "past",
        """
def fail():
    raise RuntimeError("no")

with DAG("past", schedule=None, start_date=START):
    PythonOperator(task_id="step", python_callable=fail, depends_on_past=True)
""",
    )
    assert run_state(session_factory, "past", first) == "failed"

    clock.advance(3600)
    second = trigger(session_factory, "past", now=clock.now)
    drive(scheduler)
    state, tries = ti_states(session_factory, "past")[(second, "step")]
    assert tries == 0 and state in (None, "scheduled")
    assert run_state(session_factory, "past", second) == "running"


def test_clearing_a_failed_task_runs_it_again_and_keeps_the_first_try(
    scheduler: Scheduler,
    session_factory: sessionmaker[Session],
    dags_folder: Path,
    clock: Clock,
    tmp_path: Path,
) -> None:
    flag = tmp_path / "fixed"
    run_id = _run(
        scheduler,
        session_factory,
        dags_folder,
        "fixme",
        f"""
def check():
    if not Path({str(flag)!r}).exists():
        raise RuntimeError("not fixed yet")

with DAG("fixme", schedule=None, start_date=START):
    PythonOperator(task_id="check", python_callable=check) >> EmptyOperator(task_id="after")
""",
    )
    assert run_state(session_factory, "fixme", run_id) == "failed"

    flag.touch()
    clock.advance(60)
    with transaction(session_factory) as session:
        data = session.scalar(
            sa.select(SerializedDagRow.data).where(SerializedDagRow.dag_id == "fixme")
        )
        cleared = clear_task_instances(
            session,
            "fixme",
            serialized_dag=deserialize_dag(data),
            now=clock.now,
            only_failed=True,
            reset_dag_runs=True,
        )
    assert {ti.task_id for ti in cleared} == {"check", "after"}
    drive(scheduler, lambda: _finished(session_factory, "fixme", run_id))

    assert run_state(session_factory, "fixme", run_id) == "success"
    assert ti_states(session_factory, "fixme")[(run_id, "check")] == ("success", 2)
    with transaction(session_factory) as session:
        history = session.execute(
            sa.select(TaskInstanceHistoryRow.task_id, TaskInstanceHistoryRow.try_number)
        ).all()
    assert ("check", 1) in history


def test_conf_reaches_a_templated_bash_command(
    scheduler: Scheduler,
    session_factory: sessionmaker[Session],
    dags_folder: Path,
    tmp_path: Path,
) -> None:
    out = tmp_path / "out.txt"
    store_dag_file(
        session_factory,
        dags_folder,
        "templated",
        HEADER
        + f"""
with DAG("templated", schedule=None, start_date=START, params={{"who": "world"}}):
    BashOperator(task_id="say", bash_command="echo hello {{{{ params.who }}}} > {out}")
""",
    )
    run_id = trigger(session_factory, "templated")
    drive(scheduler, lambda: _finished(session_factory, "templated", run_id))
    assert run_state(session_factory, "templated", run_id) == "success"
    assert out.read_text().strip() == "hello world"


def test_retry_delay_keeps_the_task_waiting_in_up_for_retry(
    scheduler: Scheduler, session_factory: sessionmaker[Session], dags_folder: Path, clock: Clock
) -> None:
    store_dag_file(
        session_factory,
        dags_folder,
        "always_fails",
        HEADER
        + """
def fail():
    raise RuntimeError("still broken")

with DAG("always_fails", schedule=None, start_date=START):
    PythonOperator(
        task_id="t",
        python_callable=fail,
        retries=1,
        retry_delay=timedelta(seconds=5),
        retry_exponential_backoff=False,
    )
""",
    )
    run_id = trigger(session_factory, "always_fails")
    drive(scheduler)
    clock.advance(timedelta(seconds=6).total_seconds())
    drive(scheduler, lambda: _finished(session_factory, "always_fails", run_id))
    assert ti_states(session_factory, "always_fails")[(run_id, "t")] == ("failed", 2)
    assert run_state(session_factory, "always_fails", run_id) == "failed"
