"""The supervisor on tiny ``python -c`` stand-ins: output, restarts with backoff, stopping.

Each test runs :meth:`Supervisor.run` in a thread and stops it in ``finally``, so a
failing assertion never leaves processes behind.
"""

from __future__ import annotations

import io
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tradewind.standalone.supervisor import Backoff, Component, Supervisor, group_members

#: Backoff fast enough for tests: 0.05 s doubling to 0.2 s, reset after 10 s of uptime.
FAST = Backoff(initial=0.05, maximum=0.2, reset_after=10.0)


def python(code: str) -> tuple[str, ...]:
    return (sys.executable, "-c", code)


def wait_for(predicate: Callable[[], object], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {predicate}")
        time.sleep(0.02)


def alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie waiting for its reaper does not count)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat[stat.rindex(")") + 2] not in "ZX"


@contextmanager
def running(supervisor: Supervisor) -> Iterator[threading.Thread]:
    thread = threading.Thread(target=supervisor.run, daemon=True)
    thread.start()
    try:
        yield thread
    finally:
        supervisor.stop()
        thread.join(timeout=15)
        assert not thread.is_alive(), "Supervisor.run did not return"


def test_backoff_doubles_up_to_the_maximum() -> None:
    backoff = Backoff(initial=1.0, maximum=30.0)

    assert [backoff.delay(n) for n in range(1, 8)] == [1, 2, 4, 8, 16, 30, 30]


def test_backoff_counts_again_from_one_after_a_long_run() -> None:
    backoff = Backoff(reset_after=60.0)

    assert backoff.failures_after(5, uptime=59.9) == 6
    assert backoff.failures_after(5, uptime=60.0) == 1


def test_component_names_must_be_unique() -> None:
    with pytest.raises(ValueError, match="unique"):
        Supervisor([Component("a", ("x",)), Component("a", ("y",))], output=io.StringIO())


def test_child_output_is_prefixed_with_the_component_name() -> None:
    out = io.StringIO()
    code = "import sys, time; print('hello'); print('oops', file=sys.stderr); time.sleep(60)"
    supervisor = Supervisor([Component("alpha", python(code))], output=out, colour=False)

    with running(supervisor):
        wait_for(lambda: "oops" in out.getvalue())

    lines = out.getvalue().splitlines()
    assert "alpha      | hello" in lines
    assert "alpha      | oops" in lines
    assert any(line.startswith("standalone | started alpha (pid ") for line in lines)


def test_colour_wraps_the_prefix_only() -> None:
    out = io.StringIO()
    supervisor = Supervisor([], output=out, colour=True)

    supervisor.say("hi")

    assert out.getvalue() == "\033[1mstandalone |\033[0m hi\n"


def test_a_child_that_dies_is_restarted_with_a_new_pid() -> None:
    out = io.StringIO()
    supervisor = Supervisor(
        [Component("crashy", python("import sys; sys.exit(3)"))], output=out, backoff=FAST
    )

    with running(supervisor):
        wait_for(lambda: len(supervisor.pid_history("crashy")) >= 3)

    pids = supervisor.pid_history("crashy")
    assert len(set(pids)) == len(pids)
    assert "exited with code 3" in out.getvalue()


def test_restart_delays_double(tmp_path: Path) -> None:
    starts = tmp_path / "starts"
    code = f"import time; open({str(starts)!r}, 'a').write(f'{{time.monotonic()}}\\n')"
    backoff = Backoff(initial=0.2, maximum=0.4, reset_after=10.0)
    out = io.StringIO()
    supervisor = Supervisor([Component("c", python(code))], output=out, backoff=backoff)

    with running(supervisor):
        wait_for(lambda: starts.exists() and len(starts.read_text().split()) >= 4)

    delays = [
        line.rsplit(" ", 2)[-2] for line in out.getvalue().splitlines() if "restarting in" in line
    ]
    assert delays[:3] == ["0.2", "0.4", "0.4"]  # doubling stops at the maximum
    times = [float(t) for t in starts.read_text().split()]
    gaps = [later - earlier for earlier, later in zip(times, times[1:], strict=False)]
    # Each restart waited at least its delay (how much longer depends on the machine).
    assert gaps[0] >= 0.2 and gaps[1] >= 0.4 and gaps[2] >= 0.4


def test_a_long_run_resets_the_delay() -> None:
    out = io.StringIO()
    backoff = Backoff(initial=0.1, maximum=5.0, reset_after=0.2)
    supervisor = Supervisor(
        [Component("slow", python("import time; time.sleep(0.3)"))], output=out, backoff=backoff
    )

    with running(supervisor):
        wait_for(lambda: len(supervisor.pid_history("slow")) >= 3)

    delays = [line for line in out.getvalue().splitlines() if "restarting in" in line]
    assert delays and all(line.endswith("restarting in 0.1 s") for line in delays)


def test_a_command_that_cannot_start_is_retried() -> None:
    out = io.StringIO()
    supervisor = Supervisor(
        [Component("ghost", ("/nonexistent/tradewind-test",))], output=out, backoff=FAST
    )

    with running(supervisor):
        wait_for(lambda: out.getvalue().count("could not start") >= 2)

    assert supervisor.pid_history("ghost") == []


def test_stop_terminates_every_child_and_its_group(tmp_path: Path) -> None:
    grandchild_file = tmp_path / "grandchild"
    code = (
        "import subprocess, sys, time\n"
        "p = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'])\n"
        f"open({str(grandchild_file)!r}, 'w').write(str(p.pid))\n"
        "time.sleep(60)\n"
    )
    supervisor = Supervisor(
        [
            Component("parent", python(code)),
            Component("other", python("import time; time.sleep(60)")),
        ],
        output=io.StringIO(),
    )

    with running(supervisor) as thread:
        wait_for(lambda: grandchild_file.exists() and grandchild_file.read_text())
        wait_for(lambda: supervisor.pid("other") is not None)
        pids = [supervisor.pid("parent"), supervisor.pid("other"), int(grandchild_file.read_text())]
        began = time.monotonic()
        supervisor.stop()
        thread.join(timeout=10)
        assert time.monotonic() - began < 3

    assert not any(alive(pid) for pid in pids if pid is not None)
    assert all(group_members(pid) == [] for pid in pids[:2] if pid is not None)


def test_a_child_ignoring_sigterm_is_killed_after_the_timeout() -> None:
    out = io.StringIO()
    code = (
        "import signal, time\n"
        "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
        "print('ignoring', flush=True)\n"
        "time.sleep(60)\n"
    )
    supervisor = Supervisor(
        [Component("stubborn", python(code))], output=out, stop_timeout=0.5, colour=False
    )

    with running(supervisor) as thread:
        wait_for(lambda: "ignoring" in out.getvalue())
        pid = supervisor.pid("stubborn")
        began = time.monotonic()
        supervisor.stop()
        thread.join(timeout=10)
        assert 0.5 <= time.monotonic() - began < 3

    assert pid is not None and not alive(pid)
    assert "stubborn did not stop within 0.5 s; killing it" in out.getvalue()
    assert "stubborn (pid" in out.getvalue() and "exited with signal SIGKILL" in out.getvalue()


def test_the_orphans_of_a_dead_child_are_killed_before_it_restarts(tmp_path: Path) -> None:
    record = tmp_path / "grandchildren"
    code = (
        "import subprocess, sys, time\n"
        "p = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'])\n"
        f"open({str(record)!r}, 'a').write(f'{{p.pid}}\\n')\n"
        "time.sleep(0.2)\n"
    )
    supervisor = Supervisor([Component("leaky", python(code))], output=io.StringIO(), backoff=FAST)

    with running(supervisor):
        wait_for(lambda: record.exists() and len(record.read_text().split()) >= 2)
        first = int(record.read_text().split()[0])
        wait_for(lambda: not alive(first), timeout=5)


def test_stop_before_start_returns_at_once() -> None:
    supervisor = Supervisor([Component("never", python("pass"))], output=io.StringIO())
    supervisor.stop()

    supervisor.run()

    assert supervisor.pid_history("never") == []
