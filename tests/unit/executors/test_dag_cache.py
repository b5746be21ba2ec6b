"""DagCache: each DAG file is imported once per mtime in a process."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

import pytest

from tradewind.errors import NotFound
from tradewind.execution.try_run import DagCache
from tradewind.sdk.dag import DAG


class CountingLoader:
    def __init__(self, errors: dict[str, str] | None = None) -> None:
        self.calls: list[str] = []
        self.errors = errors or {}

    def __call__(self, path: str, /, *, errors: dict[str, str] | None = None) -> Mapping[str, DAG]:
        self.calls.append(path)
        if errors is not None:
            errors.update(self.errors)
        return {} if self.errors else {"d": DAG("d", schedule=None)}


def test_a_file_is_imported_once_until_its_mtime_changes(tmp_path: Path) -> None:
    path = tmp_path / "d.py"
    path.write_text("# dag")
    loader = CountingLoader()
    cache = DagCache(loader)
    first = cache.get(str(path), "d")
    assert cache.get(str(path), "d") is first
    os.utime(path, ns=(1, path.stat().st_mtime_ns + 1_000_000))
    assert cache.get(str(path), "d") is not first
    assert loader.calls == [str(path), str(path)]


def test_a_missing_dag_says_why(tmp_path: Path) -> None:
    path = tmp_path / "d.py"
    path.write_text("# dag")
    cache = DagCache(CountingLoader(errors={str(path): "SyntaxError: nope"}))
    with pytest.raises(NotFound, match="SyntaxError: nope"):
        cache.get(str(path), "d")


def test_a_missing_file_is_not_found_and_preload_never_raises(tmp_path: Path) -> None:
    cache = DagCache(CountingLoader())
    with pytest.raises(NotFound, match="does not exist"):
        cache.get(str(tmp_path / "gone.py"), "d")
    cache.preload(str(tmp_path / "gone.py"), "d")


def test_a_member_of_a_zip_archive_uses_the_archive_mtime(tmp_path: Path) -> None:
    archive = tmp_path / "dags.zip"
    archive.write_bytes(b"PK")
    loader = CountingLoader()
    cache = DagCache(loader)
    cache.get(f"{archive}/d.py", "d")
    cache.get(f"{archive}/d.py", "d")
    assert loader.calls == [f"{archive}/d.py"]
