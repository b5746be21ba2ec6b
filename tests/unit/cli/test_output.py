"""``-o table|json|yaml|plain`` rendering of row lists."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click
import pytest
import yaml
from click.testing import CliRunner

from tradewind.cli.output import NO_DATA, output_option, plain_text, render

ROWS = [
    {"dag_id": "example", "is_paused": True, "fileloc": Path("/dags/example.py")},
    {"dag_id": "[bold]markup[/bold]", "is_paused": False, "fileloc": None},
]


def rendered(rows: list[dict[str, Any]], output: str, **kwargs: Any) -> str:
    @click.command()
    @output_option
    def show(output: str) -> None:
        render(rows, output, **kwargs)

    result = CliRunner().invoke(show, ["-o", output])
    assert result.exit_code == 0, result.output
    return result.stdout


def test_json_is_plain_and_parseable() -> None:
    when = datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)
    text = rendered([{"when": when, **ROWS[0]}, ROWS[1]], "json")

    assert "\x1b" not in text
    assert json.loads(text) == [
        {
            "when": "2024-01-02 03:04:05+00:00",
            "dag_id": "example",
            "is_paused": True,
            "fileloc": "/dags/example.py",
        },
        {"when": None, "dag_id": "[bold]markup[/bold]", "is_paused": False, "fileloc": None},
    ]


def test_yaml_parses_to_the_same_rows() -> None:
    assert yaml.safe_load(rendered(ROWS, "yaml")) == [
        {"dag_id": "example", "is_paused": True, "fileloc": "/dags/example.py"},
        {"dag_id": "[bold]markup[/bold]", "is_paused": False, "fileloc": None},
    ]


def test_plain_is_aligned_columns_with_a_header() -> None:
    assert rendered(ROWS, "plain") == (
        "dag_id               is_paused  fileloc\n"
        "example              True       /dags/example.py\n"
        "[bold]markup[/bold]  False\n"
    )


def test_table_shows_values_literally() -> None:
    text = rendered(ROWS, "table")

    assert "[bold]markup[/bold]" in text
    assert "/dags/example.py" in text
    assert "dag_id" in text


def test_table_keeps_long_values_whole() -> None:
    long_value = "postgresql://db.example.com/" + "x" * 150

    text = rendered([{"key": "conn", "value": long_value}], "table")

    assert "…" not in text
    assert "x" * 40 in text.replace("\n", "")


def test_columns_choose_and_order_keys() -> None:
    assert rendered(ROWS, "plain", columns=["is_paused", "dag_id"]).splitlines()[0].split() == [
        "is_paused",
        "dag_id",
    ]


@pytest.mark.parametrize(
    ("output", "expected"),
    [("table", NO_DATA + "\n"), ("plain", NO_DATA + "\n"), ("json", "[]\n"), ("yaml", "[]\n")],
)
def test_empty_lists(output: str, expected: str) -> None:
    assert rendered([], output) == expected


def test_plain_without_header() -> None:
    assert plain_text([{"a": 1}], ["a"], show_header=False) == "1"


def test_unknown_format_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="Unknown output format 'xml'"):
        render([], "xml")


def test_output_option_defaults_to_table() -> None:
    @click.command()
    @output_option
    def show(output: str) -> None:
        click.echo(output)

    assert CliRunner().invoke(show, []).stdout == "table\n"
