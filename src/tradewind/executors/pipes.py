"""The messages between ``LocalExecutor``, its workers and their task processes.

Down (executor -> worker): :mod:`.frames` of ``(seq, TaskWorkload)``, one pipe per
worker; end of file means "exit".

Up (workers -> executor): one shared pipe of JSON lines. Each
line is shorter than :data:`MAX_MESSAGE`, and POSIX makes pipe writes of up to
``PIPE_BUF`` (at least 512 bytes) atomic, so lines written by different processes
never interleave. The kinds:

=========  ==============  ===============================================
kind       written by      fields
=========  ==============  ===============================================
forked     worker          ``pid``: the task process that took the workload
started    worker          the try was claimed: it is ``running``
finished   worker          ``state``: the final state it recorded
exited     worker          ``code``: the task process's exit code (-N: signal N)
=========  ==============  ===============================================
"""

from __future__ import annotations

import json
import os
import select
from typing import IO, Any

from tradewind.executors.base import TaskWorkload
from tradewind.executors.frames import encode_frame, read_frame

#: Longest message up (bytes); POSIX guarantees atomic pipe writes up to 512.
MAX_MESSAGE = 512
#: Longest text field of a message up (characters), so that a message fits.
MAX_TEXT = 200


def encode_workload(seq: int, workload: TaskWorkload) -> bytes:
    return encode_frame((seq, workload))


def read_workload(stream: IO[bytes]) -> tuple[int, TaskWorkload] | None:
    """The next ``(seq, workload)`` from a pipe; None at end of file (blocks until then)."""
    received = read_frame(stream)
    if received is None:
        return None
    seq, workload = received
    return int(seq), workload


def encode_message(seq: int, kind: str, **fields: Any) -> bytes:
    """One line up; text fields are cut to :data:`MAX_TEXT` characters."""
    message: dict[str, Any] = {"seq": seq, "kind": kind}
    for key, value in fields.items():
        message[key] = value[:MAX_TEXT] if isinstance(value, str) else value
    return json.dumps(message, separators=(",", ":")).encode() + b"\n"


def decode_messages(buffer: bytes) -> tuple[list[dict[str, Any]], bytes]:
    """The complete lines in ``buffer``, decoded, and the incomplete rest to keep."""
    *lines, rest = buffer.split(b"\n")
    return [json.loads(line) for line in lines if line], rest


def send(fd: int, seq: int, kind: str, **fields: Any) -> bool:
    """Write one message up (blocking: a full pipe makes the writer wait, never drop).

    Returns False, and raises nothing, when no process reads the pipe any more: the
    executor's process (the scheduler) died. The writer carries on regardless: a try
    runs to its end and records its outcome in the database, which is all the next
    scheduler reads; the message itself has no one left to inform.
    """
    try:
        os.write(fd, encode_message(seq, kind, **fields))
    except BrokenPipeError:
        return False
    return True


def wait_readable(fd: int, timeout: float) -> bool:
    readable, _, _ = select.select([fd], [], [], max(timeout, 0.0))
    return bool(readable)
