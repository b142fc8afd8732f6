"""The store port stays plain Python, and the default database location is only a name."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from app.ports.store import Callback, CallbackStatus

ROOT = Path(__file__).resolve().parents[3]


def test_importing_the_port_and_the_demo_data_pulls_in_no_database_library() -> None:
    script = ("import sys, app.ports.store, app.demo.customers; "
              "print(sorted(m for m in sys.modules if m.split('.')[0] in "
              "('sqlalchemy', 'alembic', 'psycopg', 'app')))")
    out = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True,
                         text=True, check=True, timeout=60).stdout
    assert "sqlalchemy" not in out and "alembic" not in out and "psycopg" not in out
    assert "app.storage" not in out


def test_naming_the_default_database_creates_nothing(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    from app.storage import default_sqlite_url

    url = default_sqlite_url()
    assert url.startswith("sqlite+pysqlite:///") and url.endswith("callwise.sqlite3")
    assert str(tmp_path / "data") in url
    assert not (tmp_path / "data").exists()


def test_a_new_callback_is_open() -> None:
    at = datetime(2025, 3, 3, 15, 0, tzinfo=UTC)
    cb = Callback("cb", "c", "a", at, "r", at)
    assert cb.status is CallbackStatus.OPEN and str(cb.status) == "open"
