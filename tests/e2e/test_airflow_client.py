"""The scenario of ``shared/reference/scenario.md``, call for call, against a real standalone.

One ``tradewind standalone`` (its own home, a free port, Basic auth as it configures
itself) serves both tests; its dags folder holds ``random_failures``, whose task
``random-task`` fails on its first try and succeeds afterwards (a marker file next to
the DAG file remembers the first try), and a file that cannot be imported. Each test
starts from no run and no marker, then makes the five calls exactly as written: once
with the official client, ``apache-airflow-client`` 2.10 (Basic auth), and once as
curl would, with raw HTTP.

The run the scenario triggers (logical date 2022-02-03T14:15:22Z) fails. The scenario's
clear (call 5) bounds the runs' logical dates to 17:29:00-17:52:59 that day, as
Airflow's ``start_date``/``end_date`` do, so it answers 200 and clears nothing; the same
clear with a window around the run's logical date then clears the failed instance, and
the run goes green.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import airflow_client.client
import httpx
import pytest
from airflow_client.client.api import dag_api, dag_run_api, import_error_api, provider_api
from airflow_client.client.model.clear_task_instances import ClearTaskInstances
from airflow_client.client.model.dag_run import DAGRun
from standalone_support import READY_TIMEOUT, Standalone, free_port

pytestmark = pytest.mark.slow

DAG_ID = "random_failures"
RANDOM_FAILURES = '''
"""A DAG whose task fails about half the time (here: its first try, then never)."""
from datetime import datetime
from pathlib import Path

from tradewind import DAG
from tradewind.operators import PythonOperator

TRIED = Path(__file__).with_name("random_failures.tried")


def flip_a_coin():
    if not TRIED.exists():
        TRIED.touch()
        raise RuntimeError("The coin came up tails: failing on purpose.")
    return "heads"


with DAG(
    "random_failures",
    schedule=None,
    start_date=datetime(2022, 1, 1),
    catchup=False,
    is_paused_upon_creation=False,
) as dag:
    PythonOperator(task_id="random-task", python_callable=flip_a_coin, retries=0)
'''
BROKEN = "from tradewind import DAG\nimport a_module_nobody_installed\n"
#: The bodies of calls 3 and 5, exactly as scenario.md writes them.
TRIGGER = {"execution_date": "2022-02-03T14:15:22Z"}
CLEAR = {
    "dry_run": False,
    "task_ids": ["random-task"],
    "start_date": "2022-02-03T17:29:00.056990+00:00",
    "end_date": "2022-02-03T17:52:59.147853+00:00",
    "only_failed": True,
    "only_running": False,
    "include_subdags": False,
    "include_parentdag": False,
    "reset_dag_runs": True,
}
#: The same clear with a window that contains the run's logical date.
CLEAR_AROUND_THE_RUN = {
    **CLEAR,
    "start_date": "2022-02-03T14:00:00+00:00",
    "end_date": "2022-02-03T15:00:00+00:00",
}
LOGICAL_DATE = datetime(2022, 2, 3, 14, 15, 22, tzinfo=UTC)
#: Seconds a run may take to reach a state (a worker starts a Python task process).
RUN_TIMEOUT = 60.0


class Deployment:
    """The running standalone: its API's URL, the admin password, its dags folder."""

    def __init__(self, standalone: Standalone, password: str, dags: Path) -> None:
        self.url = f"http://127.0.0.1:{standalone.port}/api/v1"
        self.password = password
        self.dags = dags

    def http(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, auth=("admin", self.password), timeout=30)


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    home = tmp_path_factory.mktemp("standalone")
    dags = home / "dags"
    dags.mkdir()
    (dags / "random_failures.py").write_text(RANDOM_FAILURES)
    (dags / "broken_dag.py").write_text(BROKEN)
    standalone = Standalone(home, free_port())
    try:
        password = standalone.wait_for(r"Login with username: admin  password: (\S+)").group(1)
        standalone.wait_for(r"Tradewind is ready", READY_TIMEOUT)
        found = Deployment(standalone, password, dags)
        with found.http() as http:
            _wait_for(lambda: http.get(f"/dags/{DAG_ID}").status_code == 200, "the DAG")
        yield found
    finally:
        standalone.kill_everything()


@pytest.fixture
def deployment_without_runs(deployment: Deployment) -> Deployment:
    """The deployment with no run of ``random_failures`` and its task never tried."""
    with deployment.http() as http:
        for run in http.get(f"/dags/{DAG_ID}/dagRuns").json()["dag_runs"]:
            assert http.delete(f"/dags/{DAG_ID}/dagRuns/{run['dag_run_id']}").status_code == 204
    (deployment.dags / "random_failures.tried").unlink(missing_ok=True)
    return deployment


def test_scenario_with_the_official_client(deployment_without_runs: Deployment) -> None:
    deployment = deployment_without_runs
    configuration = airflow_client.client.Configuration(
        host=deployment.url, username="admin", password=deployment.password
    )
    with airflow_client.client.ApiClient(configuration) as api_client:
        runs = dag_run_api.DAGRunApi(api_client)

        # The client's model for this response is a plain dict (the spec's allOf).
        providers = provider_api.ProviderApi(api_client).get_providers()
        # None installed here: no package beside Tradewind declares itself a provider.
        assert providers == {"providers": [], "total_entries": 0}

        import_errors = import_error_api.ImportErrorApi(api_client).get_import_errors()
        (broken,) = [e for e in import_errors.import_errors if e.filename.endswith("broken_dag.py")]
        assert "a_module_nobody_installed" in broken.stack_trace and broken.timestamp

        run = runs.post_dag_run(DAG_ID, DAGRun(execution_date=LOGICAL_DATE))
        assert run.execution_date == run.logical_date == LOGICAL_DATE
        run_id = run.dag_run_id
        _wait_for(lambda: str(runs.get_dag_run(DAG_ID, run_id).state) == "failed", "failure")

        listed = runs.get_dag_runs(DAG_ID)
        assert [(r.dag_run_id, str(r.state)) for r in listed.dag_runs] == [(run_id, "failed")]

        dags = dag_api.DAGApi(api_client)
        as_written = dags.post_clear_task_instances(DAG_ID, ClearTaskInstances(**CLEAR))
        assert as_written.task_instances == []  # 14:15:22 is outside 17:29-17:52
        assert str(runs.get_dag_run(DAG_ID, run_id).state) == "failed"

        cleared = dags.post_clear_task_instances(DAG_ID, ClearTaskInstances(**CLEAR_AROUND_THE_RUN))
        assert [(ti.task_id, ti.dag_run_id) for ti in cleared.task_instances] == [
            ("random-task", run_id)
        ]
        _wait_for(lambda: str(runs.get_dag_run(DAG_ID, run_id).state) == "success", "success")


def test_scenario_with_raw_http(deployment_without_runs: Deployment) -> None:
    with deployment_without_runs.http() as http:
        assert _ok(http.get("/providers")) == {"providers": [], "total_entries": 0}

        errors = _ok(http.get("/importErrors"))["import_errors"]
        assert [e["filename"].rsplit("/", 1)[-1] for e in errors] == ["broken_dag.py"]
        assert {"import_error_id", "timestamp", "stack_trace"} <= set(errors[0])

        run = _ok(http.post(f"/dags/{DAG_ID}/dagRuns", json=TRIGGER))
        dates = {datetime.fromisoformat(run[name]) for name in ("execution_date", "logical_date")}
        assert dates == {LOGICAL_DATE}
        assert run["state"] == "queued"
        run_path = f"/dags/{DAG_ID}/dagRuns/{run['dag_run_id']}"
        _wait_for(lambda: _ok(http.get(run_path))["state"] == "failed", "failure")

        listed = _ok(http.get(f"/dags/{DAG_ID}/dagRuns"))
        assert [(r["dag_run_id"], r["state"]) for r in listed["dag_runs"]] == [
            (run["dag_run_id"], "failed")
        ]
        assert listed["total_entries"] == 1

        as_written = _ok(http.post(f"/dags/{DAG_ID}/clearTaskInstances", json=CLEAR))
        assert as_written == {"task_instances": []}
        cleared = _ok(http.post(f"/dags/{DAG_ID}/clearTaskInstances", json=CLEAR_AROUND_THE_RUN))
        assert [ti["task_id"] for ti in cleared["task_instances"]] == ["random-task"]
        _wait_for(lambda: _ok(http.get(run_path))["state"] == "success", "success")
        tries = _ok(http.get(f"{run_path}/taskInstances/random-task/tries"))
        assert [t["state"] for t in tries["task_instances"]] == ["failed", "success"]


def _ok(response: httpx.Response) -> Any:
    assert response.status_code == 200, response.text
    return response.json()


def _wait_for(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + RUN_TIMEOUT
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)
