"""The official ``apache-airflow-client`` 2.10 reads what ``/taskInstances`` sends."""

from __future__ import annotations

import airflow_client.client as airflow_client
from airflow_client.client.api.task_instance_api import TaskInstanceApi
from airflow_client.client.model.list_task_instance_form import ListTaskInstanceForm
from airflow_client.client.model.set_task_instance_note import SetTaskInstanceNote
from airflow_client.client.model.update_task_instance import UpdateTaskInstance
from airflow_client.client.model.update_task_state import UpdateTaskState
from api_support import PASSWORD, LiveServer
from sqlalchemy.orm import Session, sessionmaker
from task_instance_support import AddDagFile, add_dags, make_run, retry


def test_the_official_client_reads_task_instances(
    api_server: LiveServer, add_dag_file: AddDagFile, session_factory: sessionmaker[Session]
) -> None:
    add_dags(add_dag_file, session_factory)
    run_id = make_run(session_factory, states={"extract": ("failed", 1)})
    retry(session_factory, run_id, "extract", "success")
    configuration = airflow_client.Configuration(
        host=api_server.url, username="admin", password=PASSWORD
    )
    with airflow_client.ApiClient(configuration) as client:
        api = TaskInstanceApi(client)
        extract = api.get_task_instance("etl", run_id, "extract")
        listed = api.get_task_instances("etl", run_id, state=["none"])
        batch = api.get_task_instances_batch(ListTaskInstanceForm(dag_ids=["etl"]))
        reference = api.patch_task_instance(
            "etl",
            run_id,
            "transform",
            UpdateTaskInstance(dry_run=False, new_state=UpdateTaskState("failed")),
        )
        noted = api.set_task_instance_note("etl", run_id, "load", SetTaskInstanceNote(note="n"))
        tries = api.get_task_instance_tries("etl", run_id, "extract")
        second = api.get_task_instance_try_details("etl", run_id, "extract", 2)
        dependencies = api.get_task_instance_dependencies("etl", run_id, "load")
        links = api.get_extra_links("etl", run_id, "extract")

    assert (extract.task_id, extract.state.value, extract.try_number) == ("extract", "success", 2)
    assert extract.execution_date is not None and extract.sla_miss is None
    assert [ti.task_id for ti in listed.task_instances] == ["transform", "load", "report"]
    assert batch.total_entries == 4
    assert (reference.task_id, reference.dag_run_id) == ("transform", run_id)
    assert noted.note == "n"
    # Client 2.10.0 reads tries as a TaskInstanceCollection (Airflow's own key).
    assert [t.try_number for t in tries.task_instances] == [1, 2]
    assert second.hostname == "worker-2"
    assert {dep.name for dep in dependencies.dependencies} == {
        "Task Instance State",
        "Trigger Rule",
    }
    assert links.to_dict() == {}
