"""The first user of a standalone deployment: ``admin``, with a random password.

A fixed default password (Airflow's early ``admin/admin``) ends up exposed on networks;
instead the password is drawn from :mod:`secrets`, printed once, and kept in
``$TRADEWIND_HOME/standalone_admin_password.txt`` readable by its owner only (0600).
Only its argon2id hash goes into the database. Once any user exists nothing is created,
so later starts never replace a password someone may be using.
"""

from __future__ import annotations

import os
import secrets
import tempfile
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.orm import Session

from tradewind.security.users import ADMIN_ROLE, count_users, create_user

ADMIN_USERNAME = "admin"
ADMIN_EMAIL = "admin@example.com"
PASSWORD_FILE_NAME = "standalone_admin_password.txt"


@dataclass(frozen=True)
class AdminLogin:
    """What standalone tells the user about logging in.

    Attributes:
        username: the admin's login name.
        password: the password created by this start; None when users existed already.
        password_file: where a generated password is kept (it may not exist).
    """

    username: str
    password: str | None
    password_file: Path


def ensure_admin_user(session: Session, home: Path) -> AdminLogin:
    """Create ``admin`` with a random password when the database has no user yet.

    The password file is written before the caller commits: if it cannot be written the
    transaction rolls back, and the next start tries again, rather than leaving a user
    whose password nobody knows.

    Raises:
        AlreadyExists: another process created the first user at the same moment.
        OSError: the password file cannot be written.
    """
    password_file = home / PASSWORD_FILE_NAME
    if count_users(session) > 0:
        return AdminLogin(ADMIN_USERNAME, None, password_file)
    password = secrets.token_urlsafe(16)
    create_user(
        session,
        ADMIN_USERNAME,
        password,
        email=ADMIN_EMAIL,
        first_name="Admin",
        last_name="User",
        roles=[ADMIN_ROLE],
    )
    write_secret_file(password_file, password + "\n")
    return AdminLogin(ADMIN_USERNAME, password, password_file)


def write_secret_file(path: Path, text: str) -> None:
    """Replace ``path`` with ``text``, readable and writable by its owner only.

    The file is written under a temporary name (``mkstemp`` creates it 0600) and renamed
    into place, so it is never visible with wider permissions or half written.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.chmod(tmp_name, 0o600)
        os.replace(tmp_name, path)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
