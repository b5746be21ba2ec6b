"""BashOperator: run a shell command and push the last line it printed.

The command runs as ``bash -c <command>`` in its own process group, so killing the
task (``on_kill``: timeout, user action) also kills every process the command
started. Output (stdout and stderr merged) is streamed line by line to the task
log as it arrives, not buffered until the end, so a long command shows progress.
"""

from __future__ import annotations

import logging
import os
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Container, Mapping, Sequence
from contextlib import ExitStack
from typing import Any, ClassVar

from tradewind.sdk.baseoperator import BaseOperator
from tradewind.sdk.exceptions import AirflowException, TaskSkipped

log = logging.getLogger("tradewind.task")


class BashOperator(BaseOperator):
    """Execute a Bash command (or a ``.sh``/``.bash`` script rendered as a template).

    Args:
        bash_command: the command, or a path ending in ``.sh``/``.bash`` whose contents
            are rendered and run (templated).
        env: environment of the command (templated). None inherits the worker's
            environment; a dict replaces it unless ``append_env`` is set.
        append_env: add ``env`` to the worker's environment instead of replacing it.
        output_encoding: how the command's output bytes are decoded.
        skip_on_exit_code: exit code(s) that mark the task skipped instead of failed;
            None means none does. Defaults to 99, as in Airflow.
        cwd: working directory (templated); None runs in a fresh temporary directory
            that is removed afterwards.

    The ``AIRFLOW_CTX_*`` variables Airflow sets (dag id, task id, run id, try number,
    logical date) are added to the command's environment, so ported scripts keep working.
    """

    template_fields: ClassVar[Sequence[str]] = ("bash_command", "env", "cwd")
    template_fields_renderers: ClassVar[dict[str, str]] = {"bash_command": "bash", "env": "json"}
    template_ext: ClassVar[Sequence[str]] = (".sh", ".bash")
    ui_color: ClassVar[str] = "#f0ede4"

    def __init__(
        self,
        *,
        bash_command: str,
        env: dict[str, str] | None = None,
        append_env: bool = False,
        output_encoding: str = "utf-8",
        skip_on_exit_code: int | Container[int] | None = 99,
        cwd: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.bash_command = bash_command
        self.env = env
        self.append_env = append_env
        self.output_encoding = output_encoding
        self.skip_on_exit_code: Container[int] = _exit_codes(skip_on_exit_code)
        self.cwd = cwd
        self._process: subprocess.Popen[bytes] | None = None

    def execute(self, context: dict[str, Any]) -> str:
        """Run the command; return its last output line (pushed to XCom).

        Raises:
            AirflowException: ``cwd`` is not a directory, or the command exited non-zero.
            TaskSkipped: the command exited with a ``skip_on_exit_code``.
        """
        if self.cwd is not None:
            if not os.path.exists(self.cwd):
                raise AirflowException(f"Can not find the cwd: {self.cwd}")
            if not os.path.isdir(self.cwd):
                raise AirflowException(f"The cwd {self.cwd} must be a directory")
        exit_code, last_line = self.run_command(self.bash_command, self.get_env(context))
        if exit_code in self.skip_on_exit_code:
            raise TaskSkipped(f"Bash command returned exit code {exit_code}. Skipping.")
        if exit_code != 0:
            raise AirflowException(
                f"Bash command failed. The command returned a non-zero exit code {exit_code}."
            )
        return last_line

    def get_env(self, context: Mapping[str, Any]) -> dict[str, str]:
        """The command's environment: ``env`` / the worker's, plus ``AIRFLOW_CTX_*``."""
        if self.env is None:
            env = dict(os.environ)
        elif self.append_env:
            env = {**os.environ, **self.env}
        else:
            env = dict(self.env)
        env.update(_context_variables(context))
        return env

    def run_command(self, command: str, env: dict[str, str]) -> tuple[int, str]:
        """Run ``bash -c command``, logging each output line; return (exit code, last line)."""
        bash = shutil.which("bash") or "bash"
        with ExitStack() as stack:
            cwd = self.cwd or stack.enter_context(tempfile.TemporaryDirectory(prefix="tradewind"))
            log.info("Running command: %s", [bash, "-c", command])
            # start_new_session puts bash in its own process group (on_kill kills the
            # group); Popen restores SIGPIPE, which Python ignores, so pipes behave.
            self._process = subprocess.Popen(
                [bash, "-c", command],
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                cwd=cwd,
                env=env,
                start_new_session=True,
            )
            assert self._process.stdout is not None
            log.info("Output:")
            line = ""
            for raw_line in iter(self._process.stdout.readline, b""):
                line = raw_line.decode(self.output_encoding, errors="backslashreplace").rstrip()
                log.info("%s", line)
            self._process.stdout.close()
            exit_code = self._process.wait()
        log.info("Command exited with return code %s", exit_code)
        return exit_code, line

    def on_kill(self) -> None:
        """Send SIGTERM to the command's whole process group."""
        process = self._process
        if process is None or process.poll() is not None:
            return
        log.info("Sending SIGTERM signal to process group")
        try:
            os.killpg(os.getpgid(process.pid), signal.SIGTERM)
        except ProcessLookupError:
            pass  # it finished between poll() and killpg()


def _exit_codes(value: int | Container[int] | None) -> Container[int]:
    if value is None:
        return ()
    if isinstance(value, int):
        return (value,)
    return value


def _context_variables(context: Mapping[str, Any]) -> dict[str, str]:
    """Airflow's ``AIRFLOW_CTX_*`` environment variables, from what the context holds."""
    ti = context.get("ti")
    dag_run = context.get("dag_run")
    values = {
        "AIRFLOW_CTX_DAG_ID": getattr(ti, "dag_id", None),
        "AIRFLOW_CTX_TASK_ID": getattr(ti, "task_id", None),
        "AIRFLOW_CTX_DAG_RUN_ID": context.get("run_id") or getattr(ti, "run_id", None),
        "AIRFLOW_CTX_TRY_NUMBER": getattr(ti, "try_number", None),
        "AIRFLOW_CTX_EXECUTION_DATE": context.get("logical_date"),
        "AIRFLOW_CTX_DAG_OWNER": getattr(context.get("task"), "owner", None),
    }
    if dag_run is not None and values["AIRFLOW_CTX_EXECUTION_DATE"] is None:
        values["AIRFLOW_CTX_EXECUTION_DATE"] = getattr(dag_run, "logical_date", None)
    return {
        name: value.isoformat() if hasattr(value, "isoformat") else str(value)
        for name, value in values.items()
        if value is not None
    }
