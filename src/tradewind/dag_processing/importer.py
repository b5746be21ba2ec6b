"""Import one DAG file in the current process and collect its DAGs.

This is the code that runs user DAG files. The DAG processor runs it only inside a
child process (see ``parser``); ``collect_dags`` runs it in-process for CLI commands
that need live DAG objects. It knows nothing of databases.

As in Airflow 2, a ``.py`` file is imported under a unique module name
(``unusual_prefix_<sha1 of path>_<stem>``) so that two ``dags.py`` in different
folders do not shadow each other, with its folder on ``sys.path`` so that it can
import its neighbours. A zip archive is put on ``sys.path`` and its top-level ``.py``
members are imported by their plain names. The DAGs of a file are the ``DAG``
objects in its module globals plus those defined with ``with DAG(...)`` (or ``@dag``,
which uses it) while the file was imported, even when never bound to a name.
"""

from __future__ import annotations

import functools
import hashlib
import importlib
import importlib.util
import sys
import time
import traceback
import types
import warnings
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from tradewind.dag_processing.discovery import zip_dag_members
from tradewind.sdk import definition_context
from tradewind.sdk.dag import DAG

_THIS_FILE = __file__


@dataclass
class LoadedFile:
    """What importing one DAG file produced.

    Attributes:
        path: the file imported (a ``.py`` file or a ``.zip`` archive).
        dags: live DAG objects by dag_id, their ``fileloc`` set to the module's file.
        import_errors: traceback text by file (the file itself, or ``archive.zip/member.py``).
        warnings: Python warnings raised while importing, one line each.
        sources: source text by fileloc, for the UI's code view.
        duration: seconds spent importing.
    """

    path: Path
    dags: dict[str, DAG] = field(default_factory=dict)
    import_errors: dict[str, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    sources: dict[str, str] = field(default_factory=dict)
    duration: float = 0.0


def module_name_for(path: Path) -> str:
    """Airflow's unique module name for a DAG file: ``unusual_prefix_<sha1>_<stem>``."""
    digest = hashlib.sha1(str(path).encode("utf-8")).hexdigest()
    return f"unusual_prefix_{digest}_{path.stem}"


def import_dag_file(
    path: str | Path, *, safe_mode: bool = True, extra_sys_path: Iterable[str | Path] = ()
) -> LoadedFile:
    """Import ``path`` and collect its DAGs; never raises for errors of the user's code.

    Errors raised while importing (including ``SystemExit``) become ``import_errors``
    with the traceback trimmed to start at the user's code; a module that raised
    contributes no DAG. DAGs are not validated here: see :func:`validate_dags`.
    """
    started = time.monotonic()
    loaded = LoadedFile(path=Path(path).absolute())
    for entry in extra_sys_path:
        _add_sys_path(str(entry))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("default")
        if loaded.path.suffix == ".zip":
            _import_zip(loaded, safe_mode=safe_mode)
        else:
            _import_py(loaded)
    loaded.warnings = [
        f"{w.filename}:{w.lineno}: {w.category.__name__}: {w.message}" for w in caught
    ]
    loaded.duration = time.monotonic() - started
    return loaded


def validate_dags(loaded: LoadedFile) -> None:
    """Call ``validate()`` on every DAG; a failing DAG moves to ``import_errors``."""
    for dag_id, dag in list(loaded.dags.items()):
        try:
            dag.validate()
        except Exception as exc:
            del loaded.dags[dag_id]
            add_error(loaded, dag.fileloc, exc)


def add_error(loaded: LoadedFile, fileloc: str, exc: BaseException) -> None:
    """Record ``exc`` against ``fileloc``, appending to an error already recorded there."""
    text = format_user_traceback(exc)
    previous = loaded.import_errors.get(fileloc)
    loaded.import_errors[fileloc] = f"{previous}\n{text}" if previous else text


def format_user_traceback(exc: BaseException) -> str:
    """The traceback of ``exc`` without the importing machinery's frames at its top.

    Airflow shows the last frames only; the whole user part is more useful and is
    still short, because frames of importlib and of this module are dropped.
    """
    tb = exc.__traceback__
    while tb is not None and _is_machinery(tb.tb_frame.f_code.co_filename):
        tb = tb.tb_next
    return "".join(traceback.format_exception(type(exc), exc, tb))


def _is_machinery(filename: str) -> bool:
    return filename == _THIS_FILE or filename.startswith("<frozen importlib")


def _import_py(loaded: LoadedFile) -> None:
    path = loaded.path
    fileloc = str(path)
    try:
        loaded.sources[fileloc] = path.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        add_error(loaded, fileloc, exc)
        return
    _add_sys_path(str(path.parent))
    name = module_name_for(path)
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        loaded.import_errors[fileloc] = f"Cannot import {fileloc}: not a Python module"
        return
    loader = spec.loader

    def load() -> types.ModuleType:
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        loader.exec_module(module)
        return module

    _run_module(loaded, fileloc, load)


def _import_zip(loaded: LoadedFile, *, safe_mode: bool) -> None:
    archive = str(loaded.path)
    try:
        members = zip_dag_members(loaded.path, safe_mode=safe_mode)
    except Exception as exc:
        add_error(loaded, archive, exc)
        return
    _add_sys_path(archive)
    for member in members:
        fileloc = f"{archive}/{member}"
        name = member.removesuffix(".py")
        sys.modules.pop(name, None)
        _run_module(loaded, fileloc, functools.partial(importlib.import_module, name))
        try:
            with zipfile.ZipFile(archive) as opened:
                loaded.sources[fileloc] = opened.read(member).decode("utf-8", "replace")
        except (OSError, zipfile.BadZipFile):
            loaded.sources[fileloc] = ""


def _run_module(loaded: LoadedFile, fileloc: str, load: Callable[[], types.ModuleType]) -> None:
    """Import a module, recording the DAGs that enter ``with DAG(...)`` meanwhile.

    A module that raises contributes no DAG, as in Airflow: its DAGs keep their last
    good version in the database, marked as having import errors.
    """
    created: list[DAG] = []
    original_push = definition_context.push_dag

    def recording_push(dag: DAG) -> None:
        created.append(dag)
        original_push(dag)

    definition_context.push_dag = recording_push
    try:
        module = load()
    except (Exception, SystemExit) as exc:
        add_error(loaded, fileloc, exc)
        return
    finally:
        definition_context.push_dag = original_push
    for obj in [*vars(module).values(), *created]:
        if isinstance(obj, DAG):
            obj.fileloc = fileloc
            loaded.dags[obj.dag_id] = obj


def _add_sys_path(entry: str) -> None:
    if entry not in sys.path:
        sys.path.insert(0, entry)
