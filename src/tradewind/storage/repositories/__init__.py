"""Query functions, one module per resource.

Every function takes the session as its first argument, flushes when it must, and never
commits: the caller's :func:`tradewind.storage.engine.transaction` decides. Verbs:
``get_x`` returns the row or None, ``require_x`` raises NotFound, ``list_xs`` returns a
:class:`~tradewind.storage.pagination.Page`, ``create_x`` raises AlreadyExists on a
duplicate, ``update_x`` takes a mapping of changes, ``delete_x`` raises NotFound.
"""
