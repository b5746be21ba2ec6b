"""collect_dags: live DAG objects in-process, for ``dags test`` and friends."""

from __future__ import annotations

import zipfile
from pathlib import Path

from tradewind import DAG
from tradewind.dag_processing.processor import collect_dags

TEXT = """\
from tradewind import DAG
from tradewind.operators.empty import EmptyOperator

with DAG({dag_id!r}, schedule=None) as dag:
    EmptyOperator(task_id="only")
"""


def test_collect_from_a_file_and_a_folder(tmp_path: Path) -> None:
    one = tmp_path / "one.py"
    one.write_text(TEXT.format(dag_id="one"))
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "two.py").write_text(TEXT.format(dag_id="two"))
    (tmp_path / "broken.py").write_text("import tradewind  # dag\nraise KeyError('x')\n")

    from_file = collect_dags(one)
    assert list(from_file) == ["one"]
    assert isinstance(from_file["one"], DAG)
    assert from_file["one"].fileloc == str(one)
    assert from_file["one"].task_ids == ["only"]

    errors: dict[str, str] = {}
    from_folder = collect_dags(tmp_path, errors=errors)
    assert sorted(from_folder) == ["one", "two"]
    assert list(errors) == [str(tmp_path / "broken.py")]
    assert "KeyError: 'x'" in errors[str(tmp_path / "broken.py")]


def test_collect_from_a_zip_member_fileloc(tmp_path: Path) -> None:
    archive = tmp_path / "pack.zip"
    with zipfile.ZipFile(archive, "w") as bundle:
        bundle.writestr("packed_collect_dag.py", TEXT.format(dag_id="packed"))
    found = collect_dags(f"{archive}/packed_collect_dag.py")
    assert list(found) == ["packed"]
    assert found["packed"].fileloc == f"{archive}/packed_collect_dag.py"
