"""Opening the records database: engine, connection settings, migrations.

Nothing here runs at import time; `open_store` is called by the composition root.

SQLite durability (docs/storage.md says why in full): every connection gets WAL journaling
(readers never block the writer), `synchronous=FULL` (a commit is on disk before it returns, so an
acknowledged memo survives power loss, not just a crash), foreign keys on (SQLite's default is
off), and a busy timeout (another process writing waits instead of failing at once).

SQLite transactions are begun by us, not by the sqlite3 module: its legacy mode starts a
transaction only at the first write, so a read-then-write (the audit chain's tail, then the new
link) would not be atomic. Write units of work begin with `BEGIN IMMEDIATE`, taking the write lock
up front, so concurrent writers queue on the busy timeout instead of failing mid-transaction;
read-only units of work use a plain `BEGIN` with `query_only` set and never hold the write lock.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import platformdirs
from sqlalchemy import Connection, Engine, create_engine, event, inspect, make_url, text
from sqlalchemy.engine import URL
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import StaticPool

from app.storage.errors import translate
from app.storage.uow import READ_ONLY_OPTION, SqlStore

if TYPE_CHECKING:
    from alembic.config import Config

log = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
# The newest migration this version ships. A store already at it opens without importing
# Alembic (about 250 ms and 37 MiB at every start); tests/unit/storage/test_head_revision.py
# compares it with Alembic's own ScriptDirectory head, so adding a migration without updating
# it fails there.
HEAD_REVISION = "0002"
DEFAULT_BUSY_TIMEOUT_MS = 5_000
_QUERY_ONLY = "callwise_query_only"  # the connection's current PRAGMA query_only
# Alembic keeps its running context in module globals (`alembic.context`, `alembic.op`), so two
# migrations in one process must not overlap; across processes the database serialises them.
_MIGRATING = threading.Lock()


def default_sqlite_url() -> str:
    """The per-user database file. Only names it; `open_store` creates the folder."""
    folder = Path(platformdirs.user_data_dir("Callwise", appauthor=False))
    path = folder / "callwise.sqlite3"  # the same file name app.bootstrap uses
    return URL.create("sqlite+pysqlite", database=str(path)).render_as_string()


def normalise_url(url: str | URL) -> URL:
    """The URL with the driver Callwise ships; ValueError for a database it does not support."""
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend == "postgresql" and parsed.get_driver_name() != "psycopg":
        parsed = parsed.set(drivername="postgresql+psycopg")  # psycopg 3 is the one we ship
    elif backend not in ("sqlite", "postgresql"):
        raise ValueError(f"Callwise stores records in SQLite or PostgreSQL, not {backend!r}")
    return parsed


def _journal_to_wal(cursor: Any, busy_timeout_ms: int) -> str:
    """Switches a new database to WAL (the mode is kept in the file, so later connections only
    read it). SQLite does not wait on its busy timeout for this switch: while another
    connection is creating the schema it fails at once with "database is locked", so desktops
    or threads opening a new database together retry here for up to the same timeout."""
    mode = str(cursor.execute("PRAGMA journal_mode").fetchone()[0])
    deadline = time.monotonic() + busy_timeout_ms / 1000
    while mode != "wal":
        try:
            return str(cursor.execute("PRAGMA journal_mode=WAL").fetchone()[0])
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() >= deadline:
                raise
            time.sleep(0.01)
    return mode


def _install_sqlite_settings(engine: Engine, busy_timeout_ms: int, memory: bool) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we emit BEGIN ourselves (see module doc)
        cursor = dbapi_connection.cursor()
        try:
            mode = _journal_to_wal(cursor, busy_timeout_ms)
            if mode != "wal" and not memory:
                raise RuntimeError(f"SQLite refused WAL journaling (journal_mode={mode})")
            cursor.execute("PRAGMA synchronous=FULL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        read_only = bool(connection.get_execution_options().get(READ_ONLY_OPTION))
        # A `PRAGMA query_only` makes SQLite discard the connection's prepared statements, so
        # it is sent only when the mode changes (`info` lives as long as the DBAPI connection):
        # re-preparing every statement of a dial cost more than running them.
        if connection.info.get(_QUERY_ONLY) is not read_only:
            connection.exec_driver_sql(f"PRAGMA query_only={'ON' if read_only else 'OFF'}")
            connection.info[_QUERY_ONLY] = read_only
        connection.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")


def _install_postgresql_settings(engine: Engine) -> None:
    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        if connection.get_execution_options().get(READ_ONLY_OPTION):
            connection.exec_driver_sql("SET TRANSACTION READ ONLY")


def create_store_engine(url: str | URL, *, busy_timeout_ms: int = DEFAULT_BUSY_TIMEOUT_MS,
                        echo: bool = False, connect_timeout_s: int | None = None) -> Engine:
    """The engine with Callwise's connection settings; no schema work, no connection yet.

    PostgreSQL connections give up connecting after `connect_timeout_s` (default: the busy
    timeout) and notice a peer that vanished without closing (cable pulled, VPN dropped) within
    about ten seconds through TCP keepalives and `tcp_user_timeout`, instead of the operating
    system's minutes: a desktop must find out it is offline while the agent is still there.
    """
    parsed = normalise_url(url)
    if parsed.get_backend_name() == "sqlite":
        memory = parsed.database in (None, "", ":memory:")
        # The sqlite3 module's own timeout is the same busy wait; keep the two in step.
        connect_args: dict[str, Any] = {"timeout": busy_timeout_ms / 1000}
        kwargs: dict[str, Any] = {}
        if memory:
            # One shared connection, or every thread would see its own empty database. For
            # tools and quick experiments only: it is neither durable nor safe for parallel use.
            kwargs["poolclass"] = StaticPool
            connect_args["check_same_thread"] = False
        elif parsed.database is not None:
            Path(parsed.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(parsed, echo=echo, connect_args=connect_args, **kwargs)
        _install_sqlite_settings(engine, busy_timeout_ms, memory)
        return engine
    timeout = connect_timeout_s if connect_timeout_s is not None else busy_timeout_ms // 1000
    engine = create_engine(
        parsed, echo=echo, pool_pre_ping=True,  # desktops outlive database restarts
        connect_args={"connect_timeout": max(1, timeout), "application_name": "callwise",
                      "keepalives": 1, "keepalives_idle": 5, "keepalives_interval": 2,
                      "keepalives_count": 3, "tcp_user_timeout": 10_000})
    _install_postgresql_settings(engine)
    return engine


def alembic_config() -> Config:
    """Alembic settings from the package itself, so no alembic.ini is needed in the CWD."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def _stored_revision(connection: Connection) -> str | None:
    """The schema revision Alembic recorded, read with plain SQL (no Alembic import)."""
    if not inspect(connection).has_table("alembic_version"):
        return None
    rows = connection.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
    if len(rows) > 1:  # a branched history: Alembic itself reports what that means
        raise RuntimeError(f"the database records several schema revisions: {sorted(rows)}")
    return rows[0] if rows else None


def upgrade_to_head(engine: Engine) -> None:
    """Brings the schema to the newest migration in one transaction (PostgreSQL also takes an
    advisory lock in env.py, so desktops starting together do not race).

    A database already at `HEAD_REVISION` is left alone without importing Alembic: that is
    every start but the first after an upgrade. A database that is not at head goes through
    Alembic as before, which re-reads the revision under its lock.
    """
    if current_revision(engine) == HEAD_REVISION:
        return
    from alembic import command

    config = alembic_config()
    with _MIGRATING, engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return _stored_revision(connection)


def head_revision() -> str:
    return HEAD_REVISION


def known_revisions() -> set[str]:
    """Every revision this version ships; a database at another one was made by a newer one."""
    from alembic.script import ScriptDirectory

    return {r.revision for r in ScriptDirectory.from_config(alembic_config()).walk_revisions()}


def open_store(url: str, *, migrate: bool = True,
               busy_timeout_ms: int = DEFAULT_BUSY_TIMEOUT_MS, echo: bool = False) -> SqlStore:
    """Connects and (unless `migrate=False`, for databases IT upgrades itself) migrates to head.

    `url` is a SQLAlchemy URL: `sqlite:///path/to/callwise.db` (see `default_sqlite_url`) or
    `postgresql+psycopg://user@host/db` (a bare `postgresql://` gets the psycopg driver).
    Raises StoreUnavailable when the database cannot be reached.
    """
    engine = create_store_engine(url, busy_timeout_ms=busy_timeout_ms, echo=echo)
    try:
        if migrate:
            upgrade_to_head(engine)
        else:
            with engine.connect():
                pass  # fail now, with a clear error, rather than at the first dial
    except DBAPIError as exc:
        engine.dispose()
        mapped = translate(exc)
        if mapped is exc:
            raise
        raise mapped from exc
    except BaseException:
        engine.dispose()
        raise
    log.info("records store open: %s", engine.url.render_as_string(hide_password=True))
    readers: Engine | None = None
    if engine.dialect.name == "sqlite" and engine.url.database not in (None, "", ":memory:"):
        # Reads get their own connections, so no connection flips between read-only and
        # writing (each flip re-prepares its statements): a verdict just before a dial would
        # otherwise slow the dial down.
        readers = create_store_engine(url, busy_timeout_ms=busy_timeout_ms, echo=echo)
    return SqlStore(engine, readers=readers)
