"""The official ``apache-airflow-client`` (2.10) drives the DAG resources: every response
must deserialize into its models (required fields, types, enums, nullability)."""

from __future__ import annotations

import airflow_client.client as airflow_client
from airflow_client.client.api.dag_api import DAGApi
from airflow_client.client.api.dag_stats_api import DagStatsApi
from airflow_client.client.api.dag_warning_api import DagWarningApi
from airflow_client.client.model.dag import DAG
from api_support import PASSWORD, LiveServer
from dag_support import AddDagFile, add_dags


def test_the_official_client_reads_and_changes_dags(
    api_server: LiveServer, add_dag_file: AddDagFile
) -> None:
    add_dags(add_dag_file)
    configuration = airflow_client.Configuration(
        host=api_server.url, username="admin", password=PASSWORD
    )
    with airflow_client.ApiClient(configuration) as api:
        dags = DAGApi(api)
        listed = dags.get_dags(tags=["finance"])
        assert [dag.dag_id for dag in listed.dags] == ["etl", "reports"]
        assert listed.dags[1].schedule_interval.days == 0

        detail = dags.get_dag_details("etl")
        assert detail.params["rows"]["value"] == 10 and detail.catchup is False
        assert dags.get_dag_details("adhoc").dag_run_timeout is None

        tasks = dags.get_tasks("etl", order_by="-task_id")
        assert [task.task_id for task in tasks.tasks] == ["load", "extract"]
        extract = dags.get_task("etl", "extract")
        assert extract.retry_delay.seconds == 60 and extract.trigger_rule.value == "all_success"
        assert dags.get_task("etl", "load").execution_timeout is None

        token = dags.get_dag("etl").file_token
        assert "Nightly extract and load." in dags.get_dag_source(token).content
        dags.reparse_dag_file(token)

        paused = dags.patch_dag("etl", DAG(is_paused=True), update_mask=["is_paused"])
        assert paused.is_paused is True
        unpaused = dags.patch_dags("~", DAG(is_paused=False), update_mask=["is_paused"])
        assert [dag.is_paused for dag in unpaused.dags] == [False, False, False]

        stats = DagStatsApi(api).get_dag_stats("etl")
        assert [stat.state for stat in stats.dags[0].stats] == [
            "queued",
            "running",
            "success",
            "failed",
        ]
        assert DagWarningApi(api).get_dag_warnings(dag_id="etl").total_entries == 0

        dags.delete_dag("adhoc")
        assert [dag.dag_id for dag in dags.get_dags().dags] == ["etl", "reports"]
