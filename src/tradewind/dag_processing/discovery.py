"""Which files under the DAGs folder are DAG files.

A DAG file is a ``.py`` file, or a ``.zip`` archive whose top-level ``.py`` members are
imported, found recursively under the folder. Two things narrow the list, as in
Airflow 2.10 so that an existing DAGs folder behaves the same here:

- ignore files: ``.airflowignore`` and ``.tradewindignore`` in any directory list
  patterns (one per line, ``#`` starts a comment) that apply to that directory and
  its subfolders. ``[core] dag_ignore_file_syntax`` chooses their syntax:
  ``regexp`` (default; ``re.search`` on the path relative to the DAGs folder) or
  ``glob`` (gitignore rules: a pattern containing ``/`` is anchored to the ignore
  file's directory, others match the file or directory name; ``!`` re-includes;
  a trailing ``/`` matches directories only; the last matching pattern wins).
  An ignored directory is not walked at all.
- safe mode (``[core] dag_discovery_safe_mode``): only files whose bytes mention both
  ``dag`` and ``tradewind`` (or ``airflow``), case-insensitively. It saves importing
  helper modules that merely sit in the folder; a zip passes when one of its
  top-level ``.py`` members does.

Hidden files and directories (``.name``) and ``__pycache__`` are always skipped.
"""

from __future__ import annotations

import logging
import os
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

logger = logging.getLogger(__name__)

#: Ignore files read in every directory, in this order (later patterns win in glob mode).
IGNORE_FILE_NAMES = (".airflowignore", ".tradewindignore")
IGNORE_SYNTAXES = ("regexp", "glob")

_COMMENT = re.compile(r"\s*#.*")


@dataclass(frozen=True)
class IgnoreRule:
    """One compiled line of an ignore file.

    Attributes:
        regex: matched against ``target`` (see :meth:`matches`).
        anchor: directory the path is made relative to; None means match the name only.
        negated: a glob ``!pattern``, which re-includes what earlier rules ignored.
        dir_only: a glob ``pattern/``, which matches directories only.
        search: regexp syntax (``re.search``) rather than a full match.
    """

    regex: re.Pattern[str]
    anchor: Path | None
    negated: bool = False
    dir_only: bool = False
    search: bool = False

    def matches(self, path: Path, is_dir: bool) -> bool:
        if self.dir_only and not is_dir:
            return False
        target = path.relative_to(self.anchor).as_posix() if self.anchor else path.name
        if self.search:
            return self.regex.search(target) is not None
        return self.regex.match(target) is not None


def is_ignored(path: Path, is_dir: bool, rules: list[IgnoreRule]) -> bool:
    """Whether the rules ignore ``path``: the last matching rule decides."""
    ignored = False
    for rule in rules:
        if rule.matches(path, is_dir):
            ignored = not rule.negated
    return ignored


def compile_rule(line: str, *, syntax: str, root: Path, ignore_file: Path) -> IgnoreRule | None:
    """Compile one ignore-file line; None for blank lines, comments and invalid patterns."""
    pattern = _COMMENT.sub("", line).strip()
    if not pattern:
        return None
    if syntax == "regexp":
        try:
            return IgnoreRule(re.compile(pattern), anchor=root, search=True)
        except re.error as exc:
            logger.warning("Ignoring invalid regexp %r from %s: %s", pattern, ignore_file, exc)
            return None
    if syntax != "glob":
        raise ValueError(f"Unsupported dag_ignore_file_syntax: {syntax!r}")
    negated = pattern.startswith("!")
    pattern = pattern[1:] if negated else pattern.removeprefix("\\")
    dir_only = pattern.endswith("/")
    pattern = pattern.rstrip("/")
    if not pattern:
        logger.warning("Ignoring no-op glob pattern %r from %s", line.strip(), ignore_file)
        return None
    anchored = "/" in pattern
    body = _glob_to_regex(pattern.lstrip("/"))
    anchor = ignore_file.parent if anchored else None
    return IgnoreRule(re.compile(f"^{body}(?:/.*)?$"), anchor, negated, dir_only)


def _glob_to_regex(pattern: str) -> str:
    """Translate a gitignore glob (``*``, ``?``, ``[...]``, ``**``) to a regex body."""
    parts = pattern.split("/")
    out: list[str] = []
    for index, part in enumerate(parts):
        last = index == len(parts) - 1
        if part == "**":
            # "**/" matches zero or more directories; a final "**" everything inside.
            out.append(".*" if last else "(?:[^/]+/)*")
            continue
        out.append(_glob_segment(part) + ("" if last else "/"))
    return "".join(out)


def _glob_segment(segment: str) -> str:
    out: list[str] = []
    i = 0
    while i < len(segment):
        char = segment[i]
        if char == "*":
            out.append("[^/]*")
        elif char == "?":
            out.append("[^/]")
        elif char == "[":
            end = segment.find("]", i + 2 if segment[i + 1 : i + 2] in ("!", "]") else i + 1)
            if end == -1:
                out.append(re.escape(char))
            else:
                inner = segment[i + 1 : end]
                if inner.startswith("!"):
                    inner = "^" + inner[1:]
                out.append("[" + inner.replace("\\", "\\\\") + "]")
                i = end
        elif char == "\\" and i + 1 < len(segment):
            i += 1
            out.append(re.escape(segment[i]))
        else:
            out.append(re.escape(char))
        i += 1
    return "".join(out)


def read_ignore_rules(directory: Path, *, syntax: str, root: Path) -> list[IgnoreRule]:
    """The rules of the ignore files directly in ``directory``, in file then line order."""
    rules: list[IgnoreRule] = []
    for name in IGNORE_FILE_NAMES:
        ignore_file = directory / name
        if not ignore_file.is_file():
            continue
        try:
            text = ignore_file.read_text(encoding="utf-8", errors="replace")
        except OSError as exc:
            logger.warning("Cannot read %s: %s", ignore_file, exc)
            continue
        for line in text.splitlines():
            rule = compile_rule(line, syntax=syntax, root=root, ignore_file=ignore_file)
            if rule is not None:
                rules.append(rule)
    return rules


def might_contain_dag(content: bytes) -> bool:
    """Airflow's safe-mode heuristic: the text mentions ``dag`` and the orchestrator."""
    lowered = content.lower()
    return b"dag" in lowered and (b"tradewind" in lowered or b"airflow" in lowered)


def zip_dag_members(path: Path, *, safe_mode: bool) -> list[str]:
    """Top-level ``.py`` members of a zip that are worth importing, in archive order.

    Only top-level members are importable as modules of the archive (the archive is
    put on ``sys.path``), which is also what Airflow imports.
    """
    members: list[str] = []
    with zipfile.ZipFile(path) as archive:
        for info in archive.infolist():
            name = info.filename
            if info.is_dir() or "/" in name or not name.endswith(".py"):
                continue
            if name.startswith(".") or (safe_mode and not might_contain_dag(archive.read(info))):
                continue
            members.append(name)
    return members


def is_dag_file(path: Path, *, safe_mode: bool) -> bool:
    """Whether one existing file is a DAG file candidate (extension and safe mode)."""
    try:
        if path.suffix == ".py":
            return not safe_mode or might_contain_dag(path.read_bytes())
        if path.suffix == ".zip" and zipfile.is_zipfile(path):
            return bool(zip_dag_members(path, safe_mode=safe_mode))
    except (OSError, zipfile.BadZipFile) as exc:
        logger.warning("Skipping %s: %s", path, exc)
    return False


def list_dag_files(
    folder: str | os.PathLike[str], *, safe_mode: bool, ignore_file_syntax: str = "regexp"
) -> list[Path]:
    """Every DAG file under ``folder``, sorted, as absolute paths.

    A ``folder`` that is itself a ``.py`` or ``.zip`` file is returned alone, without
    the safe-mode check (it was named on purpose). A missing folder gives an empty list.

    Raises:
        ValueError: ``ignore_file_syntax`` is neither ``regexp`` nor ``glob``.
    """
    if ignore_file_syntax not in IGNORE_SYNTAXES:
        raise ValueError(f"Unsupported dag_ignore_file_syntax: {ignore_file_syntax!r}")
    root = Path(folder).absolute()
    if root.is_file():
        return [root] if root.suffix in (".py", ".zip") else []
    if not root.is_dir():
        return []
    found: list[Path] = []
    rules_by_dir: dict[Path, list[IgnoreRule]] = {root: []}
    seen_real_dirs: set[Path] = set()
    for dirpath, dirnames, filenames in os.walk(root, followlinks=True):
        current = Path(dirpath)
        real = current.resolve()
        if real in seen_real_dirs:
            logger.warning("Skipping %s: a symbolic link loop leads back to it", current)
            dirnames[:] = []
            continue
        seen_real_dirs.add(real)
        rules = rules_by_dir.pop(current, []) + read_ignore_rules(
            current, syntax=ignore_file_syntax, root=root
        )
        kept = []
        for name in sorted(dirnames):
            sub = current / name
            if _hidden(name) or is_ignored(sub, True, rules):
                continue
            kept.append(name)
            rules_by_dir[sub] = list(rules)
        dirnames[:] = kept
        for name in sorted(filenames):
            path = current / name
            if _hidden(name) or path.suffix not in (".py", ".zip"):
                continue
            if is_ignored(path, False, rules) or not path.is_file():
                continue
            if is_dag_file(path, safe_mode=safe_mode):
                found.append(path)
    return sorted(found)


def source_file(fileloc: str | os.PathLike[str]) -> Path:
    """The file on disk a DAG's ``fileloc`` comes from: the archive for ``x.zip/member.py``."""
    path = Path(fileloc)
    for parent in path.parents:
        if parent.suffix == ".zip" and parent.is_file():
            return parent
    return path


def _hidden(name: str) -> bool:
    return name.startswith(".") or name == "__pycache__"
