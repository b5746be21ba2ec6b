"""Pydantic models named after the spec's components (``Pool``, ``DAGRun``, ...).

Request bodies forbid unknown fields (a typo is a 400, not silently ignored); response
models are built from rows only through their ``from_row`` class methods, so the ORM
and the wire format meet in one place per resource.
"""
