"""Per-invocation state of a command: the settings, loaded at most once.

Every command asks for its settings with :func:`get_settings` instead of calling
:func:`tradewind.config.load_settings` itself, so one invocation reads the config file,
runs ``_cmd`` commands and writes the default file at most once, and a command that
needs no settings (``tradewind version``) reads nothing at all.

The settings live on the root context's ``obj``. Tests inject their own with
``CliRunner().invoke(cli, args, obj=settings)``. Other per-invocation resources (a
database engine, say) belong in ``ctx.meta`` under a ``"tradewind.<name>"`` key, closed
with ``ctx.call_on_close``, so that ``obj`` stays a plain :class:`Settings`.
"""

from __future__ import annotations

import click

from tradewind.config import Settings, load_settings


def get_settings(ctx: click.Context) -> Settings:
    """Return this invocation's settings, loading them on first use.

    Raises:
        ConfigError: the configuration cannot be loaded (mapped to exit code 1).
        TypeError: a test put something other than ``Settings`` or ``None`` in ``obj``.
    """
    root = ctx.find_root()
    if root.obj is None:
        root.obj = load_settings()
    if not isinstance(root.obj, Settings):
        raise TypeError(f"ctx.obj must be Settings or None, got {type(root.obj).__name__}")
    return root.obj
