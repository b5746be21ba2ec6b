"""``tradewind standalone``: everything on one machine, as one supervised group.

Owns:
    - ``supervisor``: runs components as child processes (each in its own process
      group), prefixes their output, restarts them with backoff, stops them all.
    - ``components``: the table of processes standalone runs and how each is started.
    - ``admin_user``: the first user, with a random password shown once and kept in a
      0600 file under ``$TRADEWIND_HOME``; never a fixed default.
    - ``auth_config``: turning on Basic and session authentication in ``tradewind.cfg``
      when the user has chosen no backends, so the API is usable out of the box.
    - ``readiness``: knowing when the group is up (the scheduler's heartbeat).

The click command itself lives in :mod:`tradewind.cli.standalone`; this package sits
just below :mod:`tradewind.cli` and may import security, storage, config and errors. It
never imports the components it runs: they are started as ``tradewind <command>``
processes, so a crash in one cannot take the supervisor down.
"""
