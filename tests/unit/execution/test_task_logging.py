"""Per-try log files: Airflow's layout, timestamps, captured print(), masked secrets."""

from __future__ import annotations

import io
import logging
import re
import sys
from pathlib import Path

from tradewind.execution.secrets_masker import SecretsMasker
from tradewind.execution.task_logging import capture_task_log, task_log_path

task_log = logging.getLogger("tradewind.task")


def test_path_layout(tmp_path: Path) -> None:
    path = task_log_path(tmp_path, dag_id="d", run_id="manual__x", task_id="t", try_number=2)
    assert path == tmp_path / "dag_id=d" / "run_id=manual__x" / "task_id=t" / "attempt=2.log"
    mapped = task_log_path(tmp_path, dag_id="d", run_id="r", task_id="t", try_number=1, map_index=3)
    assert mapped.parent.name == "map_index=3"


def test_lines_have_timestamps_and_levels(tmp_path: Path) -> None:
    path = tmp_path / "a" / "attempt=1.log"
    with capture_task_log(path):
        task_log.info("hello %s", "world")
        task_log.warning("careful")
    lines = path.read_text().splitlines()
    stamp = r"^\[\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+0000\] \{\S+:\d+\} "
    assert re.match(stamp + "INFO - hello world$", lines[0])
    assert re.match(stamp + "WARNING - careful$", lines[1])


def test_print_and_stderr_are_captured(tmp_path: Path) -> None:
    path = tmp_path / "attempt=1.log"
    with capture_task_log(path):
        print("from print")
        print("part", end="")
        print(" two")
        sys.stderr.write("to stderr\n")
    text = path.read_text()
    assert "INFO - from print" in text
    assert "INFO - part two" in text
    assert "WARNING - to stderr" in text


def test_handlers_and_streams_are_restored(tmp_path: Path) -> None:
    before = list(task_log.handlers)
    stdout = sys.stdout
    with capture_task_log(tmp_path / "attempt=1.log"):
        pass
    assert task_log.handlers == before
    assert sys.stdout is stdout


def test_secrets_are_masked_including_those_added_during_the_try(tmp_path: Path) -> None:
    masker = SecretsMasker()
    masker.add_variable("db_password", "pa55word!")
    masker.add_variable("region", "eu-west-1")
    path = tmp_path / "attempt=1.log"
    with capture_task_log(path, masker=masker) as log:
        print("connecting with pa55word! in eu-west-1")
        log.masker.add_connection("conn-secret-9")
        task_log.info("uri=postgres://u:conn-secret-9@h")
        try:
            raise ValueError("pa55word! leaked in an error")
        except ValueError:
            task_log.exception("failed")
    text = path.read_text()
    assert "pa55word!" not in text and "conn-secret-9" not in text
    assert "connecting with *** in eu-west-1" in text
    assert "uri=postgres://u:***@h" in text
    assert "ValueError: *** leaked in an error" in text


def test_echo_writes_the_same_masked_lines_to_the_console(tmp_path: Path) -> None:
    console = io.StringIO()
    masker = SecretsMasker()
    masker.add("top-secret")
    with capture_task_log(tmp_path / "attempt=1.log", masker=masker, echo=True, console=console):
        print("value top-secret")
    assert "INFO - value ***" in console.getvalue()


def test_no_file_when_path_is_none() -> None:
    console = io.StringIO()
    with capture_task_log(None, echo=True, console=console) as log:
        task_log.info("only on the console")
    assert log.path is None
    assert "only on the console" in console.getvalue()


def test_appends_to_an_existing_attempt_log(tmp_path: Path) -> None:
    path = tmp_path / "attempt=1.log"
    for word in ("first", "second"):
        with capture_task_log(path):
            task_log.info(word)
    assert [line.rsplit(" - ", 1)[1] for line in path.read_text().splitlines()] == [
        "first",
        "second",
    ]
