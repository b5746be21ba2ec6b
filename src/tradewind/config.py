"""Settings: defaults in code, ``$TRADEWIND_HOME/tradewind.cfg``, then environment.

Precedence is environment > file > default, as in Airflow. A key ``KEY`` of section
``SECTION`` is overridden by the variable ``TRADEWIND__SECTION__KEY``. Secrets
(``sql_alchemy_conn``, ``fernet_key``, ...) may instead come from a command whose
output is the value: ``KEY_cmd`` in the file or ``TRADEWIND__SECTION__KEY_CMD``.

Settings are loaded once, by the CLI or the app factory, with :func:`load_settings`
and passed down; nothing reads configuration at import time. Each section is a frozen
dataclass, so a component receives its own section (``Scheduler(settings.scheduler)``)
and cannot change it behind another reader's back.

Defaults may mention ``{TRADEWIND_HOME}``, replaced by the home folder.
"""

from __future__ import annotations

import configparser
import dataclasses
import os
import typing
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tradewind.config_file import (
    generate_fernet_key,
    read_config_file,
    run_cmd,
    write_config_file_once,
)
from tradewind.errors import ConfigError

ENV_PREFIX = "TRADEWIND__"
CONFIG_FILE_NAME = "tradewind.cfg"


def _opt(default: Any, description: str, *, secret: bool = False, cmd: bool = False) -> Any:
    """Declare one option: its default, what it means (with its unit) and whether it is secret."""
    return field(
        default=default,
        metadata={"description": description, "secret": secret, "cmd": cmd},
    )


#: The executors Tradewind ships, by the names Airflow 2 gives them in ``[core] executor``.
BUILTIN_EXECUTORS = ("LocalExecutor", "CeleryExecutor", "SequentialExecutor")


def check_executor(name: str) -> None:
    """Accept a built-in executor name or a ``module.Class`` path, as Airflow 2 does.

    A path is only checked for its shape here: importing it is the scheduler's job.

    Raises:
        ConfigError: ``name`` is neither.
    """
    parts = name.split(".")
    if name in BUILTIN_EXECUTORS or (len(parts) >= 2 and all(p.isidentifier() for p in parts)):
        return
    raise ConfigError(
        f"[core] executor: unknown executor {name!r}; use LocalExecutor, CeleryExecutor, "
        "SequentialExecutor or a module.Class path"
    )


@dataclass(frozen=True)
class CoreSettings:
    dags_folder: Path = _opt("{TRADEWIND_HOME}/dags", "Folder scanned for DAG files.")
    plugins_folder: Path = _opt("{TRADEWIND_HOME}/plugins", "Folder scanned for plugins.")
    executor: str = _opt(
        "LocalExecutor",
        "Executor running task tries: LocalExecutor, CeleryExecutor, SequentialExecutor "
        "or the module.Class path of a custom executor.",
    )
    parallelism: int = _opt(32, "Most task instances running at once across all DAGs (count).")
    max_active_tasks_per_dag: int = _opt(
        16, "Default of a DAG's max_active_tasks: running task instances per DAG (count)."
    )
    max_active_runs_per_dag: int = _opt(
        16, "Default of a DAG's max_active_runs: running DAG runs per DAG (count)."
    )
    dags_are_paused_at_creation: bool = _opt(True, "Whether a newly found DAG starts paused.")
    dagbag_import_timeout: float = _opt(
        30.0, "Seconds one DAG file may take to import before it is an import error."
    )
    dag_discovery_safe_mode: bool = _opt(
        True,
        "Only import files whose text mentions both 'dag' and 'tradewind' (or 'airflow').",
    )
    load_examples: bool = _opt(True, "Whether the bundled example DAGs are loaded.")
    dag_ignore_file_syntax: str = _opt(
        "regexp",
        "Syntax of .tradewindignore/.airflowignore patterns: regexp or glob (gitignore-like).",
    )
    dag_file_processor_memory_limit_mb: int = _opt(
        2048,
        "MiB of address space one DAG file's import may add in its child process; 0 = no limit.",
    )
    default_timezone: str = _opt("utc", "Timezone of naive datetimes in DAG definitions.")
    fernet_key: str = _opt(
        "", "Key encrypting connection passwords/extras and variables.", secret=True, cmd=True
    )
    default_task_retries: int = _opt(0, "Retries of a task that sets none (count).")
    default_pool_task_slot_count: int = _opt(128, "Slots of default_pool when it is created.")
    test_connection: str = _opt(
        "Disabled", "Whether the API may test connections: Enabled, Disabled or Hidden."
    )
    killed_task_cleanup_time: float = _opt(
        60.0, "Seconds a killed task gets between SIGTERM and SIGKILL."
    )
    max_map_length: int = _opt(1024, "Most mapped task instances one task may expand to.")

    def __post_init__(self) -> None:
        check_executor(self.executor)


@dataclass(frozen=True)
class DatabaseSettings:
    sql_alchemy_conn: str = _opt(
        "sqlite:///{TRADEWIND_HOME}/tradewind.db",
        "SQLAlchemy URL of the metadata database (sqlite or postgresql+psycopg).",
        secret=True,
        cmd=True,
    )
    sql_alchemy_pool_size: int = _opt(5, "Connections kept open in the pool (count).")
    sql_alchemy_max_overflow: int = _opt(10, "Connections allowed beyond the pool (count).")
    sql_alchemy_pool_recycle: int = _opt(1800, "Seconds after which a connection is renewed.")
    sql_alchemy_pool_pre_ping: bool = _opt(
        True, "Test a connection before using it when it has been idle for over a second."
    )
    sqlite_busy_timeout: float = _opt(
        30.0, "Seconds a SQLite writer waits for a lock before failing."
    )


@dataclass(frozen=True)
class SchedulerSettings:
    scheduler_heartbeat_sec: float = _opt(5.0, "Seconds between scheduler job heartbeats.")
    min_file_process_interval: float = _opt(
        30.0, "Seconds before an unchanged DAG file is parsed again."
    )
    dag_dir_list_interval: float = _opt(
        300.0, "Seconds between scans of the DAGs folder for new and deleted files."
    )
    parsing_processes: int = _opt(2, "DAG files parsed at once (count of child processes).")
    catchup_by_default: bool = _opt(True, "Default of a DAG's catchup.")
    max_dagruns_to_create_per_loop: int = _opt(10, "DAG runs created per scheduler tick.")
    max_tis_per_query: int = _opt(512, "Task instances queued per scheduler tick.")
    zombie_detection_interval: float = _opt(10.0, "Seconds between checks for zombie tasks.")
    scheduler_zombie_task_threshold: float = _opt(
        300.0, "Seconds without a heartbeat after which a running task is a zombie."
    )
    task_queued_timeout: float = _opt(
        600.0, "Seconds a task may stay queued before it is failed or requeued."
    )
    task_queued_timeout_check_interval: float = _opt(
        120.0, "Seconds between checks for task instances queued longer than task_queued_timeout."
    )
    num_stuck_in_queued_retries: int = _opt(
        2, "Times a task stuck in queued is put back to scheduled before it is failed (count)."
    )
    orphaned_tasks_check_interval: float = _opt(
        300.0, "Seconds between checks for task instances queued by a scheduler that died."
    )
    scheduler_health_check_threshold: float = _opt(
        30.0, "Seconds without a heartbeat after which a scheduler job is considered dead."
    )
    sweep_interval: float = _opt(
        5.0, "Seconds between safety-net scheduler passes when no event wakes it."
    )


_DEFAULT_AUTH_BACKENDS = "tradewind.api.auth.deny_all"


@dataclass(frozen=True)
class ApiSettings:
    auth_backends: str = _opt(
        _DEFAULT_AUTH_BACKENDS,
        "Comma-separated authentication backends, tried in order; the default denies all.",
    )
    maximum_page_limit: int = _opt(100, "Largest 'limit' a list endpoint accepts (count).")
    fallback_page_limit: int = _opt(100, "'limit' used when a request gives none (count).")
    access_control_allow_origins: str = _opt("", "Space-separated CORS origins allowed.")
    auth_backend: str = _opt(
        "", "Deprecated single-backend form of auth_backends; read when auth_backends is unset."
    )
    login_attempts_per_window: int = _opt(
        10, "Failed logins one username or address may make per window before refusal (count)."
    )
    login_window_seconds: float = _opt(300.0, "Length of the failed-login window (seconds).")

    def __post_init__(self) -> None:
        # Airflow's older single-valued key still works, as in Airflow 2: it applies when
        # the list form was left at its default, so `config get-value` shows what runs.
        if self.auth_backend.strip() and self.auth_backends == _DEFAULT_AUTH_BACKENDS:
            object.__setattr__(self, "auth_backends", self.auth_backend.strip())


@dataclass(frozen=True)
class WebserverSettings:
    web_server_host: str = _opt("0.0.0.0", "Address the API server and UI listen on.")
    web_server_port: int = _opt(8080, "TCP port the API server and UI listen on.")
    workers: int = _opt(1, "API server worker processes (count).")
    base_url: str = _opt("http://localhost:8080", "URL users reach the UI at.")
    secret_key: str = _opt("", "Key signing session cookies; generated when empty.", secret=True)
    expose_config: bool = _opt(False, "Whether GET /api/v1/config shows the configuration.")
    instance_name: str = _opt("Tradewind", "Name shown in the UI's title.")
    default_ui_timezone: str = _opt("UTC", "Timezone the UI shows dates in.")
    session_lifetime_minutes: int = _opt(43200, "Minutes a UI login session lasts.")


@dataclass(frozen=True)
class LoggingSettings:
    base_log_folder: Path = _opt("{TRADEWIND_HOME}/logs", "Folder of task logs.")
    logging_level: str = _opt("INFO", "Level of Tradewind's own logs.")
    colored_console_log: bool = _opt(True, "Colour console logs when on a terminal.")


@dataclass(frozen=True)
class CelerySettings:
    broker_url: str = _opt("redis://127.0.0.1:6379/0", "Celery broker URL.", secret=True, cmd=True)
    result_backend: str = _opt("", "Celery result backend URL.", secret=True, cmd=True)
    worker_concurrency: int = _opt(16, "Task tries one Celery worker runs at once (count).")
    default_queue: str = _opt("default", "Queue of tasks that name none.")


@dataclass(frozen=True)
class TriggererSettings:
    default_capacity: int = _opt(1000, "Triggers one triggerer runs at once (count).")


SECTIONS: dict[str, type] = {
    "core": CoreSettings,
    "database": DatabaseSettings,
    "scheduler": SchedulerSettings,
    "api": ApiSettings,
    "webserver": WebserverSettings,
    "logging": LoggingSettings,
    "celery": CelerySettings,
    "triggerer": TriggererSettings,
}


@dataclass(frozen=True)
class OptionValue:
    """One resolved option, with where its value came from (default, file, env, cmd)."""

    section: str
    key: str
    value: Any
    source: str
    secret: bool
    description: str

    @property
    def text(self) -> str:
        return format_value(self.value)


@dataclass(frozen=True)
class Settings:
    """The whole configuration, one frozen section per attribute."""

    home: Path
    config_file: Path
    core: CoreSettings
    database: DatabaseSettings
    scheduler: SchedulerSettings
    api: ApiSettings
    webserver: WebserverSettings
    logging: LoggingSettings
    celery: CelerySettings
    triggerer: TriggererSettings
    sources: Mapping[tuple[str, str], str] = field(default_factory=dict, repr=False)

    def section(self, name: str) -> Any:
        if name not in SECTIONS:
            raise ConfigError(f"The section [{name}] is not found in config.")
        return getattr(self, name)

    def option(self, section: str, key: str) -> OptionValue:
        """Return one option; raise ConfigError for an unknown section or key."""
        cls = SECTIONS.get(section)
        spec = _fields(cls).get(key) if cls is not None else None
        if spec is None:
            # Airflow's wording for both an unknown section and an unknown key.
            raise ConfigError(f"The option [{section}/{key}] is not found in config.")
        values = getattr(self, section)
        return OptionValue(
            section=section,
            key=key,
            value=getattr(values, key),
            source=self.sources.get((section, key), "default"),
            secret=bool(spec.metadata["secret"]),
            description=str(spec.metadata["description"]),
        )

    def options(self) -> Iterator[OptionValue]:
        for section, cls in SECTIONS.items():
            for key in _fields(cls):
                yield self.option(section, key)

    def replace(self, section: str, **changes: Any) -> Settings:
        """A copy with some options of one section changed (for tests and standalone)."""
        return dataclasses.replace(
            self, **{section: dataclasses.replace(self.section(section), **changes)}
        )


def format_value(value: Any) -> str:
    if isinstance(value, bool):
        return "True" if value else "False"
    return str(value)


def default_home(environ: Mapping[str, str]) -> Path:
    raw = environ.get("TRADEWIND_HOME") or "~/tradewind"
    return Path(raw).expanduser()


def load_settings(
    environ: Mapping[str, str] | None = None,
    *,
    home: Path | None = None,
    write_default_file: bool = True,
) -> Settings:
    """Read configuration from defaults, the config file and the environment.

    Args:
        environ: variables to read overrides from; ``os.environ`` when None.
        home: the Tradewind home folder; ``$TRADEWIND_HOME`` (default ``~/tradewind``) when None.
        write_default_file: write ``tradewind.cfg`` with commented defaults and a fresh
            ``fernet_key`` when it does not exist yet.

    Raises:
        ConfigError: the file is malformed, a value has the wrong type, or a ``_cmd`` fails.
    """
    env = dict(os.environ if environ is None else environ)
    home = home if home is not None else default_home(env)
    config_file = Path(env.get("TRADEWIND_CONFIG") or home / CONFIG_FILE_NAME).expanduser()
    if write_default_file and not config_file.exists():
        write_default_config(config_file)
    parser = read_config_file(config_file)
    sources: dict[tuple[str, str], str] = {}
    sections: dict[str, Any] = {}
    for section, cls in SECTIONS.items():
        values: dict[str, Any] = {}
        hints = typing.get_type_hints(cls)
        for key, spec in _fields(cls).items():
            raw, source = _lookup(section, key, spec, parser, env)
            sources[(section, key)] = source
            if source == "default":
                raw = spec.default
            values[key] = _convert(section, key, raw, hints[key], home)
        sections[section] = cls(**values)
    return Settings(home=home, config_file=config_file, sources=sources, **sections)


def _fields(cls: type) -> dict[str, dataclasses.Field[Any]]:
    return {f.name: f for f in dataclasses.fields(cls)}


def _lookup(
    section: str,
    key: str,
    spec: dataclasses.Field[Any],
    parser: configparser.ConfigParser,
    env: Mapping[str, str],
) -> tuple[Any, str]:
    env_name = f"{ENV_PREFIX}{section.upper()}__{key.upper()}"
    if env_name in env:
        return env[env_name], "env var"
    allows_cmd = bool(spec.metadata["cmd"])
    if allows_cmd and f"{env_name}_CMD" in env:
        return run_cmd(section, key, env[f"{env_name}_CMD"]), "env var cmd"
    if parser.has_option(section, key):
        return parser.get(section, key), "tradewind.cfg"
    if allows_cmd and parser.has_option(section, f"{key}_cmd"):
        return run_cmd(section, key, parser.get(section, f"{key}_cmd")), "cmd"
    return None, "default"


def _convert(section: str, key: str, raw: Any, kind: Any, home: Path) -> Any:
    if isinstance(raw, str):
        raw = raw.replace("{TRADEWIND_HOME}", str(home))
    try:
        if kind is bool:
            return raw if isinstance(raw, bool) else _parse_bool(raw)
        if kind is int:
            return int(raw)
        if kind is float:
            return float(raw)
        if kind is Path:
            return Path(raw).expanduser()
        return str(raw)
    except (TypeError, ValueError) as exc:
        raise ConfigError(
            f"[{section}] {key} must be {getattr(kind, '__name__', kind)}, got {raw!r}"
        ) from exc


def _parse_bool(raw: str) -> bool:
    lowered = raw.strip().lower()
    if lowered in {"true", "t", "1", "yes", "on"}:
        return True
    if lowered in {"false", "f", "0", "no", "off", ""}:
        return False
    raise ValueError(raw)


def write_default_config(path: Path) -> None:
    """Write the config file with every default commented out and a fresh fernet key.

    The key is generated here, once, so that values encrypted today stay readable
    after a restart.
    """
    lines = [
        "# Tradewind configuration. Uncomment a key to change it; environment variables",
        "# TRADEWIND__SECTION__KEY take precedence over this file.",
    ]
    for section, cls in SECTIONS.items():
        lines += ["", f"[{section}]"]
        for key, spec in _fields(cls).items():
            lines.append(f"# {spec.metadata['description']}")
            if section == "core" and key == "fernet_key":
                lines.append(f"fernet_key = {generate_fernet_key()}")
            else:
                lines.append(f"# {key} = {format_value(spec.default)}")
    write_config_file_once(path, "\n".join(lines) + "\n")
