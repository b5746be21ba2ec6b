"""One router per resource of the spec (module named by its noun), collected in ``ROUTERS``.

A route is thin: check the permission (``dependencies=[requires(...)]``), open the
transaction, call repositories or services, and return a schema. Errors are domain
exceptions, turned into problem documents by :mod:`tradewind.api.problems`. Each
route's ``name`` is the spec's ``operationId``, which is also the audit event name.
"""
