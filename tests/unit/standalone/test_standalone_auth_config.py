"""Writing ``[api] auth_backends`` for standalone, and only when the user chose none."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from tradewind.config import load_settings
from tradewind.config_file import read_config_file
from tradewind.standalone.admin_user import write_secret_file
from tradewind.standalone.auth_config import (
    STANDALONE_AUTH_BACKENDS,
    add_option,
    enable_basic_auth,
)


def test_add_option_goes_first_in_an_existing_section_and_keeps_comments() -> None:
    text = "[core]\n# c\nx = 1\n\n[api]\n# auth_backends = deny\nmaximum_page_limit = 5\n"

    result = add_option(text, "api", "auth_backends", "a,b")

    assert result == (
        "[core]\n# c\nx = 1\n\n[api]\nauth_backends = a,b\n"
        "# auth_backends = deny\nmaximum_page_limit = 5\n"
    )


def test_add_option_appends_a_missing_section() -> None:
    assert add_option("[core]\nx = 1", "api", "k", "v") == "[core]\nx = 1\n\n[api]\nk = v\n"
    assert add_option("", "api", "k", "v") == "\n[api]\nk = v\n"


def test_add_option_does_not_match_a_longer_section_name() -> None:
    result = add_option("[api_extra]\n", "api", "k", "v")

    assert result == "[api_extra]\n\n[api]\nk = v\n"


def test_the_default_config_file_gets_basic_auth_and_keeps_its_mode(tmp_path: Path) -> None:
    settings = load_settings(environ={}, home=tmp_path)
    settings.config_file.chmod(0o640)

    assert enable_basic_auth(settings, environ={}) is True

    parser = read_config_file(settings.config_file)
    assert parser.get("api", "auth_backends") == STANDALONE_AUTH_BACKENDS
    assert parser.get("core", "fernet_key") == settings.core.fernet_key
    assert stat.S_IMODE(settings.config_file.stat().st_mode) == 0o640
    reloaded = load_settings(environ={}, home=tmp_path)
    assert reloaded.api.auth_backends == STANDALONE_AUTH_BACKENDS
    assert enable_basic_auth(reloaded, environ={}) is False


def test_backends_chosen_in_the_file_are_kept(tmp_path: Path) -> None:
    (tmp_path / "tradewind.cfg").write_text("[api]\nauth_backend = my.backend\n")
    settings = load_settings(environ={}, home=tmp_path)

    assert enable_basic_auth(settings, environ={}) is False
    assert (tmp_path / "tradewind.cfg").read_text() == "[api]\nauth_backend = my.backend\n"


def test_backends_chosen_in_the_environment_are_kept(tmp_path: Path) -> None:
    env = {"TRADEWIND__API__AUTH_BACKENDS": "tradewind.api.auth.deny_all"}
    settings = load_settings(environ=env, home=tmp_path)
    before = settings.config_file.read_text()

    assert enable_basic_auth(settings, environ=env) is False
    assert settings.config_file.read_text() == before


def test_secret_files_are_owner_only_and_replaced_whole(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "secret.txt"
    path.parent.mkdir()
    path.write_text("old")
    path.chmod(0o644)

    write_secret_file(path, "new\n")

    assert path.read_text() == "new\n"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert os.listdir(path.parent) == ["secret.txt"]
