"""Use cases shared by the CLI, the API, the UI and the scheduler.

``trigger_dag_run``, ``clear_task_instances``, ``set_task_instance_state``,
``pause_dag`` ...: each is one thing a user (or the scheduler on their behalf) does, with
Airflow 2's semantics, written once so that every edge behaves the same.

Contract of every function here:
    - it takes the session first, owns no transaction and never commits: the caller's
      :func:`tradewind.storage.engine.transaction` decides (a CLI command, an API
      request, a scheduler tick); it flushes when later queries must see its writes;
    - time arrives as ``now``; nothing here reads the clock or the configuration;
    - failures are :mod:`tradewind.errors` types (NotFound, AlreadyExists,
      InvalidInput, Conflict), which each edge maps once.

Modules: ``audit`` (the audit log), ``dags`` (pause, serialized DAGs), ``dag_runs``
(trigger, set state, delete), ``task_instances`` (clear, set state), ``backfill``
(queue the runs of a past range), ``task_runs`` (the try ``tasks run`` runs by hand),
``datasets`` (dataset events and the queue of dataset-scheduled DAGs), ``task_logs``
(where a try's log lives).

May import storage, serialization, sdk, config and errors; never the API, the CLI, the
scheduler or anything that imports user DAG code.
"""
