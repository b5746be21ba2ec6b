"""The DAG processor against a real database: what each kind of file leaves behind."""

from __future__ import annotations

import multiprocessing
import os
import textwrap
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker

from tradewind.config import Settings
from tradewind.dag_processing.processor import EXAMPLE_DAGS_FOLDER, DagFileProcessor
from tradewind.storage.engine import transaction
from tradewind.storage.tables import (
    DagCodeRow,
    DagRow,
    DagScheduleDatasetReferenceRow,
    DatasetRow,
    ImportErrorRow,
    SerializedDagRow,
    TaskOutletDatasetReferenceRow,
)

pytestmark = pytest.mark.db

START = datetime(2024, 6, 1, tzinfo=UTC)


def dag_file(dag_id: str, tasks: tuple[str, ...] = ("a", "b"), extra: str = "") -> str:
    body = "\n".join(f"    {t} = EmptyOperator(task_id={t!r})" for t in tasks)
    return (
        "from datetime import datetime\n"
        "from tradewind import DAG\n"
        "from tradewind.operators.empty import EmptyOperator\n\n"
        f"with DAG({dag_id!r}, start_date=datetime(2024, 1, 1), schedule='@daily'{extra}):\n"
        f"{body}\n"
    )


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture(autouse=True)
def no_leaked_children():
    yield
    assert multiprocessing.active_children() == []


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def dags_folder(settings: Settings) -> Path:
    folder = Path(settings.core.dags_folder)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture
def processor(
    settings: Settings, session_factory: sessionmaker[Session], clock: Clock, dags_folder: Path
) -> DagFileProcessor:
    core = settings.core
    core = type(core)(
        **{**vars(core), "dagbag_import_timeout": 1.5, "dag_file_processor_memory_limit_mb": 200}
    )
    return DagFileProcessor(core, settings.scheduler, session_factory, clock)


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text))
    return path


def touch_later(path: Path, text: str) -> None:
    """Rewrite ``path`` with a modification time surely different from the last one."""
    previous = path.stat().st_mtime
    path.write_text(text)
    os.utime(path, (previous + 10, previous + 10))


def dags(session: Session) -> dict[str, DagRow]:
    session.rollback()  # a new transaction sees the processor's commits
    return {row.dag_id: row for row in session.scalars(sa.select(DagRow))}


def errors(session: Session) -> dict[str, str]:
    session.rollback()  # a new transaction sees the processor's commits
    rows = session.scalars(sa.select(ImportErrorRow))
    return {row.filename: row.stacktrace for row in rows}


def test_hostile_files_do_not_affect_the_good_dag(
    processor: DagFileProcessor, dags_folder: Path, session: Session
) -> None:
    good = write(dags_folder, "good.py", dag_file("good"))
    bad = {
        "raises.py": "import tradewind  # dag\nraise ValueError('boom')\n",
        "hangs.py": "import time  # tradewind dag\ntime.sleep(1000)\n",
        "spins.py": "# tradewind dag\nwhile True:\n    pass\n",
        "exits.py": "import os  # tradewind dag\nos._exit(1)\n",
        "hog.py": "# tradewind dag\nblob = bytearray(10 * 1024**3)\n",
        "cycle.py": dag_file("cyc", extra="") + "    a >> b >> a\n",
        "dup_task.py": dag_file("dup", tasks=("a", "a")),
    }
    for name, text in bad.items():
        write(dags_folder, name, text)
    stats = processor.process_folder_once()
    assert stats.files == stats.parsed == 8
    assert stats.dags == 1 and stats.import_errors == 7
    assert list(dags(session)) == ["good"]
    row = dags(session)["good"]
    assert row.is_active and row.fileloc == str(good) and not row.has_import_errors
    assert row.last_parsed_time == START
    found = errors(session)
    assert set(found) == {str(dags_folder / name) for name in bad}
    assert "line 2" in found[str(dags_folder / "raises.py")]
    assert "DagBag import timeout" in found[str(dags_folder / "hangs.py")]
    assert "DagBag import timeout" in found[str(dags_folder / "spins.py")]
    assert "exited with code 1" in found[str(dags_folder / "exits.py")]
    assert "MemoryError" in found[str(dags_folder / "hog.py")]
    assert "CycleError" in found[str(dags_folder / "cycle.py")]
    assert "DuplicateTaskIdError" in found[str(dags_folder / "dup_task.py")]


def test_new_dags_follow_the_pause_setting_unless_they_say_otherwise(
    processor: DagFileProcessor, dags_folder: Path, session: Session
) -> None:
    write(dags_folder, "paused.py", dag_file("paused"))
    write(dags_folder, "live.py", dag_file("live", extra=", is_paused_upon_creation=False"))
    processor.process_folder_once()
    rows = dags(session)
    assert rows["paused"].is_paused and not rows["live"].is_paused
    assert rows["live"].timetable_summary == "@daily"
    assert rows["live"].schedule_interval == {"__type": "CronExpression", "value": "@daily"}
    assert rows["live"].max_active_tasks == 16 and rows["live"].max_active_runs == 16


def test_reparse_after_a_change_updates_serialized_dag_and_source(
    processor: DagFileProcessor, dags_folder: Path, session: Session, clock: Clock
) -> None:
    path = write(dags_folder, "change.py", dag_file("change", extra=", tags=['one']"))
    processor.process_folder_once()
    first = session.get(SerializedDagRow, "change")
    assert first is not None
    first_hash, first_updated = first.dag_hash, first.last_updated

    clock.now += timedelta(seconds=5)
    assert processor.process_folder_once().parsed == 0  # unchanged and not yet due

    clock.now += timedelta(seconds=60)
    assert processor.process_folder_once().parsed == 1  # due: unchanged, so no rewrite
    session.rollback()  # a new transaction sees the processor's commits
    same = session.get(SerializedDagRow, "change")
    assert same is not None and (same.dag_hash, same.last_updated) == (first_hash, first_updated)

    new_text = dag_file("change", tasks=("a", "b", "c"), extra=", tags=['two']")
    touch_later(path, new_text)
    clock.now += timedelta(seconds=1)
    assert processor.process_folder_once().parsed == 1
    session.rollback()  # a new transaction sees the processor's commits
    changed = session.get(SerializedDagRow, "change")
    assert changed is not None and changed.dag_hash != first_hash
    assert changed.last_updated == clock.now
    assert "c" in str(changed.data)
    code = session.get(DagCodeRow, DagCodeRow.hash_fileloc(str(path)))
    assert code is not None and code.source_code == new_text
    assert [tag.name for tag in dags(session)["change"].tags] == ["two"]


def test_deleting_a_file_deactivates_its_dag_and_drops_its_errors(
    processor: DagFileProcessor, dags_folder: Path, session: Session
) -> None:
    good = write(dags_folder, "gone.py", dag_file("gone"))
    broken = write(dags_folder, "broken.py", "import tradewind  # dag\n1 / 0\n")
    processor.process_folder_once()
    assert dags(session)["gone"].is_active and str(broken) in errors(session)
    good.unlink()
    broken.unlink()
    stats = processor.process_folder_once()
    assert stats.deactivated == 1
    assert not dags(session)["gone"].is_active
    assert errors(session) == {}


def test_a_broken_file_keeps_its_dag_flagged_until_fixed(
    processor: DagFileProcessor, dags_folder: Path, session: Session
) -> None:
    path = write(dags_folder, "flaky.py", dag_file("flaky"))
    processor.process_folder_once()
    touch_later(path, dag_file("flaky") + "raise RuntimeError('oops')\n")
    processor.process_folder_once()
    row = dags(session)["flaky"]
    assert row.is_active and row.has_import_errors
    assert "RuntimeError: oops" in errors(session)[str(path)]
    touch_later(path, dag_file("flaky"))
    processor.process_folder_once()
    assert not dags(session)["flaky"].has_import_errors
    assert errors(session) == {}


def test_a_dag_removed_from_its_file_becomes_inactive(
    processor: DagFileProcessor, dags_folder: Path, session: Session
) -> None:
    path = write(dags_folder, "two.py", dag_file("keep") + dag_file("drop").split("\n\n", 1)[1])
    processor.process_folder_once()
    assert {d for d, row in dags(session).items() if row.is_active} == {"keep", "drop"}
    touch_later(path, dag_file("keep"))
    processor.process_folder_once()
    rows = dags(session)
    assert rows["keep"].is_active and not rows["drop"].is_active


def test_the_same_dag_id_in_two_files_is_an_import_error_naming_both(
    processor: DagFileProcessor, dags_folder: Path, session: Session
) -> None:
    first = write(dags_folder, "first.py", dag_file("twin"))
    processor.process_folder_once()
    second = write(dags_folder, "second.py", dag_file("twin", tasks=("x",)))
    processor.process_folder_once()
    assert dags(session)["twin"].fileloc == str(first)
    message = errors(session)[str(second)]
    assert "AirflowDagDuplicatedIdException" in message
    assert str(first) in message and str(second) in message
    serialized = session.get(SerializedDagRow, "twin")
    assert serialized is not None and serialized.fileloc == str(first)
    # once the first file is gone, the second one owns the DAG
    first.unlink()
    processor.process_folder_once()
    touch_later(second, dag_file("twin", tasks=("x",)))
    processor.process_folder_once()
    assert dags(session)["twin"].fileloc == str(second)
    assert errors(session) == {}


def test_dataset_schedule_and_outlets_are_referenced(
    processor: DagFileProcessor, dags_folder: Path, session: Session
) -> None:
    write(
        dags_folder,
        "data.py",
        """\
        from datetime import datetime
        from tradewind import DAG, Dataset
        from tradewind.operators.empty import EmptyOperator

        with DAG("producer", start_date=datetime(2024, 1, 1), schedule=None):
            EmptyOperator(task_id="make", outlets=[Dataset("s3://bucket/out")])
        with DAG("consumer", schedule=[Dataset("s3://bucket/out")]):
            EmptyOperator(task_id="use")
        """,
    )
    processor.process_folder_once()
    uris = {row.id: row.uri for row in session.scalars(sa.select(DatasetRow))}
    assert set(uris.values()) == {"s3://bucket/out"}
    schedule = session.scalars(sa.select(DagScheduleDatasetReferenceRow)).all()
    outlets = session.scalars(sa.select(TaskOutletDatasetReferenceRow)).all()
    assert [(r.dag_id, uris[r.dataset_id]) for r in schedule] == [("consumer", "s3://bucket/out")]
    assert [(r.dag_id, r.task_id) for r in outlets] == [("producer", "make")]
    assert dags(session)["consumer"].dataset_expression == {"all": ["s3://bucket/out"]}


def test_examples_are_loaded_when_asked(
    settings: Settings, session_factory: sessionmaker[Session], clock: Clock, session: Session
) -> None:
    core = type(settings.core)(**{**vars(settings.core), "load_examples": True})
    processor = DagFileProcessor(core, settings.scheduler, session_factory, clock)
    stats = processor.process_folder_once()
    assert stats.files == len(list(EXAMPLE_DAGS_FOLDER.glob("*.py")))
    rows = dags(session)
    assert "random_failures" in rows
    assert all(
        row.fileloc and row.fileloc.startswith(str(EXAMPLE_DAGS_FOLDER)) for row in rows.values()
    )
    with transaction(session_factory) as other:
        assert other.scalar(sa.select(sa.func.count()).select_from(ImportErrorRow)) == 0


class OnePass(threading.Event):
    """A stop event that asks ``run_forever`` to stop at its first wait."""

    def wait(self, timeout: float | None = None) -> bool:
        self.set()
        return True


def test_run_forever_processes_until_stopped(
    processor: DagFileProcessor, dags_folder: Path, session: Session
) -> None:
    write(dags_folder, "looped.py", dag_file("looped"))
    processor.run_forever(OnePass())
    assert dags(session)["looped"].is_active
