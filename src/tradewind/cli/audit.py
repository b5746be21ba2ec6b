"""The audit log of CLI changes: ``cli_<group>_<verb>`` rows owned by the OS user.

Security commands (users, roles, tokens, key rotation) record themselves in the same
transaction as their change, as API writes do, so ``/eventLogs`` shows who changed
access from a shell too.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from tradewind.cli.arguments import current_user, utcnow


def audit(session: Session, event: str, **extra: Any) -> None:
    """Record ``event`` with ``extra`` details (never a secret: callers pass names and ids)."""
    from tradewind.services.audit import record_event

    record_event(session, event, now=utcnow(), owner=current_user(), extra=extra)
