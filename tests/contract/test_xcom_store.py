"""The XCom store of a try: values pushed at once, the return value held.

A try's return value is held in its process and written with its outcome
(``record_try``); until then the try itself still reads it back, newest first and
through the same filters as stored values. The records here are of a task without outlets,
as most are: on PostgreSQL such a record is one statement (the row and the return value).
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from executor_support import make_try, requeue
from sqlalchemy.orm import Session, sessionmaker

from tradewind.execution.db_task_instance import claim_try, record_try
from tradewind.execution.db_xcom import DatabaseXComStore
from tradewind.execution.try_xcoms import TryXComStore
from tradewind.executors.base import TaskWorkload
from tradewind.sdk.states import TaskInstanceState


@pytest.fixture
def work(session_factory: sessionmaker[Session], tmp_path: Path) -> TaskWorkload:
    return make_try(session_factory, tmp_path / "dag.py", "t", state="running")


def ident(work: TaskWorkload) -> tuple[str, str, str, int]:
    return (work.dag_id, work.run_id, work.task_id, work.map_index)


def try_store(sessions: sessionmaker[Session], work: TaskWorkload) -> TryXComStore:
    return TryXComStore(DatabaseXComStore(sessions), ident(work), cleared_at_claim=False)


def values(
    store: DatabaseXComStore | TryXComStore, work: TaskWorkload, **filters: object
) -> list[object]:
    found = store.find(dag_id=work.dag_id, run_id=work.run_id, **filters)  # type: ignore[arg-type]
    return [(entry.key, entry.value) for entry in found]


def test_held_values_are_read_back_newest_first_and_shadow_stored_ones(
    session_factory: sessionmaker[Session], work: TaskWorkload
) -> None:
    store = try_store(session_factory, work)
    key = {"dag_id": work.dag_id, "run_id": work.run_id, "task_id": "t", "map_index": -1}
    store.set(**key, key="return_value", value="stored")
    store.set(**key, key="other", value=1)
    store.hold("a", "held a")
    store.hold("return_value", "held")

    assert values(store, work) == [("return_value", "held"), ("a", "held a"), ("other", 1)]
    assert values(store, work, key="return_value") == [("return_value", "held")]
    assert values(store, work, task_ids=iter(["t"]), map_indexes=[-1])[0] == (
        "return_value",
        "held",
    )
    assert values(store, work, task_ids=["elsewhere"]) == []
    assert values(store, work, map_indexes=[0]) == []
    # Others see only what is stored until the worker writes the held values.
    assert values(DatabaseXComStore(session_factory), work) == [
        ("other", 1),
        ("return_value", "stored"),
    ]


def test_record_try_writes_the_held_values_in_its_transaction(
    session_factory: sessionmaker[Session], work: TaskWorkload
) -> None:
    store = try_store(session_factory, work)
    store.hold("return_value", {"rows": 3})
    now = datetime.now(UTC)
    recorded = record_try(
        session_factory, work, state=TaskInstanceState.SUCCESS, start_date=now, end_date=now,
        duration=0.0, rendered_fields=None, xcoms=store.held, has_outlets=False,
    )  # fmt: skip
    assert recorded
    assert values(DatabaseXComStore(session_factory), work) == [("return_value", {"rows": 3})]


def test_clearing_drops_held_values_and_unserialisable_ones_are_refused(
    session_factory: sessionmaker[Session], work: TaskWorkload
) -> None:
    store = try_store(session_factory, work)
    with pytest.raises(TypeError, match="'return_value' is not JSON-serialisable"):
        store.hold("return_value", object())
    store.hold("return_value", 1)
    store.clear(dag_id=work.dag_id, run_id=work.run_id, task_id="t", map_index=-1)
    assert store.held == ()


def test_a_retry_starts_without_the_xcoms_of_the_try_before(
    session_factory: sessionmaker[Session], tmp_path: Path
) -> None:
    first = make_try(session_factory, tmp_path / "dag.py", "t")
    now = datetime.now(UTC)
    assert claim_try(session_factory, first, now=now, hostname="h", pid=1, unixname="u")
    DatabaseXComStore(session_factory).set(
        dag_id=first.dag_id, run_id=first.run_id, task_id="t", map_index=-1, key="k", value=1
    )
    second = requeue(session_factory, first)
    assert claim_try(session_factory, second, now=now, hostname="h", pid=2, unixname="u")
    assert values(DatabaseXComStore(session_factory), second) == []


def test_a_try_changed_meanwhile_records_neither_its_state_nor_its_held_values(
    session_factory: sessionmaker[Session], work: TaskWorkload
) -> None:
    """The held return value is written only when the record's guard holds: a try a
    user cleared while it ran leaves no stale value behind."""
    cleared = requeue(session_factory, work)  # what a clear and a new queueing leave
    now = datetime.now(UTC)
    recorded = record_try(
        session_factory, work, state=TaskInstanceState.SUCCESS, start_date=now, end_date=now,
        duration=0.0, rendered_fields=None, xcoms=(("return_value", "stale"),), has_outlets=False,
    )  # fmt: skip
    assert not recorded
    assert values(DatabaseXComStore(session_factory), cleared) == []


def test_a_held_value_replaces_one_pushed_under_its_key_and_is_the_newest(
    session_factory: sessionmaker[Session], work: TaskWorkload
) -> None:
    store = try_store(session_factory, work)
    for key, value in (("return_value", "pushed"), ("other", 1)):
        store.set(
            dag_id=work.dag_id, run_id=work.run_id, task_id="t", map_index=-1, key=key, value=value
        )
    now = datetime.now(UTC)
    assert record_try(
        session_factory, work, state=TaskInstanceState.SUCCESS, start_date=now, end_date=now,
        duration=0.0, rendered_fields=None, xcoms=(("return_value", "held"),), has_outlets=False,
    )  # fmt: skip
    assert values(DatabaseXComStore(session_factory), work) == [
        ("return_value", "held"),
        ("other", 1),
    ]
