"""The operator ``@task.bash`` creates: the function returns the command to run.

The function is called at run time (with its arguments and the context entries it
asks for, like ``@task``), so the command can be computed from upstream XComs;
the returned string is then run exactly as ``BashOperator`` runs ``bash_command``.

Unlike Airflow, the returned command is not rendered as a Jinja template: it may
carry XCom data, and data produced by a task is never executed as a template. Ask
for ``ds``, ``params``... as function arguments instead.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from typing import Any, ClassVar

from tradewind.operators.bash import BashOperator
from tradewind.operators.python import call_with_context


class BashDecoratedOperator(BashOperator):
    """A ``BashOperator`` whose command is the return value of ``python_callable``.

    Args:
        python_callable: returns the command, a non-empty string.
        op_args, op_kwargs: its arguments (templated; XComArgs make dependencies).
        **kwargs: BashOperator and BaseOperator arguments, except ``bash_command``.
    """

    template_fields: ClassVar[Sequence[str]] = (
        "op_args",
        "op_kwargs",
        "bash_command",
        "env",
        "cwd",
    )
    custom_operator_name: ClassVar[str | None] = "@task.bash"

    def __init__(
        self,
        *,
        python_callable: Callable[..., Any],
        op_args: Collection[Any] | None = None,
        op_kwargs: Mapping[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        if "bash_command" in kwargs:
            raise TypeError("@task.bash takes no bash_command: the function returns it.")
        # The command is only known when the function runs; until then it is empty.
        super().__init__(bash_command="", **kwargs)
        self.python_callable = python_callable
        self.op_args = op_args or ()
        self.op_kwargs = op_kwargs or {}

    def execute(self, context: dict[str, Any]) -> str:
        """Call the function for the command, then run it as BashOperator does.

        Raises:
            TypeError: the function returned something other than a non-empty string.
        """
        command = call_with_context(self.python_callable, self.op_args, self.op_kwargs, context)
        if not isinstance(command, str) or not command.strip():
            raise TypeError(
                "The returned value from the TaskFlow callable must be a non-empty string."
            )
        self.bash_command = command
        return super().execute(context)
