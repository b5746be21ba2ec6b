"""``.../logs/{task_try_number}``: the log of one try, as JSON pages or plain text.

Reading needs ``can_read`` on Task Logs and on the DAG, as Airflow's
``requires_access_dag("GET", TASK_LOGS)``. The log is read from ``[logging]
base_log_folder``, where workers write it, and only from there
(:mod:`tradewind.services.task_logs`).

The answer's type follows the ``Accept`` header as Airflow chooses it (werkzeug's
``best_match(["text/plain", "application/json"])``, :mod:`tradewind.api.negotiation`):
the best quality wins, then the most specific match, then ``text/plain``; no ``Accept``
header, or one matching neither, gets JSON. So ``curl`` (``*/*``) gets plain text and
the official client (``application/json``) JSON.
``full_content`` is accepted and changes nothing: the first page is already the whole
file, as with Airflow's file handler.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header
from fastapi.responses import PlainTextResponse, Response

from tradewind.api.deps import DbDep, PrincipalDep, SettingsDep, check_dag, requires
from tradewind.api.negotiation import best_media_type
from tradewind.api.schemas.log import LogResponse, LogTokens, plain_text_log
from tradewind.security.permissions import DAG, READ, TASK_LOG
from tradewind.services import task_logs

router = APIRouter(tags=["TaskInstance"])

LOG = "/dags/{dag_id}/dagRuns/{dag_run_id}/taskInstances/{task_id}/logs/{task_try_number}"
_OFFERED = ("text/plain", "application/json")


@router.get(
    LOG,
    name="get_log",
    response_model=LogResponse,
    dependencies=[requires(READ, TASK_LOG), requires(READ, DAG)],
)
def get_log(
    dag_id: str,
    dag_run_id: str,
    task_id: str,
    task_try_number: int,
    db: DbDep,
    principal: PrincipalDep,
    settings: SettingsDep,
    accept: Annotated[str | None, Header()] = None,
    full_content: bool = False,
    map_index: int = -1,
    token: str | None = None,
) -> LogResponse | Response:
    check_dag(principal, READ, dag_id)
    tokens = LogTokens(settings)
    log_pos = tokens.log_pos(token)
    with db.read() as session:
        log_try = task_logs.require_log_try(
            session, dag_id, dag_run_id, task_id, task_try_number, map_index
        )
    folder = settings.logging.base_log_folder
    if _wants_plain_text(accept):
        chunk = task_logs.read_task_log(folder, log_try)
        return PlainTextResponse(plain_text_log(chunk, log_try.hostname))
    chunk = task_logs.read_task_log(folder, log_try, log_pos=log_pos)
    return LogResponse.from_chunk(chunk, log_try.hostname, tokens.dumps(chunk))


def _wants_plain_text(accept: str | None) -> bool:
    # Unlike RFC 9110, Airflow answers a request without Accept with JSON.
    return bool(accept and accept.strip()) and best_media_type(accept, _OFFERED) == "text/plain"
