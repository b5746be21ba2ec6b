"""The processes ``tradewind standalone`` runs, as a table.

Each component is a ``tradewind <command>`` child process. The triggerer joins
:data:`COMPONENTS` when its command exists.

Children are started through a few lines of bootstrap rather than the ``tradewind``
script: ``sys.executable`` is the interpreter standalone runs in (no PATH lookup, same
virtualenv), ``-P`` keeps the current directory off ``sys.path`` (a stray
``tradewind.py`` there cannot shadow the package), and on Linux the child asks the
kernel for SIGTERM when its parent dies (``PR_SET_PDEATHSIG``), so even a SIGKILLed
supervisor leaves no orphans behind.
"""

from __future__ import annotations

import os
import sys

from tradewind.standalone.supervisor import Component

#: Component name -> arguments of ``tradewind``, in start order.
COMPONENTS: dict[str, tuple[str, ...]] = {
    "scheduler": ("scheduler",),
    "api-server": ("api-server",),
}

_BOOTSTRAP = """\
import os, signal, sys
if sys.platform.startswith("linux"):
    import ctypes
    ctypes.CDLL(None).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
if os.getppid() != int(sys.argv.pop(1)):
    sys.exit("tradewind standalone exited before this component started")
from tradewind.cli.main import main
main()
"""


def tradewind_argv(*args: str, parent_pid: int | None = None) -> tuple[str, ...]:
    """The argv running ``tradewind <args>`` as a child of ``parent_pid`` (default: us)."""
    parent = os.getpid() if parent_pid is None else parent_pid
    return (sys.executable, "-P", "-c", _BOOTSTRAP, str(parent), *args)


def standalone_components() -> list[Component]:
    """The components of :data:`COMPONENTS`, ready for a :class:`Supervisor`."""
    return [Component(name, tradewind_argv(*args)) for name, args in COMPONENTS.items()]
