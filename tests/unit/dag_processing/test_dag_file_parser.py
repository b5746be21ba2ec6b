"""Parsing one DAG file in a child process: good files, broken files, hostile files."""

from __future__ import annotations

import multiprocessing
import textwrap
import zipfile
from pathlib import Path

import pytest

from tradewind.dag_processing.parser import ParseOptions, parse_file, parse_files, start_method

GOOD = """\
from datetime import datetime

from tradewind import DAG
from tradewind.operators.empty import EmptyOperator

with DAG("good", start_date=datetime(2024, 1, 1), schedule="@daily", tags=["t1"]) as dag:
    EmptyOperator(task_id="a") >> EmptyOperator(task_id="b")
"""


@pytest.fixture(autouse=True)
def no_leaked_children():
    yield
    assert multiprocessing.active_children() == []


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(textwrap.dedent(text))
    return path


def parse(path: Path, **kwargs: object):
    return parse_file(path, **{"timeout": 20.0, **kwargs})  # type: ignore[arg-type]


def test_good_file_gives_serialized_dag_source_and_no_errors(tmp_path: Path) -> None:
    path = write(tmp_path, "good.py", GOOD)
    result = parse(path)
    assert result.import_errors == {}
    assert result.path == str(path)
    assert [d.dag_id for d in result.dags] == ["good"]
    parsed = result.dags[0]
    assert parsed.fileloc == str(path)
    assert isinstance(parsed.data, dict) and parsed.hash
    assert parsed.facts.tags == ("t1",)
    assert parsed.facts.timetable_summary == "@daily"
    assert result.sources == {str(path): GOOD}
    assert result.duration > 0


def test_result_survives_json_round_trip(tmp_path: Path) -> None:
    from tradewind.dag_processing.payload import ParseResult

    result = parse(write(tmp_path, "good.py", GOOD))
    assert ParseResult.from_json(result.to_json()) == result


def test_exception_becomes_import_error_with_the_right_line(tmp_path: Path) -> None:
    path = write(tmp_path, "raises.py", "import tradewind  # dag\n\nraise ValueError('boom')\n")
    result = parse(path)
    assert result.dags == ()
    error = result.import_errors[str(path)]
    assert error.startswith("Traceback (most recent call last):")
    assert f'File "{path}", line 3, in <module>' in error
    assert "importlib" not in error
    assert error.rstrip().endswith("ValueError: boom")


def test_syntax_error_names_file_and_line(tmp_path: Path) -> None:
    path = write(tmp_path, "syntax.py", "x = 1\ndef broken(:\n")
    error = parse(path).import_errors[str(path)]
    assert "SyntaxError" in error and "line 2" in error


def test_hanging_file_is_killed_after_the_timeout(tmp_path: Path) -> None:
    sleeper = write(tmp_path, "sleeper.py", "import time\ntime.sleep(1000)\n")
    spinner = write(tmp_path, "spinner.py", "while True:\n    pass\n")
    for path in (sleeper, spinner):
        result = parse(path, timeout=1.0)
        assert result.import_errors == {str(path): f"DagBag import timeout for {path} after 1.0s"}
        assert 1.0 <= result.duration < 10


def test_os_exit_and_sys_exit_become_import_errors(tmp_path: Path) -> None:
    hard = write(tmp_path, "hard_exit.py", "import os\nos._exit(3)\n")
    soft = write(tmp_path, "soft_exit.py", "import sys\nsys.exit(2)\n")
    assert parse(hard).import_errors == {
        str(hard): f"The process parsing {hard} exited with code 3 before reporting a result"
    }
    error = parse(soft).import_errors[str(soft)]
    assert "SystemExit: 2" in error and "line 2" in error


def test_memory_hog_hits_the_cap_not_the_machine(tmp_path: Path) -> None:
    path = write(tmp_path, "hog.py", "blob = bytearray(10 * 1024**3)\n")
    result = parse(path, memory_limit_mb=200)
    assert result.dags == ()
    assert "MemoryError" in result.import_errors[str(path)]


def test_cycle_duplicate_task_and_missing_start_date_are_import_errors(tmp_path: Path) -> None:
    cycle_in_with = write(
        tmp_path,
        "cycle_with.py",
        """\
        from tradewind import DAG
        from tradewind.operators.empty import EmptyOperator

        with DAG("cyc", schedule=None):
            a = EmptyOperator(task_id="a")
            b = EmptyOperator(task_id="b")
            a >> b >> a
        """,
    )
    cycle_after = write(
        tmp_path,
        "cycle_after.py",
        """\
        from tradewind import DAG
        from tradewind.operators.empty import EmptyOperator

        dag = DAG("cyc2", schedule=None)
        a = EmptyOperator(task_id="a", dag=dag)
        b = EmptyOperator(task_id="b", dag=dag)
        a >> b >> a
        """,
    )
    duplicate = write(
        tmp_path,
        "duplicate.py",
        """\
        from tradewind import DAG
        from tradewind.operators.empty import EmptyOperator

        with DAG("dup", schedule=None):
            EmptyOperator(task_id="same")
            EmptyOperator(task_id="same")
        """,
    )
    no_start = write(
        tmp_path,
        "no_start.py",
        """\
        from tradewind import DAG
        from tradewind.operators.empty import EmptyOperator

        with DAG("nostart", schedule="@daily"):
            EmptyOperator(task_id="a")
        """,
    )
    assert "CycleError" in parse(cycle_in_with).import_errors[str(cycle_in_with)]
    after = parse(cycle_after)
    assert after.dags == () and after.failed_dag_ids == ("cyc2",)
    assert "CycleError" in after.import_errors[str(cycle_after)]
    dup_error = parse(duplicate).import_errors[str(duplicate)]
    assert "DuplicateTaskIdError" in dup_error and "line 6" in dup_error
    assert "no start_date" in parse(no_start).import_errors[str(no_start)]


def test_one_bad_dag_does_not_hide_its_neighbour_in_the_same_file(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "two.py",
        """\
        from datetime import datetime
        from tradewind import DAG
        from tradewind.operators.empty import EmptyOperator

        ok = DAG("ok", schedule=None)
        EmptyOperator(task_id="a", dag=ok)
        bad = DAG("bad", schedule="@daily")
        EmptyOperator(task_id="a", dag=bad)
        """,
    )
    result = parse(path)
    assert [d.dag_id for d in result.dags] == ["ok"]
    assert result.failed_dag_ids == ("bad",)
    assert "no start_date" in result.import_errors[str(path)]


def test_unbound_with_dag_and_called_dag_decorator_are_collected(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "unbound.py",
        """\
        from tradewind import DAG, dag
        from tradewind.operators.empty import EmptyOperator

        with DAG("from_with", schedule=None):
            EmptyOperator(task_id="a")

        @dag(schedule=None)
        def from_decorator():
            EmptyOperator(task_id="b")

        from_decorator()
        """,
    )
    assert [d.dag_id for d in parse(path).dags] == ["from_decorator", "from_with"]


def test_file_imports_its_neighbours_and_records_warnings(tmp_path: Path) -> None:
    write(tmp_path, "shared_helpers.py", "DAG_ID = 'from_helper'\n")
    path = write(
        tmp_path,
        "uses_helper.py",
        """\
        import warnings
        from tradewind import DAG
        from shared_helpers import DAG_ID

        warnings.warn("old style", DeprecationWarning)
        dag = DAG(DAG_ID, schedule=None)
        """,
    )
    result = parse(path)
    assert [d.dag_id for d in result.dags] == ["from_helper"]
    assert any("DeprecationWarning: old style" in w for w in result.warnings)


def test_zip_members_are_imported_with_their_own_fileloc(tmp_path: Path) -> None:
    archive = tmp_path / "bundle.zip"
    with zipfile.ZipFile(archive, "w") as bundle:
        bundle.writestr("zipped_dag.py", GOOD.replace('"good"', '"zipped"'))
        bundle.writestr("zipped_broken.py", "import tradewind  # dag\nraise RuntimeError('z')\n")
        bundle.writestr("not_a_dag.py", "raise RuntimeError('never imported in safe mode')\n")
    result = parse(archive)
    assert [(d.dag_id, d.fileloc) for d in result.dags] == [("zipped", f"{archive}/zipped_dag.py")]
    assert set(result.import_errors) == {f"{archive}/zipped_broken.py"}
    assert "RuntimeError: z" in result.import_errors[f"{archive}/zipped_broken.py"]
    assert "zipped" in result.sources[f"{archive}/zipped_dag.py"]


def test_parse_files_runs_in_parallel_and_returns_every_result(tmp_path: Path) -> None:
    paths = [write(tmp_path, f"g{i}.py", GOOD.replace('"good"', f'"g{i}"')) for i in range(5)]
    paths.append(write(tmp_path, "slow.py", "import time\ntime.sleep(1000)\n"))
    results = list(parse_files(paths, ParseOptions(timeout=2.0), parallelism=3))
    assert sorted(r.path for r in results) == sorted(str(p) for p in paths)
    by_path = {r.path: r for r in results}
    assert "timeout" in by_path[str(paths[-1])].import_errors[str(paths[-1])]
    assert all(by_path[str(p)].dags for p in paths[:-1])


def test_stopping_iteration_early_reaps_children(tmp_path: Path) -> None:
    sleepers = [write(tmp_path, f"s{i}.py", "import time\ntime.sleep(1000)\n") for i in range(2)]
    fast = write(tmp_path, "fast.py", GOOD)
    results = parse_files([fast, *sleepers], ParseOptions(timeout=60.0), parallelism=3)
    assert next(results).path == str(fast)
    assert len(multiprocessing.active_children()) == 2
    results.close()
    assert multiprocessing.active_children() == []


def test_start_method_is_fork_in_a_single_threaded_parent() -> None:
    if "fork" in multiprocessing.get_all_start_methods():
        assert start_method() == "fork"


def test_a_threaded_parent_parses_through_the_forkserver(tmp_path: Path) -> None:
    import threading

    stop = threading.Event()
    helper = threading.Thread(target=stop.wait, daemon=True)
    helper.start()
    try:
        if "forkserver" in multiprocessing.get_all_start_methods():
            assert start_method() == "forkserver"
        result = parse(write(tmp_path, "good.py", GOOD))
        assert [d.dag_id for d in result.dags] == ["good"]
        hog = parse(write(tmp_path, "hog.py", "x = bytearray(10 * 1024**3)\n"), memory_limit_mb=200)
        assert "MemoryError" in hog.import_errors[str(tmp_path / "hog.py")]
    finally:
        stop.set()
        helper.join()
