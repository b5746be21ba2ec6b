"""tradewind.config: precedence, the default file, _cmd options and clear errors."""

from __future__ import annotations

import configparser
import stat
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from tradewind.config import CONFIG_FILE_NAME, load_settings, write_default_config
from tradewind.errors import ConfigError


def env_for(home: Path, **overrides: str) -> dict[str, str]:
    return {"TRADEWIND_HOME": str(home), **overrides}


def write_config(home: Path, text: str) -> Path:
    path = home / CONFIG_FILE_NAME
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_expand_tradewind_home(tmp_path: Path) -> None:
    settings = load_settings(env_for(tmp_path))

    assert settings.home == tmp_path
    assert settings.config_file == tmp_path / CONFIG_FILE_NAME
    assert settings.core.parallelism == 32
    assert settings.core.dags_folder == tmp_path / "dags"
    assert settings.logging.base_log_folder == tmp_path / "logs"
    assert settings.database.sql_alchemy_conn == f"sqlite:///{tmp_path}/tradewind.db"
    assert settings.option("core", "parallelism").source == "default"


def test_environment_beats_file_beats_default(tmp_path: Path) -> None:
    write_config(tmp_path, "[core]\nparallelism = 8\n")

    from_file = load_settings(env_for(tmp_path))
    from_env = load_settings(env_for(tmp_path, TRADEWIND__CORE__PARALLELISM="16"))

    assert (from_file.core.parallelism, from_file.option("core", "parallelism").source) == (
        8,
        "tradewind.cfg",
    )
    assert (from_env.core.parallelism, from_env.option("core", "parallelism").source) == (
        16,
        "env var",
    )
    assert from_file.core.max_active_tasks_per_dag == 16


def test_tradewind_home_placeholder_is_expanded_in_file_and_env_values(tmp_path: Path) -> None:
    write_config(tmp_path, "[core]\ndags_folder = {TRADEWIND_HOME}/my_dags\n")
    env = env_for(tmp_path, TRADEWIND__LOGGING__BASE_LOG_FOLDER="{TRADEWIND_HOME}/my_logs")

    settings = load_settings(env)

    assert settings.core.dags_folder == tmp_path / "my_dags"
    assert settings.logging.base_log_folder == tmp_path / "my_logs"


def test_tradewind_config_names_another_file(tmp_path: Path) -> None:
    other = tmp_path / "elsewhere" / "custom.cfg"
    other.parent.mkdir()
    other.write_text("[scheduler]\nparsing_processes = 5\n", encoding="utf-8")

    settings = load_settings(env_for(tmp_path, TRADEWIND_CONFIG=str(other)))

    assert settings.config_file == other
    assert settings.scheduler.parsing_processes == 5
    assert not (tmp_path / CONFIG_FILE_NAME).exists()


def test_first_use_writes_commented_defaults_and_a_valid_fernet_key(tmp_path: Path) -> None:
    settings = load_settings(env_for(tmp_path))

    path = tmp_path / CONFIG_FILE_NAME
    text = path.read_text(encoding="utf-8")
    assert "# parallelism = 32" in text
    assert "# sql_alchemy_conn = sqlite:///{TRADEWIND_HOME}/tradewind.db" in text
    assert "# Most task instances running at once across all DAGs (count)." in text
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    parser = configparser.ConfigParser(interpolation=None)
    parser.read_string(text)
    set_options = [(s, k) for s in parser.sections() for k in parser.options(s)]
    assert set_options == [("core", "fernet_key")]
    Fernet(settings.core.fernet_key.encode())
    assert sorted(p.name for p in tmp_path.iterdir()) == [CONFIG_FILE_NAME]


def test_fernet_key_is_stable_across_loads(tmp_path: Path) -> None:
    first = load_settings(env_for(tmp_path)).core.fernet_key
    text = (tmp_path / CONFIG_FILE_NAME).read_text(encoding="utf-8")

    second = load_settings(env_for(tmp_path)).core.fernet_key
    write_default_config(tmp_path / CONFIG_FILE_NAME)

    assert first == second
    assert (tmp_path / CONFIG_FILE_NAME).read_text(encoding="utf-8") == text


def test_no_file_is_written_when_asked_not_to(tmp_path: Path) -> None:
    settings = load_settings(env_for(tmp_path), write_default_file=False)

    assert not (tmp_path / CONFIG_FILE_NAME).exists()
    assert settings.core.fernet_key == ""


def test_cmd_options_from_the_file(tmp_path: Path) -> None:
    write_config(
        tmp_path,
        "[core]\nfernet_key_cmd = echo from-file-cmd\n"
        "[database]\nsql_alchemy_conn_cmd = echo postgresql://u:p@db/tw\n",
    )

    settings = load_settings(env_for(tmp_path))

    assert settings.database.sql_alchemy_conn == "postgresql://u:p@db/tw"
    assert settings.option("database", "sql_alchemy_conn").source == "cmd"
    assert settings.core.fernet_key == "from-file-cmd"


def test_cmd_options_from_the_environment(tmp_path: Path) -> None:
    env = env_for(
        tmp_path,
        TRADEWIND__DATABASE__SQL_ALCHEMY_CONN_CMD="echo postgresql://u:p@db/tw",
        TRADEWIND__CORE__FERNET_KEY_CMD="echo from-env-cmd",
    )

    settings = load_settings(env)

    assert settings.database.sql_alchemy_conn == "postgresql://u:p@db/tw"
    assert settings.option("database", "sql_alchemy_conn").source == "env var cmd"
    # The env cmd beats the key generated into the file.
    assert settings.core.fernet_key == "from-env-cmd"


def test_plain_environment_value_beats_its_cmd(tmp_path: Path) -> None:
    env = env_for(
        tmp_path,
        TRADEWIND__DATABASE__SQL_ALCHEMY_CONN="sqlite:///direct.db",
        TRADEWIND__DATABASE__SQL_ALCHEMY_CONN_CMD="exit 1",
    )

    assert load_settings(env).database.sql_alchemy_conn == "sqlite:///direct.db"


def test_cmd_is_ignored_for_options_that_do_not_allow_it(tmp_path: Path) -> None:
    env = env_for(tmp_path, TRADEWIND__CORE__PARALLELISM_CMD="echo 5")

    assert load_settings(env).core.parallelism == 32


def test_failing_cmd_is_a_config_error(tmp_path: Path) -> None:
    env = env_for(tmp_path, TRADEWIND__DATABASE__SQL_ALCHEMY_CONN_CMD="echo boom >&2; exit 3")

    with pytest.raises(ConfigError, match=r"\[database\] sql_alchemy_conn_cmd exited with code 3"):
        load_settings(env)


@pytest.mark.parametrize(
    "text",
    [
        "parallelism = 8\n",
        "[core]\nparallelism = 8\nparallelism = 9\n",
        "[core]\n[core]\n",
        "[core]\nthis line has no equals sign\n",
    ],
    ids=["no-section", "duplicate-option", "duplicate-section", "no-separator"],
)
def test_malformed_file_is_one_line_config_error(tmp_path: Path, text: str) -> None:
    path = write_config(tmp_path, text)

    with pytest.raises(ConfigError) as raised:
        load_settings(env_for(tmp_path))

    message = str(raised.value)
    assert "\n" not in message
    assert message.startswith(f"{path} is not a valid config file: ")
    assert "line" in message


def test_unreadable_file_is_a_config_error(tmp_path: Path) -> None:
    (tmp_path / CONFIG_FILE_NAME).mkdir()

    with pytest.raises(ConfigError, match="cannot be read"):
        load_settings(env_for(tmp_path))


def test_home_that_cannot_be_created_is_a_config_error(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("", encoding="utf-8")

    with pytest.raises(ConfigError, match="cannot be written"):
        load_settings(env_for(tmp_path / "file" / "home"))


@pytest.mark.parametrize(
    ("section", "key", "raw", "kind"),
    [
        ("core", "parallelism", "abc", "int"),
        ("core", "load_examples", "maybe", "bool"),
        ("scheduler", "sweep_interval", "soon", "float"),
    ],
)
def test_wrong_type_names_section_and_key(
    tmp_path: Path, section: str, key: str, raw: str, kind: str
) -> None:
    write_config(tmp_path, f"[{section}]\n{key} = {raw}\n")

    with pytest.raises(ConfigError, match=rf"\[{section}\] {key} must be {kind}, got '{raw}'"):
        load_settings(env_for(tmp_path))


def test_wrong_type_from_environment(tmp_path: Path) -> None:
    env = env_for(tmp_path, TRADEWIND__CORE__PARALLELISM="many")

    with pytest.raises(ConfigError, match=r"\[core\] parallelism must be int"):
        load_settings(env)


@pytest.mark.parametrize(("section", "key"), [("core", "nope"), ("nope", "parallelism")])
def test_unknown_option_is_a_config_error(tmp_path: Path, section: str, key: str) -> None:
    settings = load_settings(env_for(tmp_path))

    with pytest.raises(ConfigError, match=rf"^The option \[{section}/{key}\] is not found"):
        settings.option(section, key)


def test_unknown_section_is_a_config_error(tmp_path: Path) -> None:
    settings = load_settings(env_for(tmp_path))

    with pytest.raises(ConfigError, match=r"^The section \[nope\] is not found in config\.$"):
        settings.section("nope")


def test_replace_returns_a_changed_copy(tmp_path: Path) -> None:
    settings = load_settings(env_for(tmp_path))

    changed = settings.replace("core", parallelism=3)

    assert (changed.core.parallelism, settings.core.parallelism) == (3, 32)
    assert changed.database is settings.database


@pytest.mark.parametrize(
    "executor",
    ["LocalExecutor", "CeleryExecutor", "SequentialExecutor", "my_company.executors.FastExecutor"],
)
def test_builtin_executor_names_and_dotted_paths_are_accepted(
    tmp_path: Path, executor: str
) -> None:
    settings = load_settings(env_for(tmp_path, TRADEWIND__CORE__EXECUTOR=executor))

    assert settings.core.executor == executor


@pytest.mark.parametrize(
    "executor", ["NoSuchExecutor", "", "localexecutor", "module.", "my-pkg.Executor", "a..B"]
)
def test_unknown_executor_is_a_config_error(tmp_path: Path, executor: str) -> None:
    write_config(tmp_path, f"[core]\nexecutor = {executor}\n")
    expected = (
        f"[core] executor: unknown executor '{executor}'; use LocalExecutor, CeleryExecutor, "
        "SequentialExecutor or a module.Class path"
    )

    with pytest.raises(ConfigError) as raised:
        load_settings(env_for(tmp_path))

    assert str(raised.value) == expected


def test_replace_validates_the_executor_too(tmp_path: Path) -> None:
    settings = load_settings(env_for(tmp_path))

    with pytest.raises(ConfigError, match=r"unknown executor 'Nope'"):
        settings.replace("core", executor="Nope")
