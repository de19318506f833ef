"""Engines, migrations and retries for the catalogue database (SQLite or PostgreSQL).

Kept apart from catalogue.py so that the SQL there reads as SQL, and the decisions
about connections (pragmas, transaction start, what counts as "unavailable") live here.
"""

from __future__ import annotations

from contextlib import contextmanager
from functools import lru_cache
import threading
from pathlib import Path
from typing import Callable, Iterator, TypeVar

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError, OperationalError
from sqlmodel import Session
from tenacity import RetryError, Retrying, retry_if_exception, stop_after_attempt, wait_random_exponential

MIGRATIONS = Path(__file__).with_name("migrations")

# How long one SQLite connection waits for another's write lock before giving up (ms),
# and how often we then try the whole transaction again.
SQLITE_BUSY_TIMEOUT_MS = 15_000
RETRY_ATTEMPTS = 5
RETRY_WAIT = wait_random_exponential(multiplier=0.2, max=5)


class CatalogueError(Exception):
    """Base class for catalogue errors."""


class CatalogueURLError(CatalogueError, ValueError):
    """A catalogue URL SQLAlchemy cannot use."""


class CatalogueUnavailable(CatalogueError):
    """The database stayed locked or unreachable through every retry."""


T = TypeVar("T")


def make_engine(url: str) -> Engine:
    """An engine for url. SQLite gets WAL, a busy timeout, foreign keys and BEGIN IMMEDIATE writes."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise CatalogueURLError(f"not a database URL: {url!r} (e.g. sqlite:///data/catalogue.sqlite)") from None
    if parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")  # psycopg 3 is what we ship
    try:
        if parsed.get_backend_name() == "sqlite":
            if parsed.database and parsed.database != ":memory:":
                Path(parsed.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
            engine = sa.create_engine(parsed, connect_args={"check_same_thread": False,
                                                            "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000})
            _sqlite_setup(engine)
        else:
            engine = sa.create_engine(parsed, pool_pre_ping=True)
    except (NoSuchModuleError, ArgumentError) as exc:
        raise CatalogueURLError(f"cannot open catalogue {url!r}: {exc}") from None
    return engine


def _sqlite_setup(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_conn, _record):
        # pysqlite's own transaction handling would defer BEGIN; we issue it ourselves below.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")  # readers do not block the writer
        cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA synchronous=NORMAL")  # durable at checkpoints; fine under WAL
        cur.close()

    @event.listens_for(engine, "begin")
    def _begin(conn):
        # A deferred transaction that reads, then writes, fails at once with SQLITE_BUSY
        # when another writer got in between (busy_timeout does not apply). Writers take
        # the lock up front instead, so they queue politely.
        if conn.get_execution_options().get("nianbao_write"):
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            conn.exec_driver_sql("BEGIN")


def safe_url(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=True)


@lru_cache(maxsize=1)
def head_revision() -> str:
    """The newest migration shipped with this package."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return ScriptDirectory.from_config(cfg).get_current_head()


def _current_revision(engine: Engine) -> str | None:
    try:
        with engine.connect() as conn:
            return conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()
    except DBAPIError:
        return None       # no alembic_version table yet (or unreadable): let Alembic decide


def upgrade(engine: Engine) -> None:
    """alembic upgrade head on this engine, from the migrations shipped inside the package.
    A database already at head is left alone after one query (each crawler of a multi-site
    harvest opens the catalogue; Alembic's own check costs far more)."""
    if _current_revision(engine) == head_revision():
        return
    with _MIGRATING:      # the sites of one harvest open their runs in parallel threads
        if _current_revision(engine) == head_revision():
            return
        _upgrade(engine)


_MIGRATING = threading.Lock()


def _upgrade(engine: Engine) -> None:
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", safe_url(engine).replace("%", "%%"))
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            # Workers starting together on an empty database: one migrator at a time.
            conn.exec_driver_sql("SELECT pg_advisory_xact_lock(7367)")
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")


def _transient(exc: BaseException) -> bool:
    """Locked, busy or unreachable: worth another try. Integrity and programming errors are not."""
    if isinstance(exc, OperationalError):
        return True
    return isinstance(exc, DBAPIError) and exc.connection_invalidated


def with_retries(engine: Engine, what: str, fn: Callable[[], T]) -> T:
    try:
        for attempt in Retrying(stop=stop_after_attempt(RETRY_ATTEMPTS), wait=RETRY_WAIT,
                                retry=retry_if_exception(_transient)):
            with attempt:
                return fn()
    except RetryError as exc:
        last = exc.last_attempt.exception()
        detail = getattr(last, "orig", None) or last
        raise CatalogueUnavailable(
            f"catalogue {safe_url(engine)} unavailable for {what} after {RETRY_ATTEMPTS} attempts: {detail}"
        ) from last
    raise AssertionError("unreachable")  # pragma: no cover


@contextmanager
def session(engine: Engine, *, write: bool) -> Iterator[Session]:
    """One transaction. Writes commit at the end; reads roll back (they changed nothing)."""
    if write and engine.dialect.name == "sqlite":
        # Writers of one process queue on a lock that wakes the next at once; left to SQLite's
        # busy handler, they would poll with sleeps of up to 100 ms (the sites of a harvest
        # write from several threads). Other processes still meet at SQLite's own lock.
        with _sqlite_writer_lock(engine.url.database):
            yield from _session(engine, write=write)
    else:
        yield from _session(engine, write=write)


_WRITER_LOCKS: dict[str | None, threading.RLock] = {}
_WRITER_LOCKS_GUARD = threading.Lock()


def _sqlite_writer_lock(database: str | None) -> threading.RLock:
    with _WRITER_LOCKS_GUARD:
        return _WRITER_LOCKS.setdefault(database, threading.RLock())


def _session(engine: Engine, *, write: bool) -> Iterator[Session]:
    with engine.connect() as conn:
        if write:
            conn.execution_options(nianbao_write=True)
        with Session(bind=conn, expire_on_commit=False) as s:
            yield s
            if write:
                s.commit()
