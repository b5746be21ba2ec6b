"""The local half of the scheduler wake-up: Unix datagram sockets, one per scheduler."""

from __future__ import annotations

import select
import shutil
import socket
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tradewind.config import Settings, load_settings
from tradewind.storage.wakeup import SchedulerWakeup, notify_scheduler, socket_dir


@pytest.fixture
def home_settings(tmp_path: Path) -> Settings:
    return load_settings(environ={}, home=tmp_path / "home")


@pytest.fixture
def wakeup(home_settings: Settings) -> Iterator[SchedulerWakeup]:
    with SchedulerWakeup(home_settings) as opened:
        yield opened


def readable(wakeup: SchedulerWakeup, timeout: float = 5.0) -> bool:
    return bool(select.select(wakeup.filenos(), [], [], timeout)[0])


def test_notify_wakes_every_scheduler_of_the_home_folder(
    home_settings: Settings, wakeup: SchedulerWakeup
) -> None:
    with SchedulerWakeup(home_settings) as other:
        assert not readable(wakeup, 0)
        notify_scheduler(home_settings)
        assert readable(wakeup) and readable(other)
        assert wakeup.drain() == 1 and other.drain() == 1
        assert not readable(wakeup, 0)


def test_wake_in_process_and_drain_consumes_everything(wakeup: SchedulerWakeup) -> None:
    for _ in range(3):
        wakeup.wake()
    assert readable(wakeup)
    assert wakeup.drain() == 3
    assert wakeup.drain() == 0


def test_close_removes_the_socket_and_notify_still_never_raises(
    home_settings: Settings,
) -> None:
    opened = SchedulerWakeup(home_settings)
    path = opened.path
    assert path is not None and path.exists()
    opened.close()
    opened.close()
    assert not path.exists()
    notify_scheduler(home_settings)


def test_a_dead_schedulers_socket_is_removed(home_settings: Settings) -> None:
    code = "import os; print(os.getpid())"
    dead = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    folder = socket_dir(home_settings)
    folder.mkdir(parents=True, exist_ok=True)
    stale = folder / f"scheduler-{int(dead.stdout)}-0.sock"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as orphan:
        orphan.bind(str(stale))  # closing it leaves the file behind, as a crash would
    notify_scheduler(home_settings)
    assert not stale.exists()


def test_a_home_too_long_for_a_socket_path_uses_a_short_folder(tmp_path: Path) -> None:
    settings = load_settings(environ={}, home=tmp_path / ("h" * 120))
    folder = socket_dir(settings)
    assert len(str(folder)) < 60 and folder == socket_dir(settings)
    with SchedulerWakeup(settings) as wakeup:
        notify_scheduler(settings)
        assert readable(wakeup)


@pytest.fixture
def short_home() -> Iterator[Path]:
    """A home with a short path: under pytest-xdist ``tmp_path`` is long enough that
    socket paths would move to the temporary-directory fallback, which is usable."""
    home = Path(tempfile.mkdtemp(prefix="twh"))
    yield home
    shutil.rmtree(home, ignore_errors=True)


def test_an_unusable_folder_still_allows_in_process_wakeups(short_home: Path) -> None:
    home = short_home
    settings = load_settings(environ={}, home=home)
    (home / "run").write_text("a file where the folder should be")
    with SchedulerWakeup(settings) as wakeup:
        assert wakeup.path is None
        wakeup.wake()
        assert readable(wakeup)
        notify_scheduler(settings)
