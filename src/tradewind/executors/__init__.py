"""Executors: where task tries run.

An executor receives :class:`~tradewind.executors.base.TaskWorkload` s from the
scheduler, runs each in a worker (a forked process of a warm pool for the local
executor, the same process for the inline one, a Celery worker later) and reports
:class:`~tradewind.executors.base.TaskEvent` s back. Workers record task state in
the database themselves through guarded transitions (``tradewind.execution.worker``);
events only wake the scheduler and cover workers that died before recording anything.

May import: execution, services, storage, serialization, sdk, config, errors.
"""
