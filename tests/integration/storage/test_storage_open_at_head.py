"""A store already at the schema head opens without Alembic; any other revision still migrates."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import inspect, text

from app.storage import open_desktop_store, open_store
from app.storage.engine import alembic_config, create_store_engine, current_revision, head_revision
from tests.integration.storage.conftest import make_customer

ROOT = Path(__file__).resolve().parents[3]

# A fresh interpreter, as a desktop starting: open the store, find the customer, say whether
# Alembic was imported along the way.
REOPEN = """
import sys
from app.storage import open_store
store = open_store(sys.argv[1])
with store.unit_of_work(read_only=True) as uow:
    found = [c.id for c in uow.customers.search("garc")]
store.close()
print(found, any(name == "alembic" or name.startswith("alembic.") for name in sys.modules))
"""


def _reopen(url: str) -> str:
    out = subprocess.run([sys.executable, "-c", REOPEN, url], cwd=ROOT, capture_output=True,
                         text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


def test_a_store_at_head_reopens_with_its_records_and_without_alembic(db_url: str) -> None:
    store = open_store(db_url)  # first start: migrated by Alembic
    try:
        with store.unit_of_work() as uow:
            uow.customers.add(make_customer("c-ana", "Ana", "Garcia", "A-1", "+13125550142"))
            uow.commit()
    finally:
        store.close()
    assert _reopen(db_url) == "['c-ana'] False"


def test_a_store_one_revision_behind_is_still_migrated(db_url: str) -> None:
    engine = create_store_engine(db_url)
    config = alembic_config()
    try:
        with engine.begin() as conn:
            config.attributes["connection"] = conn
            command.upgrade(config, "0001")
        assert current_revision(engine) == "0001"
    finally:
        engine.dispose()
    store = open_store(db_url)
    try:
        assert current_revision(store.engine) == head_revision()
        assert "sync_outbox" in inspect(store.engine).get_table_names()  # made by 0002
    finally:
        store.close()


def test_an_empty_database_reports_no_revision_and_is_migrated(db_url: str) -> None:
    engine = create_store_engine(db_url)
    try:
        assert current_revision(engine) is None
    finally:
        engine.dispose()
    store = open_store(db_url)
    try:
        with store.engine.connect() as conn:
            assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one() \
                == head_revision()
    finally:
        store.close()


def test_an_unsupported_database_is_refused_before_any_file_is_made(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="SQLite or PostgreSQL, not 'mysql'"):
        open_desktop_store("mysql://someone@db.example.com/callwise", tmp_path)
    assert list(tmp_path.iterdir()) == []
