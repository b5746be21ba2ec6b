"""Users, roles and password hashing: who may log in, and how their secrets are kept.

Owns:
    - ``passwords``: argon2id hashing and constant-time verification of passwords. Only
      the self-describing hash is ever stored; a hash made with weaker parameters than
      today's is reported by ``needs_rehash`` so a login can upgrade it.
    - ``users``: creating, listing, changing and deleting users and their role
      memberships. Like the repositories, these functions take a session first and
      never commit.
    - ``roles``: creating, listing, changing and deleting roles, refusing permissions
      that name an unknown action or resource.
    - ``tokens``: API bearer tokens: made at random, shown once, stored as SHA-256
      digests, revocable, optionally expiring.
    - ``permissions``: Airflow's resources, actions and default roles, and
      :class:`~tradewind.security.permissions.Grants`, what one user may do.
    - ``sensitive``: which names (variable keys, connection extra keys) hold secrets, and
      redacting them; shared by the task-log masker and the API.

This package stays below :mod:`tradewind.services` so that the API, the UI and the CLI
share one notion of a user.

May import: :mod:`tradewind.storage`, :mod:`tradewind.config`, :mod:`tradewind.errors`
and argon2; never anything above it (services, API, CLI).
"""
