"""ORM rows, one module per aggregate. Importing this package registers every table on
``Base.metadata``, which is what migrations and the schema test compare against.
"""

from __future__ import annotations

from tradewind.storage.tables.base import Base
from tradewind.storage.tables.callback_request import CallbackRequestRow
from tradewind.storage.tables.connection import ConnectionRow
from tradewind.storage.tables.dag import (
    DagCodeRow,
    DagOwnerLinkRow,
    DagRow,
    DagTagRow,
    DagWarningRow,
    SerializedDagRow,
)
from tradewind.storage.tables.dag_parsing_request import DagParsingRequestRow
from tradewind.storage.tables.dag_run import DagRunRow
from tradewind.storage.tables.dataset import (
    DagScheduleDatasetReferenceRow,
    DatasetDagRunQueueRow,
    DatasetEventRow,
    DatasetRow,
    TaskOutletDatasetReferenceRow,
    dagrun_dataset_event,
)
from tradewind.storage.tables.import_error import ImportErrorRow
from tradewind.storage.tables.job import JobRow
from tradewind.storage.tables.log import LogRow
from tradewind.storage.tables.pool import DEFAULT_POOL_NAME, PoolRow
from tradewind.storage.tables.security import (
    ApiTokenRow,
    PermissionRow,
    RoleRow,
    UserRow,
    role_permission,
    security_generation,
    user_role,
)
from tradewind.storage.tables.task_instance import (
    TaskInstanceHistoryRow,
    TaskInstanceRow,
    TaskMapRow,
    TaskRescheduleRow,
)
from tradewind.storage.tables.trigger import TriggerRow
from tradewind.storage.tables.variable import VariableRow
from tradewind.storage.tables.xcom import XComRow

__all__ = [
    "DEFAULT_POOL_NAME",
    "ApiTokenRow",
    "Base",
    "CallbackRequestRow",
    "ConnectionRow",
    "DagCodeRow",
    "DagOwnerLinkRow",
    "DagParsingRequestRow",
    "DagRow",
    "DagRunRow",
    "DagScheduleDatasetReferenceRow",
    "DagTagRow",
    "DagWarningRow",
    "DatasetDagRunQueueRow",
    "DatasetEventRow",
    "DatasetRow",
    "ImportErrorRow",
    "JobRow",
    "LogRow",
    "PermissionRow",
    "PoolRow",
    "RoleRow",
    "SerializedDagRow",
    "TaskInstanceHistoryRow",
    "TaskInstanceRow",
    "TaskMapRow",
    "TaskOutletDatasetReferenceRow",
    "TaskRescheduleRow",
    "TriggerRow",
    "UserRow",
    "VariableRow",
    "XComRow",
    "dagrun_dataset_event",
    "role_permission",
    "security_generation",
    "user_role",
]
