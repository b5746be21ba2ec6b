"""The LocalExecutor's pipe messages: framing, atomic-size lines, partial reads."""

from __future__ import annotations

import io
import os

from tradewind.executors.base import TaskWorkload
from tradewind.executors.pipes import (
    MAX_MESSAGE,
    decode_messages,
    encode_message,
    encode_workload,
    read_workload,
    send,
)

WORKLOAD = TaskWorkload(
    ti_id=7,
    dag_id="d",
    run_id="r",
    task_id="t",
    map_index=-1,
    try_number=2,
    fileloc="/dags/d.py",
    executor_config={"cpu": 1},
)


def test_workloads_round_trip_and_end_of_file_is_none() -> None:
    stream = io.BytesIO(encode_workload(1, WORKLOAD) + encode_workload(2, WORKLOAD))
    assert read_workload(stream) == (1, WORKLOAD)
    assert read_workload(stream) == (2, WORKLOAD)
    assert read_workload(stream) is None


def test_a_truncated_frame_reads_as_end_of_file() -> None:
    assert read_workload(io.BytesIO(encode_workload(1, WORKLOAD)[:-3])) is None


def test_messages_are_single_short_lines_even_with_long_text() -> None:
    line = encode_message(3, "finished", state="x" * 10_000)
    assert line.endswith(b"\n") and line.count(b"\n") == 1
    assert len(line) < MAX_MESSAGE


def test_decode_keeps_the_incomplete_tail_for_the_next_read() -> None:
    data = encode_message(1, "started") + encode_message(1, "finished", state="success")
    messages, rest = decode_messages(data[:-5])
    assert messages == [{"seq": 1, "kind": "started"}]
    messages, rest = decode_messages(rest + data[-5:])
    assert messages == [{"seq": 1, "kind": "finished", "state": "success"}]
    assert rest == b""


def test_send_writes_one_message_to_a_pipe() -> None:
    read_end, write_end = os.pipe()
    try:
        send(write_end, 9, "exited", code=-9)
        messages, rest = decode_messages(os.read(read_end, 4096))
    finally:
        os.close(read_end)
        os.close(write_end)
    assert messages == [{"seq": 9, "kind": "exited", "code": -9}] and rest == b""


def test_send_to_a_pipe_nobody_reads_returns_false_instead_of_raising() -> None:
    read, write = os.pipe()
    os.close(read)  # the scheduler died: no reader left
    try:
        assert send(write, 1, "finished", state="success") is False
    finally:
        os.close(write)


def test_send_returns_true_when_the_message_was_written() -> None:
    read, write = os.pipe()
    try:
        assert send(write, 7, "started") is True
        assert os.read(read, 100) == b'{"seq":7,"kind":"started"}\n'
    finally:
        os.close(read)
        os.close(write)
