"""The executor contract: one behaviour suite, run against InlineExecutor and LocalExecutor.

Every test runs on each database backend (SQLite, PostgreSQL) and each executor. A
test creates queued task instance rows by hand (what the scheduler would do), queues
their workloads and drives the executor as the scheduler loop does: ``select`` on
``wait_fileno`` then ``poll_events``. Tests that crash or kill a task process only
make sense with process isolation and run on LocalExecutor only.
"""

from __future__ import annotations

import os
import select
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from executor_support import DAG_SOURCE, active_children, is_alive, make_try, requeue
from sqlalchemy.orm import Session, sessionmaker

from tradewind.config import Settings
from tradewind.dag_processing.processor import collect_dags
from tradewind.executors.base import Executor, TaskEvent, TaskWorkload
from tradewind.executors.inline import InlineExecutor
from tradewind.executors.local import LocalExecutor
from tradewind.storage.engine import transaction
from tradewind.storage.repositories.connections import create_connection
from tradewind.storage.repositories.variables import create_variable
from tradewind.storage.tables import TaskInstanceRow
from tradewind.storage.tables.task_instance import TaskInstanceHistoryRow
from tradewind.storage.tables.xcom import XComRow


@pytest.fixture(params=["inline", "local"])
def kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def dag_file(tmp_path: Path) -> Path:
    path = tmp_path / "dags" / "contract_dag.py"
    path.parent.mkdir()
    path.write_text(DAG_SOURCE.format(side_effects=str(tmp_path / "side_effects.txt")))
    return path


@pytest.fixture
def executor(
    kind: str, settings: Settings, session_factory: sessionmaker[Session]
) -> Iterator[Executor]:
    made: Executor
    if kind == "inline":
        made = InlineExecutor(settings, session_factory=session_factory, dag_loader=collect_dags)
    else:
        made = LocalExecutor(2, settings, dag_loader=collect_dags, heartbeat_interval=0.05)
    made.start()
    workers = list(getattr(made, "worker_pids", ()))
    yield made
    made.end(timeout=5)
    assert not [pid for pid in workers if is_alive(pid) or pid in active_children()]


@pytest.fixture
def local(kind: str, executor: Executor) -> LocalExecutor:
    """The executor, for tests that need worker processes (skipped for the inline one)."""
    if kind == "inline":
        pytest.skip("the inline executor runs tries in the calling process")
    assert isinstance(executor, LocalExecutor)
    return executor


def run(executor: Executor, *workloads: TaskWorkload, timeout: float = 20) -> list[TaskEvent]:
    """Queue the workloads and collect events until the executor is idle again."""
    for workload in workloads:
        executor.queue(workload)
    events: list[TaskEvent] = []
    deadline = time.monotonic() + timeout
    slots = getattr(executor, "parallelism", 0)
    while time.monotonic() < deadline:
        fd = executor.wait_fileno()
        select.select([fd] if fd is not None else [], [], [], 0.05)
        events.extend(executor.poll_events())
        if executor.open_slots() == slots:
            return events
    raise AssertionError(f"executor still busy after {timeout} s; events so far: {events}")


def ti_row(sessions: sessionmaker[Session], workload: TaskWorkload) -> TaskInstanceRow:
    with sessions() as session:
        return session.get_one(TaskInstanceRow, workload.ti_id)


def final(events: list[TaskEvent]) -> list[tuple[str, str, bool]]:
    return [(e.workload.task_id, e.state, e.lost) for e in events if e.state != "running"]


def test_a_try_runs_and_records_success(
    executor: Executor, session_factory: sessionmaker[Session], dag_file: Path
) -> None:
    work = make_try(session_factory, dag_file, "push")
    events = run(executor, work)
    assert [(e.state, e.lost) for e in events] == [("running", False), ("success", False)]
    row = ti_row(session_factory, work)
    assert row.state == "success" and row.try_number == 1
    assert row.hostname and row.pid and row.pid > 0 and row.unixname
    assert row.start_date is not None and row.end_date is not None
    assert row.end_date >= row.start_date and row.duration is not None and row.duration >= 0
    assert row.last_heartbeat_at is not None
    assert row.rendered_fields == {"templates_dict": None, "op_args": [], "op_kwargs": {}}


def test_xcom_pushed_upstream_is_pulled_downstream(
    executor: Executor, session_factory: sessionmaker[Session], dag_file: Path
) -> None:
    push = make_try(session_factory, dag_file, "push")
    pull = make_try(session_factory, dag_file, "pull", run_id=push.run_id)
    run(executor, push)
    assert final(run(executor, pull)) == [("pull", "success", False)]
    with session_factory() as session:
        values = {row.task_id: row.value for row in session.execute(sa.select(XComRow)).scalars()}
    assert values == {"push": {"n": 41}, "pull": 42}


def test_a_try_reads_its_own_return_value_before_it_is_recorded(
    executor: Executor, session_factory: sessionmaker[Session], dag_file: Path, tmp_path: Path
) -> None:
    """The return value is written with the outcome; the try's own callbacks see it."""
    own = make_try(session_factory, dag_file, "own")
    assert final(run(executor, own)) == [("own", "success", False)]
    assert (tmp_path / "side_effects.txt").read_text() == "{'n': 41}\n"
    assert xcoms(session_factory) == {("own", "return_value"): {"n": 41}}


def test_a_return_value_that_is_not_json_fails_the_try(
    executor: Executor, session_factory: sessionmaker[Session], dag_file: Path, settings: Settings
) -> None:
    work = make_try(session_factory, dag_file, "unserialisable")
    assert final(run(executor, work)) == [("unserialisable", "failed", False)]
    assert "is not JSON-serialisable" in log_path(settings, work).read_text()
    assert xcoms(session_factory) == {}


def test_a_try_cleared_while_it_runs_stores_no_return_value(
    local: LocalExecutor,
    session_factory: sessionmaker[Session],
    dag_file: Path,
    tmp_path: Path,
) -> None:
    """Pushes by the task are visible at once; its return value only with its outcome,
    which a try cleared meanwhile does not get to record (here the worker's heartbeat
    stops the try first; ``test_xcom_store`` covers the record's own guard)."""
    work = make_try(session_factory, dag_file, "early_then_late")
    local.queue(work)
    deadline = time.monotonic() + 20
    while ("early_then_late", "early") not in xcoms(session_factory):
        assert time.monotonic() < deadline, "the explicit push never became visible"
        local.poll_events()
        time.sleep(0.01)
    with transaction(session_factory, sqlite_begin="IMMEDIATE") as session:  # a user's clear
        session.execute(
            sa.update(TaskInstanceRow)
            .where(TaskInstanceRow.id == work.ti_id)
            .values(state=None, try_number=2)
        )
    (tmp_path / "side_effects.txt").write_text("go\n")
    run(local)
    assert xcoms(session_factory) == {("early_then_late", "early"): "pushed at once"}


def test_a_try_reads_connections_and_variables(
    executor: Executor, session_factory: sessionmaker[Session], dag_file: Path
) -> None:
    """In a task process these are asked of the worker, over the task's pipes."""
    with transaction(session_factory, sqlite_begin="IMMEDIATE") as session:
        create_connection(session, "warehouse", "postgres", host="db.example")
        create_variable(session, "limits", '{"rows": 500}')
    work = make_try(session_factory, dag_file, "templated")
    assert final(run(executor, work)) == [("templated", "success", False)]
    assert xcoms(session_factory) == {("templated", "return_value"): "db.example:500"}


def test_a_task_process_imports_no_database_library(
    local: LocalExecutor,
    session_factory: sessionmaker[Session],
    dag_file: Path,
    tmp_path: Path,
) -> None:
    """What keeps forking a try cheap: forkers come from the zygote, a small fresh interpreter."""
    work = make_try(session_factory, dag_file, "lean")
    assert final(run(local, work)) == [("lean", "success", False)]
    assert (tmp_path / "side_effects.txt").read_text() == "sqlalchemy imported: False\n"


def xcoms(sessions: sessionmaker[Session]) -> dict[tuple[str, str], object]:
    with sessions() as session:
        rows = session.execute(sa.select(XComRow)).scalars()
        return {(row.task_id, row.key): row.value for row in rows}


def test_a_failing_try_is_retried_then_fails_with_its_history_archived(
    executor: Executor, session_factory: sessionmaker[Session], dag_file: Path
) -> None:
    first = make_try(session_factory, dag_file, "fail", max_tries=1)
    assert final(run(executor, first)) == [("fail", "up_for_retry", False)]
    second = requeue(session_factory, first)
    assert final(run(executor, second)) == [("fail", "failed", False)]
    assert ti_row(session_factory, second).state == "failed"
    with session_factory() as session:
        history = session.execute(
            sa.select(TaskInstanceHistoryRow.try_number, TaskInstanceHistoryRow.state)
        ).all()
    assert [tuple(row) for row in history] == [(1, "failed")]


def test_a_replayed_workload_runs_once(
    executor: Executor, session_factory: sessionmaker[Session], dag_file: Path, tmp_path: Path
) -> None:
    work = make_try(session_factory, dag_file, "append")
    events = run(executor, work, work)  # at once: two workers race for the same try
    events += run(executor, work)  # and again once it is done
    assert final(events) == [("append", "success", False)]
    assert (tmp_path / "side_effects.txt").read_text().splitlines() == ["append 1"]


def test_a_try_that_is_not_queued_is_not_run(
    executor: Executor, session_factory: sessionmaker[Session], dag_file: Path, tmp_path: Path
) -> None:
    work = make_try(session_factory, dag_file, "append", state="scheduled")
    assert run(executor, work) == []
    assert not (tmp_path / "side_effects.txt").exists()
    assert ti_row(session_factory, work).state == "scheduled"


@pytest.mark.parametrize(
    ("task_id", "detail"), [("exit3", "exit code 3"), ("sigkill", "exit code -9")]
)
def test_a_task_process_that_dies_is_lost_and_the_pool_keeps_working(
    kind: str,
    executor: Executor,
    session_factory: sessionmaker[Session],
    dag_file: Path,
    task_id: str,
    detail: str,
) -> None:
    if kind == "inline":
        pytest.skip("the inline executor runs tries in the calling process")
    doomed = make_try(session_factory, dag_file, task_id)
    events = [e for e in run(executor, doomed) if e.state != "running"]
    assert [(e.state, e.lost) for e in events] == [("failed", True)]
    assert events[0].detail == detail
    assert ti_row(session_factory, doomed).state == "running"  # the scheduler's to handle
    after = [make_try(session_factory, dag_file, "push") for _ in range(3)]
    assert final(run(executor, *after)) == [("push", "success", False)] * 3


def test_a_try_printing_5_mb_succeeds_and_its_log_is_kept(
    executor: Executor, session_factory: sessionmaker[Session], dag_file: Path, settings: Settings
) -> None:
    work = make_try(session_factory, dag_file, "loud")
    assert final(run(executor, work)) == [("loud", "success", False)]
    log = log_path(settings, work)
    assert log.stat().st_size > 5_000_000
    assert "Marking task as SUCCESS" in log.read_text()[-2000:]


def test_execution_timeout_stops_a_sleeping_task(
    executor: Executor, session_factory: sessionmaker[Session], dag_file: Path, settings: Settings
) -> None:
    work = make_try(session_factory, dag_file, "sleepy")
    started = time.monotonic()
    assert final(run(executor, work)) == [("sleepy", "failed", False)]
    assert time.monotonic() - started < 10
    assert "TaskTimeout" in log_path(settings, work).read_text()


def test_the_log_exists_with_secrets_masked(
    executor: Executor, session_factory: sessionmaker[Session], dag_file: Path, settings: Settings
) -> None:
    with transaction(session_factory, sqlite_begin="IMMEDIATE") as session:
        create_variable(session, "db_password", "hunter2-secret")
    work = make_try(session_factory, dag_file, "secret")
    assert final(run(executor, work)) == [("secret", "success", False)]
    text = log_path(settings, work).read_text()
    assert "password is ***" in text
    assert "hunter2-secret" not in text


def test_skip_tasks_skips_only_tasks_that_did_not_start(
    executor: Executor, session_factory: sessionmaker[Session], dag_file: Path
) -> None:
    branch = make_try(session_factory, dag_file, "branch")
    waiting = make_try(session_factory, dag_file, "left", run_id=branch.run_id, state=None)
    running = make_try(session_factory, dag_file, "right", run_id=branch.run_id, state="running")
    assert final(run(executor, branch)) == [("branch", "success", False)]
    assert ti_row(session_factory, waiting).state == "skipped"
    assert ti_row(session_factory, running).state == "running"


def test_a_missing_dag_fails_the_try_and_says_why(
    executor: Executor, session_factory: sessionmaker[Session], dag_file: Path, settings: Settings
) -> None:
    work = make_try(session_factory, dag_file, "no_such_task")
    assert final(run(executor, work)) == [("no_such_task", "failed", False)]
    assert "no_such_task" in log_path(settings, work).read_text()


def test_end_leaves_no_child_processes(
    kind: str, executor: Executor, session_factory: sessionmaker[Session], dag_file: Path
) -> None:
    """``end`` lets a running try finish for ``timeout`` seconds, then SIGTERMs it: the
    task fails (and is recorded) and every process is gone."""
    if kind == "inline":
        before = set(active_children())
        executor.end(timeout=0.2)
        assert set(active_children()) - before == set()
        return
    assert isinstance(executor, LocalExecutor)
    before = set(active_children()) - set(executor.worker_pids)
    work = make_try(session_factory, dag_file, "forever")
    executor.queue(work)
    deadline = time.monotonic() + 10
    events: list[TaskEvent] = []
    while not events and time.monotonic() < deadline:
        fd = executor.wait_fileno()
        select.select([fd] if fd is not None else [], [], [], 0.05)
        events = executor.poll_events()
    assert [e.state for e in events] == ["running"]
    task_pid = ti_row(session_factory, work).pid
    assert task_pid is not None and is_alive(task_pid)
    assert set(active_children()) - before == set(executor.worker_pids)
    executor.end(timeout=0.2)
    assert set(active_children()) - before == set()
    assert not is_alive(task_pid)
    assert ti_row(session_factory, work).state == "failed"
    assert final(executor.poll_events()) == [("forever", "failed", False)]


def test_a_killed_worker_takes_its_running_try_with_it(
    local: LocalExecutor, session_factory: sessionmaker[Session], dag_file: Path
) -> None:
    """A try nobody heartbeats or records must not run on: its forker (the zygote's
    child, not the worker's) watches the worker and kills the try when it dies."""
    work = make_try(session_factory, dag_file, "forever")
    local.queue(work)
    deadline = time.monotonic() + 10
    while ti_row(session_factory, work).state != "running":
        assert time.monotonic() < deadline, "the try never started"
        local.poll_events()
        time.sleep(0.02)
    task_pid = ti_row(session_factory, work).pid
    assert task_pid is not None and is_alive(task_pid)
    for pid in local.worker_pids:
        os.kill(pid, signal.SIGKILL)
    while is_alive(task_pid):
        assert time.monotonic() < deadline + 10, "the try outlived its worker"
        time.sleep(0.02)
    events = run(local)
    assert [(e.state, e.lost) for e in events if e.state != "running"] == [("failed", True)]


def test_a_dead_zygote_is_restarted_for_the_next_worker(
    local: LocalExecutor, session_factory: sessionmaker[Session], dag_file: Path
) -> None:
    zygote = local.zygote_pid
    assert zygote is not None
    os.kill(zygote, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while is_alive(zygote):  # dead, as an OOM kill leaves it, before anyone needs it
        assert time.monotonic() < deadline, "the zygote survived SIGKILL"
        time.sleep(0.01)
    for pid in local.worker_pids:  # their replacements need a forker from a zygote
        os.kill(pid, signal.SIGKILL)
    work = make_try(session_factory, dag_file, "push")
    assert final(run(local, work)) == [("push", "success", False)]
    assert local.zygote_pid not in (None, zygote)


def test_a_workload_whose_worker_dies_before_starting_it_goes_to_another(
    local: LocalExecutor, session_factory: sessionmaker[Session], dag_file: Path
) -> None:
    """Not lost: the try never ran, so it runs elsewhere rather than failing."""
    work = make_try(session_factory, dag_file, "push")  # before: a stopped worker may hold
    stopped = local.worker_pids  # the write lock (warming up) until it is killed
    for pid in stopped:  # none of them can claim what it is given
        os.kill(pid, signal.SIGSTOP)
    local.queue(work)
    for pid in stopped:
        os.kill(pid, signal.SIGKILL)
    assert final(run(local)) == [("push", "success", False)]
    assert ti_row(session_factory, work).state == "success"


def test_a_try_whose_spare_died_records_the_process_that_ran_it(
    local: LocalExecutor,
    session_factory: sessionmaker[Session],
    dag_file: Path,
    tmp_path: Path,
) -> None:
    assert local.zygote_pid is not None
    deadline = time.monotonic() + 10
    while not (spares := _grandchildren(local.zygote_pid)):  # the workers' spares
        assert time.monotonic() < deadline, "no spare task process appeared"
        time.sleep(0.02)
    for pid in spares:
        os.kill(pid, signal.SIGKILL)
    work = make_try(session_factory, dag_file, "whoami")
    assert final(run(local, work)) == [("whoami", "success", False)]
    ran_in = int((tmp_path / "side_effects.txt").read_text())
    assert ran_in not in spares
    assert ti_row(session_factory, work).pid == ran_in


def _grandchildren(pid: int) -> list[int]:
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    children = {child for child, parent in parents.items() if parent == pid}
    return [child for child, parent in parents.items() if parent in children]


def log_path(settings: Settings, work: TaskWorkload) -> Path:
    return (
        Path(settings.logging.base_log_folder)
        / f"dag_id={work.dag_id}"
        / f"run_id={work.run_id}"
        / f"task_id={work.task_id}"
        / f"attempt={work.try_number}.log"
    )


def test_workers_start_on_demand_up_to_parallelism(
    settings: Settings, session_factory: sessionmaker[Session], dag_file: Path
) -> None:
    """One warm worker; three tries queued at once start two more, and no fourth."""
    executor = LocalExecutor(3, settings, dag_loader=collect_dags, warm_workers=1)
    executor.start()
    try:
        assert len(executor.worker_pids) == 1
        works = [make_try(session_factory, dag_file, "push") for _ in range(3)]
        events = run(executor, *works)
        assert len(executor.worker_pids) == 3
        assert sorted(e.state for e in events if e.state != "running") == ["success"] * 3
        events = run(executor, *[make_try(session_factory, dag_file, "push") for _ in range(3)])
        assert len(executor.worker_pids) == 3
        assert len([e for e in events if e.state == "success"]) == 3
    finally:
        workers = executor.worker_pids
        executor.end(timeout=5)
    assert not [pid for pid in workers if is_alive(pid) or pid in active_children()]
