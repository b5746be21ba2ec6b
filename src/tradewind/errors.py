"""One exception tree for everything Tradewind raises on purpose.

Domain code raises these; the edges translate them once: the API into RFC 7807
problem documents, the CLI into one line on stderr and a non-zero exit code.
Task control flow (skip, fail, defer) is not here: it belongs to the authoring
SDK, in ``tradewind.sdk.exceptions``.

    TradewindError
     ├── ConfigError              bad tradewind.cfg, unknown section/key, bad value
     ├── DatabaseError            the metadata database is unreachable or not migrated
     ├── InvalidInput             the caller's mistake (maps to HTTP 400)
     │    └── DagDefinitionError  a DAG that cannot be built: cycle, duplicate task id ...
     │         ├── CycleError
     │         └── DuplicateTaskIdError
     ├── NotFound                 (HTTP 404)
     ├── AlreadyExists            (HTTP 409)
     ├── Conflict                 a legal request the current state forbids (HTTP 409)
     ├── Unauthenticated          (HTTP 401)
     └── PermissionDenied         (HTTP 403)
"""

from __future__ import annotations


class TradewindError(Exception):
    """Base of every error Tradewind raises deliberately."""


class ConfigError(TradewindError):
    """The configuration is malformed or asks for something unknown."""


class DatabaseError(TradewindError):
    """The metadata database cannot be used: unreachable, wrong URL, or not migrated."""


class InvalidInput(TradewindError):
    """The caller supplied a value that cannot be accepted."""


class DagDefinitionError(InvalidInput):
    """A DAG, task or task group was defined in a way that cannot run."""


class CycleError(DagDefinitionError):
    """Task dependencies form a cycle; the message names the tasks on it."""


class DuplicateTaskIdError(DagDefinitionError):
    """Two tasks of one DAG share a task id."""


class NotFound(TradewindError):
    """The requested resource does not exist."""


class AlreadyExists(TradewindError):
    """A resource with the same identity already exists."""


class Conflict(TradewindError):
    """The request is well formed but the resource's current state forbids it."""


class Unauthenticated(TradewindError):
    """No valid credentials were presented."""


class PermissionDenied(TradewindError):
    """The authenticated user may not perform this action."""
