"""Which files the DAG processor picks up: extensions, ignore files, safe mode, zips."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from tradewind.dag_processing.discovery import list_dag_files, might_contain_dag

DAG_TEXT = "from tradewind import DAG\ndag = DAG('x')\n"


def write(root: Path, relative: str, text: str = DAG_TEXT) -> Path:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def names(root: Path, **kwargs: object) -> list[str]:
    found = list_dag_files(root, **{"safe_mode": True, **kwargs})  # type: ignore[arg-type]
    return [p.relative_to(root).as_posix() for p in found]


def test_finds_py_and_zip_files_recursively_sorted(tmp_path: Path) -> None:
    write(tmp_path, "b.py")
    write(tmp_path, "a/deep/c.py")
    write(tmp_path, "notes.txt")
    with zipfile.ZipFile(tmp_path / "packed.zip", "w") as archive:
        archive.writestr("member.py", DAG_TEXT)
    assert names(tmp_path) == ["a/deep/c.py", "b.py", "packed.zip"]


def test_skips_hidden_and_pycache(tmp_path: Path) -> None:
    write(tmp_path, ".hidden.py")
    write(tmp_path, ".git/x.py")
    write(tmp_path, "__pycache__/y.py")
    write(tmp_path, "ok.py")
    assert names(tmp_path) == ["ok.py"]


def test_safe_mode_needs_dag_and_orchestrator_name(tmp_path: Path) -> None:
    write(tmp_path, "helper.py", "def f():\n    return 1\n")
    write(tmp_path, "dag_words.py", "# a dag without the name\n")
    write(tmp_path, "airflow_dag.py", "from airflow import DAG\n")
    write(tmp_path, "upper.py", "FROM TRADEWIND IMPORT dAg\n")
    assert names(tmp_path) == ["airflow_dag.py", "upper.py"]
    assert names(tmp_path, safe_mode=False) == [
        "airflow_dag.py",
        "dag_words.py",
        "helper.py",
        "upper.py",
    ]


def test_might_contain_dag() -> None:
    assert might_contain_dag(b"import tradewind\n# DAG")
    assert not might_contain_dag(b"import tradewind")
    assert not might_contain_dag(b"dag = 1")


def test_zip_passes_safe_mode_by_its_top_level_members(tmp_path: Path) -> None:
    with zipfile.ZipFile(tmp_path / "helpers.zip", "w") as archive:
        archive.writestr("util.py", "x = 1\n")
        archive.writestr("pkg/nested.py", DAG_TEXT)  # not importable as a top-level module
    with zipfile.ZipFile(tmp_path / "dags.zip", "w") as archive:
        archive.writestr("util.py", "x = 1\n")
        archive.writestr("my_dag.py", DAG_TEXT)
    (tmp_path / "fake.zip").write_text("not a zip")
    assert names(tmp_path) == ["dags.zip"]
    assert names(tmp_path, safe_mode=False) == ["dags.zip", "helpers.zip"]


def test_regexp_ignore_matches_path_relative_to_the_dags_folder(tmp_path: Path) -> None:
    write(tmp_path, ".airflowignore", "project_a\ntenant_[\\d]  # a comment\n# only a comment\n")
    for name in ["project_a_dag_1.py", "TESTING_project_a.py", "tenant_1.py", "tenant_x.py"]:
        write(tmp_path, name)
    write(tmp_path, "project_a/dag_1.py")
    write(tmp_path, "tenant_1/dag_1.py")
    write(tmp_path, "other/dag_2.py")
    assert names(tmp_path) == ["other/dag_2.py", "tenant_x.py"]


def test_regexp_patterns_apply_to_their_folder_and_subfolders_only(tmp_path: Path) -> None:
    write(tmp_path, "sub/.tradewindignore", "skip_me\n")
    write(tmp_path, "sub/skip_me.py")
    write(tmp_path, "sub/inner/skip_me_too.py")
    write(tmp_path, "sub/keep.py")
    write(tmp_path, "skip_me.py")  # the pattern lives in sub/, so the root file stays
    write(tmp_path, "sibling/skip_me.py")
    assert names(tmp_path) == ["sibling/skip_me.py", "skip_me.py", "sub/keep.py"]


def test_regexp_sees_the_path_from_the_root(tmp_path: Path) -> None:
    write(tmp_path, ".airflowignore", "^a/b/\n")
    write(tmp_path, "a/b/x.py")
    write(tmp_path, "a/c/b/y.py")
    assert names(tmp_path) == ["a/c/b/y.py"]


def test_invalid_regexp_is_skipped(tmp_path: Path) -> None:
    write(tmp_path, ".airflowignore", "([unclosed\nbad\n")
    write(tmp_path, "bad.py")
    write(tmp_path, "good.py")
    assert names(tmp_path) == ["good.py"]


def test_glob_names_anchors_negation_and_directories(tmp_path: Path) -> None:
    write(
        tmp_path,
        ".airflowignore",
        "*_test.py\n!keep_test.py\nbuild/\n/top_only.py\nlib/**/gen_*.py\n",
    )
    write(tmp_path, "a_test.py")
    write(tmp_path, "keep_test.py")
    write(tmp_path, "nested/b_test.py")
    write(tmp_path, "build/x.py")
    write(tmp_path, "nested/build/y.py")
    write(tmp_path, "build.py")  # "build/" matches directories only
    write(tmp_path, "top_only.py")
    write(tmp_path, "nested/top_only.py")
    write(tmp_path, "lib/gen_a.py")
    write(tmp_path, "lib/x/y/gen_b.py")
    write(tmp_path, "lib/x/keep.py")
    assert names(tmp_path, ignore_file_syntax="glob") == [
        "build.py",
        "keep_test.py",
        "lib/x/keep.py",
        "nested/top_only.py",
    ]


def test_glob_in_a_subfolder_is_anchored_there(tmp_path: Path) -> None:
    write(tmp_path, "sub/.tradewindignore", "/local.py\ndeep/*.py\n")
    write(tmp_path, "sub/local.py")
    write(tmp_path, "sub/x/local.py")
    write(tmp_path, "sub/deep/a.py")
    write(tmp_path, "local.py")
    assert names(tmp_path, ignore_file_syntax="glob") == ["local.py", "sub/x/local.py"]


def test_tradewindignore_can_reinclude_after_airflowignore_in_glob_mode(tmp_path: Path) -> None:
    write(tmp_path, ".airflowignore", "*.py\n")
    write(tmp_path, ".tradewindignore", "!wanted.py\n")
    write(tmp_path, "wanted.py")
    write(tmp_path, "unwanted.py")
    assert names(tmp_path, ignore_file_syntax="glob") == ["wanted.py"]


def test_a_file_or_missing_folder(tmp_path: Path) -> None:
    single = write(tmp_path, "plain.py", "x = 1\n")
    assert list_dag_files(single, safe_mode=True) == [single]
    assert list_dag_files(tmp_path / "missing", safe_mode=True) == []


def test_unknown_syntax_is_rejected(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="dag_ignore_file_syntax"):
        list_dag_files(tmp_path, safe_mode=True, ignore_file_syntax="fnmatch")


def test_symlink_loops_do_not_recurse_forever(tmp_path: Path) -> None:
    write(tmp_path, "real/x.py")
    (tmp_path / "real" / "loop").symlink_to(tmp_path / "real", target_is_directory=True)
    assert names(tmp_path) == ["real/x.py"]
