"""DAG file processing: find DAG files, import them in child processes, store the outcome.

This package owns three steps, each in its own module:

- ``discovery``: which files under the DAGs folder are DAG files (``.py`` and ``.zip``,
  honouring ``.tradewindignore``/``.airflowignore`` and the safe-mode heuristic);
- ``parser``: importing one file in a child process, with a timeout and a memory cap
  enforced from outside, and sending back JSON-able data: serialized DAGs, the source
  text and import errors with their tracebacks;
- ``store``: writing a parse result to the metadata database (DAG rows, serialized
  DAGs, source code, import errors), and ``processor`` tying the three into the loop
  run by the scheduler or ``tradewind dag-processor``.

Besides the workers, this is the only part of Tradewind that imports user DAG code,
and it does so only in child processes: a DAG file that hangs, exhausts memory or
calls ``os._exit`` becomes an import error instead of taking the processor down.
``collect_dags`` is the one in-process exception, for CLI commands (``dags test``)
that need the live DAG objects.

It may import ``serialization``, ``storage`` (tables and repositories), ``services``,
``sdk``, ``config`` and ``errors``; nothing but ``cli``, ``app`` and the scheduler's
composition imports it.
"""

from __future__ import annotations
