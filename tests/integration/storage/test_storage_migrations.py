"""Schema migrations and connection settings on real SQLite files and a real PostgreSQL."""

from __future__ import annotations

import socket
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text

from app.storage import SqlStore, open_store
from app.storage.engine import (
    alembic_config,
    create_store_engine,
    current_revision,
    head_revision,
    upgrade_to_head,
)
from app.storage.health import check_database
from app.storage.models import Base
from tests.integration.storage.conftest import T0

ROOT = Path(__file__).resolve().parents[3]
TABLES = {"agent_state_changes", "agents", "alembic_version", "audit_head", "audit_log",
          "callbacks", "calls", "consents", "customer_numbers", "customers", "login_agents",
          "login_teams", "memos", "notifications", "shifts", "sync_meta", "sync_origins",
          "sync_outbox", "teams", "ticket_updates", "tickets"}


def test_an_empty_database_is_migrated_to_head(db_url: str) -> None:
    store = open_store(db_url)
    try:
        assert current_revision(store.engine) == head_revision()
        assert head_revision() == ScriptDirectory.from_config(alembic_config()).get_heads()[0]
        assert set(inspect(store.engine).get_table_names()) == TABLES
    finally:
        store.close()


def test_models_and_migrations_agree(db_url: str) -> None:
    store = open_store(db_url)
    try:
        with store.engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            assert compare_metadata(context, Base.metadata) == []
    finally:
        store.close()


def test_migrations_go_down_to_nothing_and_up_again(db_url: str) -> None:
    store = open_store(db_url)
    try:
        config = alembic_config()
        with store.engine.begin() as conn:
            config.attributes["connection"] = conn
            command.downgrade(config, "base")
        assert set(inspect(store.engine).get_table_names()) <= {"alembic_version"}
        upgrade_to_head(store.engine)
        assert current_revision(store.engine) == head_revision()
        with store.unit_of_work() as uow:
            uow.audit.append("after_reupgrade", "r", {}, T0)
            uow.commit()
    finally:
        store.close()


def test_desktops_starting_together_migrate_once(db_url: str) -> None:
    """Several processes (desktops) open a brand-new database at the same moment."""
    script = ("import sys; from app.storage import open_store; "
              "open_store(sys.argv[1]).close(); print('ok')")
    children = [subprocess.Popen([sys.executable, "-c", script, db_url], cwd=ROOT,
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                for _ in range(4)]
    outputs = []
    try:
        for child in children:
            outputs.append(child.communicate(timeout=120))
    finally:
        for child in children:
            if child.poll() is None:
                child.kill()
                child.wait()
    assert [(c.returncode, out.strip()) for c, (out, _) in zip(children, outputs, strict=True)] \
        == [(0, "ok")] * 4, [err for _, err in outputs]
    engine = create_store_engine(db_url)
    try:
        assert current_revision(engine) == head_revision()
    finally:
        engine.dispose()


def test_threads_opening_stores_together_do_not_trip_over_alembic(db_url: str) -> None:
    stores: list[SqlStore] = []
    errors: list[BaseException] = []

    def start() -> None:
        try:
            stores.append(open_store(db_url))
        except BaseException as exc:  # reported in the test's thread
            errors.append(exc)

    threads = [threading.Thread(target=start) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    try:
        assert errors == []
        assert len(stores) == 3
    finally:
        for s in stores:
            s.close()


def test_a_store_opened_again_finds_its_data(db_url: str) -> None:
    first = open_store(db_url)
    with first.unit_of_work() as uow:
        uow.audit.append("x", "r", {"k": 1}, T0)
        uow.commit()
    first.close()
    again = open_store(db_url)
    try:
        with again.unit_of_work() as uow:
            assert [e.payload for e in uow.audit.for_record("r")] == [{"k": 1}]
    finally:
        again.close()


def test_sqlite_settings_are_in_effect_on_every_fresh_connection(sqlite_url: str) -> None:
    store = open_store(sqlite_url, busy_timeout_ms=7_000)
    try:
        store.engine.dispose()  # nothing pooled: the next connection is brand new
        with store.engine.connect() as conn:
            pragma = conn.exec_driver_sql
            assert pragma("PRAGMA journal_mode").scalar() == "wal"
            assert pragma("PRAGMA synchronous").scalar() == 2  # FULL
            assert pragma("PRAGMA foreign_keys").scalar() == 1
            assert pragma("PRAGMA busy_timeout").scalar() == 7_000
    finally:
        store.close()


def test_sqlite_foreign_keys_are_per_connection_so_ours_turn_them_on(sqlite_url: str) -> None:
    """A bare sqlite3 connection has them off: the setting must come from our connect hook."""
    store = open_store(sqlite_url)
    store.close()
    path = sqlite_url.removeprefix("sqlite:///")
    bare = sqlite3.connect(path)
    try:
        assert bare.execute("PRAGMA foreign_keys").fetchone()[0] == 0
        assert bare.execute("PRAGMA journal_mode").fetchone()[0] == "wal"  # stored in the file
    finally:
        bare.close()


def test_the_sqlite_folder_is_made_when_the_store_opens(tmp_path: Path) -> None:
    target = tmp_path / "not" / "yet" / "there.sqlite3"
    store = open_store(f"sqlite:///{target}")
    store.close()
    assert target.is_file()


def test_postgresql_search_keys_compare_bytewise(pg_url: str) -> None:
    store = open_store(pg_url)
    try:
        with store.engine.connect() as conn:
            collations: dict[str, str] = dict(conn.execute(text(
                "SELECT column_name, collation_name FROM information_schema.columns "
                "WHERE table_name = 'customers' AND column_name LIKE '%key'")).all())
        assert collations == {"name_key": "C", "name_rev_key": "C", "account_key": "C"}
    finally:
        store.close()


def test_the_doctor_reports_a_current_and_an_outdated_schema(db_url: str) -> None:
    engine = create_store_engine(db_url)
    try:
        with engine.begin() as conn:
            conn.execute(text("SELECT 1"))  # creates the SQLite file, empty
        ok, detail = check_database(db_url)
        assert not ok and "schema empty" in detail
        upgrade_to_head(engine)
        ok, detail = check_database(db_url)
        assert ok and f"schema {head_revision()} (current)" in detail
    finally:
        engine.dispose()


def test_the_doctor_reports_an_unreachable_server() -> None:
    with socket.socket() as probe:  # a loopback port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    ok, detail = check_database(f"postgresql://nobody@127.0.0.1:{port}/none")
    assert not ok and "not answering" in detail
