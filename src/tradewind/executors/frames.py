"""Length-prefixed pickles: how the executor, its workers and their task processes
send values down pipes.

Executor -> worker: ``(seq, workload)`` (:mod:`.pipes`). Worker -> task process, the
hand-off pipe: the claimed try, then the answers to the task process's requests. Task
process -> worker, the outcome pipe: requests (:mod:`.task_channel`), then the try's
outcome. Pickle is fine here: both ends are this code, run by the same user.
"""

from __future__ import annotations

import logging
import os
import pickle
import struct
from typing import IO, Any

logger = logging.getLogger(__name__)
_HEADER = struct.Struct("!I")


def encode_frame(value: Any) -> bytes:
    """``value`` as one frame."""
    payload = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    return _HEADER.pack(len(payload)) + payload


def write_frame(fd: int, value: Any) -> None:
    """Write ``value`` as one frame (blocking until all of it is written)."""
    data = memoryview(encode_frame(value))
    while data:
        written = os.write(fd, data)
        data = data[written:]


def read_frame(stream: IO[bytes]) -> Any:
    """The next value on ``stream`` (blocking); None at end of file."""
    header = stream.read(_HEADER.size)
    if not header or len(header) < _HEADER.size:
        return None
    (size,) = _HEADER.unpack(header)
    payload = stream.read(size)
    if payload is None or len(payload) < size:
        return None
    return pickle.loads(payload)


def take_frame(buffer: bytearray) -> tuple[bool, Any]:
    """``(True, value)`` for the first complete frame in ``buffer``, removed from it;
    ``(False, None)`` while it is incomplete. A garbled frame (from a dying process)
    is removed and read as None."""
    if len(buffer) < _HEADER.size:
        return False, None
    (size,) = _HEADER.unpack_from(buffer)
    end = _HEADER.size + size
    if len(buffer) < end:
        return False, None
    payload = bytes(buffer[_HEADER.size : end])
    del buffer[:end]
    try:
        return True, pickle.loads(payload)
    except Exception:
        logger.warning("Could not read a frame from a task process", exc_info=True)
        return True, None
