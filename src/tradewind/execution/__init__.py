"""The task runner: one task try from start to final state.

Owns rendering a task's templates, calling its hooks and ``execute`` under its
``execution_timeout``, pushing its XComs, mapping the control-flow exceptions of
``tradewind.sdk.exceptions`` to the try's final state, running its callbacks and
writing the try's log. The runner *decides* the outcome (:class:`TryOutcome`);
the caller records it — the metadata database in a worker, plain dicts in
``tradewind dags test``.

Modules:
    outcome       TryOutcome, the result of one try
    retry         whether and when a failed try is retried (pure)
    runner        run_task_try
    timeout       execution_timeout: SIGALRM in the main thread, a watched thread elsewhere
    task_logging  the per-try log file, stdout/stderr capture
    secrets_masker  redaction of secrets in log lines
    memory        in-memory XCom store and task instance (tests, ``dags test``)
    dag_test      the sequential in-process DAG runner behind ``dags test``/``tasks test``
    in_process_run  its loop: trigger rules, skips, retries; and what it reports

May import ``sdk``, ``serialization``, ``operators``, ``services``, ``storage``,
``security``, ``errors`` and ``config``; never ``api``, ``ui``, ``scheduler`` or ``cli``.
"""

from __future__ import annotations
