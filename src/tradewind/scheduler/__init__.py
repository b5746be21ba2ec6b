"""The scheduler: creates DAG runs, decides which task instances are ready, queues them.

``model.py`` (snapshots and decisions, plain data) and ``planner.py`` (pure:
``plan(snapshot) -> Decisions``) import no database library; ``loop.py`` reads
snapshots and applies decisions with guarded updates; ``wakeup.py`` lets a trigger or
a finished task wake the loop at once.

May import: executors, execution, services, storage, serialization, sdk, config, errors.
"""
