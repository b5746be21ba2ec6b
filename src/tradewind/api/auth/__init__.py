"""Authentication of API requests: the backends, and the middleware that runs them.

``tradewind.api.auth.<name>`` strings in ``[api] auth_backends`` are backend names
(see :mod:`tradewind.api.auth.backends`), not modules to import.
"""
