"""The ``tradewind`` command line: the top layer, which may import anything below it.

The package owns five jobs and nothing else:

- parse arguments (click, one module per command group: ``cli/<group>.py`` defines the
  click group ``<group>``, and ``cli/main.py`` lists the groups in one tuple);
- load settings once per invocation (:func:`tradewind.cli.context.get_settings`);
- call services, opening the command's transaction where one is needed;
- print with rich (:mod:`tradewind.cli.output`, ``-o table|json|yaml|plain``);
- map :class:`tradewind.errors.TradewindError` to one ``Error:`` line and exit code 1
  (:mod:`tradewind.cli.errors`).

Start-up time matters (``tradewind version`` runs before every shell completion and in
health checks), so modules here import only click and Tradewind's light layers at module
level; SQLAlchemy, Jinja, rich and the SDK are imported inside the commands that use them.
"""
