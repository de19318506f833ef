"""Every setting a command depends on, checked before it does any work.

One table (CHECKS) names each setting, where it comes from and how it is tested. A command asks
for the checks it needs (`require(catalogue=..., store=..., browser=..., redis=..., port=...)`);
each failure is one line naming the setting and the problem, and the command exits with
EXIT_SETTINGS (6): the environment is wrong, not a site file (3) nor a crawl (1), and running
again will not help until it is fixed. No check fetches anything from a portal.
"""
from __future__ import annotations

import os
import socket
import uuid
from dataclasses import dataclass
from typing import Any, Callable

EXIT_SETTINGS = 6

# What the catalogue can be: the migrations and the SQL are written for these two.
SUPPORTED_DATABASES = ("sqlite", "postgresql")
CONNECT_TIMEOUT_S = 5


class SettingError(Exception):
    """A setting that cannot be used: `setting` names it as the user wrote it."""

    def __init__(self, setting: str, problem: str):
        self.setting = setting
        self.problem = problem
        super().__init__(f"{setting}: {problem}")


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def check_catalogue(url: str) -> None:
    """Parsable, a supported database, reachable, and migratable to the latest schema."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        parsed = make_url(url)
    except ArgumentError:
        raise ValueError(f"{url!r} is not a database URL (sqlite:///path/catalogue.sqlite or "
                         "postgresql://user@host/db)") from None
    backend = parsed.get_backend_name()
    if backend not in SUPPORTED_DATABASES:
        raise ValueError(f"{backend} is not supported: use sqlite:///path or postgresql://user@host/db")
    if backend == "sqlite" and parsed.database and parsed.database != ":memory:":
        from pathlib import Path

        parent = Path(parsed.database).expanduser().resolve().parent
        existing = next((p for p in (parent, *parent.parents) if p.exists()), None)
        if existing is not None and not existing.is_dir():
            raise ValueError(f"{existing} is not a directory")
        if existing is not None and not os.access(existing, os.W_OK):
            raise ValueError(f"{existing} is not writable")
    if backend == "postgresql":
        # One attempt with a short timeout: the catalogue's own retries are for a database that
        # went away mid-run, not for one that was never there.
        import psycopg

        try:
            psycopg.connect(parsed.set(drivername="postgresql").render_as_string(hide_password=False),
                            connect_timeout=CONNECT_TIMEOUT_S).close()
        except Exception as exc:
            raise ValueError(f"cannot connect to {parsed.host or 'localhost'}:{parsed.port or 5432}: "
                             f"{_first_line(exc)}") from None
    from storage.catalogue import Catalogue

    try:
        Catalogue.open(url).close()
    except Exception as exc:
        raise ValueError(f"cannot open or migrate: {_first_line(exc)}") from None


def check_store(url: str) -> None:
    """Opens, and takes a write: a read-only or full disk is found before the first file."""
    from storage.objects import open_store

    try:
        store = open_store(url)
    except Exception as exc:
        raise ValueError(_first_line(exc)) from None
    key = f"preflight/{os.getpid()}-{uuid.uuid4().hex}"
    try:
        store.put(key, b"nianbao preflight\n")
    except Exception as exc:
        raise ValueError(f"cannot write to {url}: {_first_line(exc)}") from None
    try:
        store.delete(key)
    except Exception:
        pass    # a store that takes writes but not deletes still archives


def check_browser(path: str) -> None:
    if not os.path.isfile(path):
        raise ValueError(f"{path} not found (install Debian's chromium, or set NIANBAO_CHROMIUM)")
    if not os.access(path, os.X_OK):
        raise ValueError(f"{path} is not executable")


def check_redis(url: str) -> None:
    import redis

    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=CONNECT_TIMEOUT_S,
                                      socket_timeout=CONNECT_TIMEOUT_S)
        client.ping()
        client.close()
    except Exception as exc:
        raise ValueError(f"cannot reach {url}: {_first_line(exc)}") from None


def check_port(address: tuple[str, int]) -> None:
    host, port = address
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as exc:
        raise ValueError(f"cannot listen on {host}:{port}: {_first_line(exc)}") from None
    family, _, _, _, sockaddr = infos[0]
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)   # as uvicorn binds
        try:
            s.bind(sockaddr)
        except OSError as exc:
            why = "already in use" if exc.errno == 98 else exc.strerror or _first_line(exc)
            raise ValueError(f"cannot listen on {host}:{port}: {why}") from None


@dataclass(frozen=True)
class Check:
    name: str                       # the keyword of require()
    setting: str                    # how the user sets it: flag and variable
    test: Callable[[Any], None]     # raises ValueError(problem) when the value cannot be used


# In the order they run: a catalogue that cannot be opened makes every other answer moot.
CHECKS: tuple[Check, ...] = (
    Check("catalogue", "catalogue (--catalogue / NIANBAO_CATALOGUE)", check_catalogue),
    Check("store", "store (--store / NIANBAO_STORE)", check_store),
    Check("browser", "browser (NIANBAO_CHROMIUM)", check_browser),
    Check("redis", "redis (--redis / NIANBAO_REDIS)", check_redis),
    Check("port", "port (--host / --port)", check_port),
)


def problems(**needs: Any) -> list[SettingError]:
    """Run the checks whose keyword is given a value (None: not needed); every problem found."""
    unknown = set(needs) - {c.name for c in CHECKS}
    if unknown:
        raise TypeError(f"no such check: {', '.join(sorted(unknown))}")
    found = []
    for check in CHECKS:
        value = needs.get(check.name)
        if value is None:
            continue
        try:
            check.test(value)
        except ValueError as exc:
            found.append(SettingError(check.setting, str(exc)))
            if check.name == "catalogue":
                break
    return found


def require(console=None, **needs: Any) -> None:
    """Run the checks; on any problem print one line each and exit EXIT_SETTINGS."""
    found = problems(**needs)
    if not found:
        return
    import typer

    for problem in found:
        line = f"settings error: {problem}"
        if console is not None:
            console.print(line, highlight=False, markup=False, soft_wrap=True)
        else:
            import sys
            print(line, file=sys.stderr)
    raise typer.Exit(EXIT_SETTINGS)
