"""Small process-lifetime helpers shared by the serving processes, the scheduler's children
and workers."""

from __future__ import annotations

import ctypes
import gc
import os
import signal
import sys
from typing import NoReturn

_PR_SET_PDEATHSIG = 1


def die_with_parent(signum: int = signal.SIGKILL) -> None:
    """Ask Linux to send ``signum`` to this process when its parent dies.

    A child left running after its supervisor died would work unsupervised (nobody
    heartbeats, records or stops it); on other systems this does nothing.
    """
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None).prctl(_PR_SET_PDEATHSIG, signum)


def exit_forked_child(code: int) -> NoReturn:
    """End a forked child: flush what it printed, then ``os._exit``.

    ``os._exit`` because nothing inherited from the parent (database connections,
    atexit handlers, buffered files) may be closed or run on this side of the fork.
    """
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:  # a closed or broken stream: nothing left to save
            pass
    os._exit(code)


def freeze_startup_objects() -> None:
    """Take what the process built so far out of the garbage collector's sight.

    A long-lived process builds hundreds of thousands of objects that live until it
    ends (modules, SQLAlchemy tables and compiled statements, an API's routes and
    pydantic schemas), yet each full collection walks them all: ~110 ms once every ~300
    API list requests, a stall of the scheduler's loop every few hundred tasks.
    ``gc.freeze`` moves them to a generation that is never collected, and the
    processes forked afterwards (workers, a DAG processor) then never write to those
    pages to collect them either. Called once by the commands that serve, after
    building what they serve with; not by factories that tests call many times in one
    process.
    """
    gc.collect()
    gc.freeze()
