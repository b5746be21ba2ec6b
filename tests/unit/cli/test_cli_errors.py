"""How any command's failure reaches the user: one ``Error:`` line and an exit code."""

from __future__ import annotations

import click
import pytest
from click.testing import CliRunner

from tradewind.cli.errors import TradewindGroup
from tradewind.errors import CycleError, NotFound


@click.group(cls=TradewindGroup)
@click.option("-v", "--verbose", is_flag=True)
def app(verbose: bool) -> None:
    """A root group shaped like ``tradewind``'s, with commands that fail on purpose."""


@app.group()
def nested() -> None:
    """A nested group, like ``tradewind config``."""


@nested.command()
def missing() -> None:
    raise NotFound("DAG with dag_id: 'nope' not found")


@app.command()
def cycle() -> None:
    raise CycleError("Cycle detected in DAG demo:\n  a -> b\n  b -> a")


@app.command()
def interrupted() -> None:
    raise KeyboardInterrupt


@app.command()
def bug() -> None:
    raise RuntimeError("a bug")


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_domain_error_in_a_nested_command_is_one_line_and_exit_1(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("TRADEWIND_DEBUG", raising=False)

    assert run("nested", "missing") == (1, "", "Error: DAG with dag_id: 'nope' not found\n")


def test_multi_line_message_is_folded_onto_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TRADEWIND_DEBUG", raising=False)

    assert run("cycle")[2] == "Error: Cycle detected in DAG demo: a -> b b -> a\n"


def test_verbose_shows_the_traceback_then_the_error_line(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("TRADEWIND_DEBUG", raising=False)

    code, _, err = run("--verbose", "nested", "missing")

    assert code == 1
    assert err.startswith("Traceback (most recent call last):")
    assert "tradewind.errors.NotFound" in err
    assert err.endswith("Error: DAG with dag_id: 'nope' not found\n")


def test_tradewind_debug_shows_the_traceback(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRADEWIND_DEBUG", "1")

    code, _, err = run("nested", "missing")

    assert code == 1
    assert "Traceback" in err


def test_keyboard_interrupt_exits_130_quietly() -> None:
    assert run("interrupted") == (130, "", "")


def test_usage_error_keeps_exit_code_2() -> None:
    code, _, err = run("nested", "missing", "extra")

    assert code == 2
    assert "Got unexpected extra argument" in err


def test_other_exceptions_are_bugs_and_are_not_hidden() -> None:
    result = CliRunner().invoke(app, ["bug"])

    assert result.exit_code == 1
    assert isinstance(result.exception, RuntimeError)
