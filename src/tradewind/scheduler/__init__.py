"""The scheduler: creates DAG runs, decides which task instances are ready, queues them.

``model.py`` (snapshots and decisions, plain data) and the planner (``planner.py``,
``readiness.py``, ``queueing.py``, ``runs.py``; pure: ``plan(snapshot) -> Decisions``)
import no database library. ``snapshot.py`` reads a snapshot in a bounded number of
queries, ``apply.py`` applies decisions with guarded updates, ``next_run.py`` fills a
DAG's first next-run fields, and ``loop.py`` drives ticks, woken at once by the
executor's events and by ``tradewind.storage.wakeup`` (a trigger, an unpause, a clear).

May import: executors, execution, services, storage, serialization, sdk, config, errors.
"""
