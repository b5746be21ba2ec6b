"""Tradewind: author pipelines as Python, schedule and run them, drive them through /api/v1.

This module exports the public authoring names only; importing it reads no
configuration, opens no database and starts nothing::

    from tradewind import DAG, dag, task, task_group, Param, Dataset, chain
"""

from __future__ import annotations

from tradewind.decorators import dag, task, task_group
from tradewind.sdk.baseoperator import BaseOperator
from tradewind.sdk.dag import DAG
from tradewind.sdk.datasets import Dataset
from tradewind.sdk.dependencies import chain, cross_downstream
from tradewind.sdk.params import Param
from tradewind.sdk.task_group import TaskGroup
from tradewind.sdk.xcom_arg import XComArg

__version__ = "0.1.0"

__all__ = [
    "DAG",
    "BaseOperator",
    "Dataset",
    "Param",
    "TaskGroup",
    "XComArg",
    "__version__",
    "chain",
    "cross_downstream",
    "dag",
    "task",
    "task_group",
]
