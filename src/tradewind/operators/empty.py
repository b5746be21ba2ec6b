"""EmptyOperator: a task that does nothing, used to group and join dependencies."""

from __future__ import annotations

from typing import Any, ClassVar

from tradewind.sdk.baseoperator import BaseOperator


class EmptyOperator(BaseOperator):
    """A no-op task (Airflow's ``EmptyOperator``, formerly ``DummyOperator``).

    ``inherits_from_empty_operator`` lets the scheduler mark it successful without
    sending it to an executor, which is why start/join/end markers cost nothing.
    """

    ui_color: ClassVar[str] = "#e8f7e4"
    inherits_from_empty_operator: ClassVar[bool] = True

    def execute(self, context: dict[str, Any]) -> None:
        """Do nothing; the scheduler usually never gets this far."""
