"""Read settings from the environment; a bad value names its variable.

Pure helpers with no Django imports, so they are easy to test.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qsl, unquote, urlsplit

TRUE_WORDS = {"1", "true", "yes", "on"}
FALSE_WORDS = {"0", "false", "no", "off", ""}


class EnvError(ValueError):
    """A variable holds a value SSOps cannot use; the message names it."""


class WithFiles(Mapping):
    """The environment, where `NAME_FILE=/path` stands for `NAME` holding that file's contents
    (a trailing newline dropped): how Docker, Kubernetes and systemd hand over secrets, so
    they need not sit in the environment itself. A non-empty `NAME` wins over `NAME_FILE`."""

    def __init__(self, base: Mapping[str, str]):
        self.base = base

    def __getitem__(self, name: str) -> str:
        path = self.base.get(f"{name}_FILE")
        if self.base.get(name) or not path:
            return self.base[name]
        try:
            return Path(path).read_text().removesuffix("\n")
        except OSError as exc:
            raise EnvError(f"{name}_FILE={path!r} cannot be read: {exc.strerror}") from None

    def __contains__(self, name: object) -> bool:
        return name in self.base or bool(self.base.get(f"{name}_FILE"))

    def __iter__(self):
        return iter(self.base)

    def __len__(self) -> int:
        return len(self.base)


def _env(environ: Mapping[str, str] | None) -> WithFiles:
    return WithFiles(os.environ if environ is None else environ)


def get_str(name: str, default: str = "", environ: dict[str, str] | None = None) -> str:
    env = _env(environ)
    return env.get(name, default)


def get_bool(name: str, default: bool = False, environ: dict[str, str] | None = None) -> bool:
    env = _env(environ)
    if name not in env:
        return default
    value = env[name].strip().lower()
    if value in TRUE_WORDS:
        return True
    if value in FALSE_WORDS:
        return False
    raise EnvError(
        f"{name}={env[name]!r} is not a boolean: use one of 1/0, true/false, yes/no, on/off"
    )


def get_int(
    name: str, default: int, *, minimum: int | None = None, environ: dict[str, str] | None = None
) -> int:
    env = _env(environ)
    if name not in env or env[name].strip() == "":
        return default
    try:
        value = int(env[name])
    except ValueError:
        raise EnvError(f"{name}={env[name]!r} is not a whole number") from None
    if minimum is not None and value < minimum:
        raise EnvError(f"{name}={value} is below the minimum of {minimum}")
    return value


RATE_RE = re.compile(r"^\d+/(s|sec|second|m|min|minute|h|hour|d|day)$")


def get_rate(name: str, default: str, environ: dict[str, str] | None = None) -> str:
    """A rate limit such as 100/min, or "off"."""
    env = _env(environ)
    value = env.get(name, default).strip().lower()
    if value != "off" and not RATE_RE.match(value):
        raise EnvError(f"{name}={value!r} is not a rate such as 600/min (or off)")
    return value


def get_list(name: str, default: list[str], environ: dict[str, str] | None = None) -> list[str]:
    env = _env(environ)
    if name not in env:
        return default
    items = [item.strip() for item in env[name].split(",") if item.strip()]
    if not items:
        raise EnvError(f"{name} is set but lists nothing: give a comma-separated list")
    return items


def get_url(name: str, default: str = "", environ: dict[str, str] | None = None) -> str:
    """An http(s) URL, or empty when unset; anything else is refused."""
    env = _env(environ)
    value = env.get(name, default).strip()
    if not value:
        return ""
    parts = urlsplit(value)
    if parts.scheme not in {"http", "https"} or not parts.netloc:
        raise EnvError(f"{name}={value!r} is not an http(s) URL such as http://127.0.0.1:9090")
    return value.rstrip("/")


@dataclass(frozen=True)
class Database:
    engine: str
    name: str
    user: str = ""
    password: str = ""
    host: str = ""
    port: str = ""
    options: tuple[tuple[str, str], ...] = ()

    def as_django(self, *, conn_max_age: int = 600) -> dict:
        """Django's DATABASES entry. Connections persist for `conn_max_age` seconds (checked
        before reuse), on SQLite too: opening one costs more than most requests' queries."""
        config: dict = {
            "ENGINE": self.engine,
            "NAME": self.name,
            "CONN_MAX_AGE": conn_max_age,
            "CONN_HEALTH_CHECKS": True,
        }
        if self.engine == "django.db.backends.sqlite3":
            # IMMEDIATE transactions take the write lock up front, so concurrent writers queue
            # instead of failing when they upgrade a read lock (the audit chain relies on it).
            config["OPTIONS"] = {
                "transaction_mode": "IMMEDIATE",
                "timeout": 30,
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            }
            return config
        config.update(USER=self.user, PASSWORD=self.password, HOST=self.host, PORT=self.port)
        config["OPTIONS"] = dict(self.options)
        return config


def parse_database_url(name: str, value: str) -> Database:
    """sqlite:///relative/or//absolute/path or postgres(ql)://user:pass@host:port/db?opt=v."""
    parts = urlsplit(value)
    if parts.scheme == "sqlite":
        path = unquote(parts.path)
        if path.startswith("/"):
            path = path[1:]  # sqlite:///var/x.db is relative; sqlite:////abs/x.db is absolute
        if not path:
            raise EnvError(f"{name}={value!r} names no file: use sqlite:///var/ssops.sqlite3")
        return Database(engine="django.db.backends.sqlite3", name=path)
    if parts.scheme in {"postgres", "postgresql", "pgsql"}:
        db_name = unquote(parts.path.lstrip("/"))
        if not db_name:
            raise EnvError(f"{name}={value!r} names no database: add /DBNAME after the host")
        try:
            port = str(parts.port or "")
        except ValueError:
            raise EnvError(f"{name}={value!r} has a port that is not a number") from None
        return Database(
            engine="django.db.backends.postgresql",
            name=db_name,
            user=unquote(parts.username or ""),
            password=unquote(parts.password or ""),
            host=unquote(parts.hostname or ""),
            port=port,
            options=tuple(parse_qsl(parts.query)),
        )
    raise EnvError(
        f"{name}={value!r} has an unsupported scheme {parts.scheme!r}: "
        "use sqlite:///PATH or postgresql://USER:PASSWORD@HOST:PORT/NAME"
    )


def get_database(name: str, default_path: Path, environ: dict[str, str] | None = None) -> Database:
    env = _env(environ)
    value = env.get(name, "").strip()
    if not value:
        return Database(engine="django.db.backends.sqlite3", name=str(default_path))
    return parse_database_url(name, value)


def get_broker_url(name: str, environ: dict[str, str] | None = None) -> str:
    env = _env(environ)
    value = env.get(name, "").strip()
    if not value:
        return ""
    scheme = urlsplit(value).scheme
    if scheme not in {"redis", "rediss", "filesystem", "memory", "amqp", "pyamqp", "sqla+sqlite"}:
        raise EnvError(
            f"{name}={value!r} has an unsupported scheme {scheme!r}: use redis://HOST:6379/0"
        )
    return value
