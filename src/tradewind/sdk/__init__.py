"""The authoring SDK: everything a DAG file uses, and nothing else.

Pure Python: it imports no database, web or HTTP library, reads no configuration
and never asks the clock (the import-linter contracts in pyproject.toml guard it).
The scheduler, task runner and API depend on it; it depends only on
``tradewind.errors``.
"""

from __future__ import annotations

from tradewind.sdk.baseoperator import BaseOperator
from tradewind.sdk.dag import DAG
from tradewind.sdk.datasets import Dataset, DatasetAll, DatasetAny
from tradewind.sdk.dependencies import chain, cross_downstream
from tradewind.sdk.params import Param, ParamsDict
from tradewind.sdk.states import DagRunState, DagRunType, TaskInstanceState
from tradewind.sdk.task_group import TaskGroup
from tradewind.sdk.trigger_rules import TriggerRule
from tradewind.sdk.weight_rule import WeightRule
from tradewind.sdk.xcom_arg import XComArg

__all__ = [
    "DAG",
    "BaseOperator",
    "DagRunState",
    "DagRunType",
    "Dataset",
    "DatasetAll",
    "DatasetAny",
    "Param",
    "ParamsDict",
    "TaskGroup",
    "TaskInstanceState",
    "TriggerRule",
    "WeightRule",
    "XComArg",
    "chain",
    "cross_downstream",
]
