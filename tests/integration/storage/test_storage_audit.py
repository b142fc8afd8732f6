"""The audit trail on both backends: append-only in the database, tamper-evident in its chain."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import Connection, text
from sqlalchemy.exc import DBAPIError

from app.storage import SqlStore
from tests.integration.storage.conftest import T0


def _append(store: SqlStore, count: int) -> None:
    with store.unit_of_work() as uow:
        for i in range(count):
            uow.audit.append("call_attempt", f"rec-{i % 3}",
                             {"i": i, "verdicts": {"OB-WINDOW": "pass"}, "note": "café"},
                             T0 + timedelta(seconds=i))
        uow.commit()


def _drop_guards(conn: Connection) -> None:
    """What someone with DDL rights would do first, before editing history."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("DROP TRIGGER audit_log_append_only ON audit_log"))
    else:
        conn.execute(text("DROP TRIGGER audit_log_no_update"))
        conn.execute(text("DROP TRIGGER audit_log_no_delete"))


def test_entries_chain_and_read_back(store: SqlStore) -> None:
    with store.unit_of_work() as uow:
        first = uow.audit.append("record_closed", "rec-1", {"outcome": "answered"}, T0)
        second = uow.audit.append("record_closed", "rec-2", {"tags": ("a", "b")}, T0)
        uow.commit()
    assert (first.seq, second.seq) == (1, 2)
    assert second.prev_hash == first.hash and len(first.hash) == 64
    with store.unit_of_work(read_only=True) as uow:
        assert uow.audit.for_record("rec-2") == [second]
        assert uow.audit.for_record("rec-2")[0].payload == {"tags": ["a", "b"]}
        assert uow.audit.verify() is None


def test_payloads_must_be_json(store: SqlStore) -> None:
    with store.unit_of_work() as uow, pytest.raises(TypeError):
        uow.audit.append("x", "r", {"when": T0}, T0)


def test_the_database_refuses_to_edit_or_delete_history(store: SqlStore) -> None:
    _append(store, 3)
    for statement in ("UPDATE audit_log SET kind = 'edited' WHERE seq = 2",
                      "DELETE FROM audit_log WHERE seq = 2"):
        with store.engine.begin() as conn, pytest.raises(DBAPIError, match="append-only"):
            conn.execute(text(statement))


def test_verify_names_an_edited_entry(store: SqlStore) -> None:
    _append(store, 5)
    with store.engine.begin() as conn:
        _drop_guards(conn)
        conn.execute(text("UPDATE audit_log SET payload = :p WHERE seq = 3"),
                     {"p": '{"i":99,"note":"café","verdicts":{"OB-WINDOW":"pass"}}'})
    with store.unit_of_work(read_only=True) as uow:
        assert uow.audit.verify() == 3


def test_verify_names_the_entry_after_a_deleted_one(store: SqlStore) -> None:
    _append(store, 5)
    with store.engine.begin() as conn:
        _drop_guards(conn)
        conn.execute(text("DELETE FROM audit_log WHERE seq = 3"))
    with store.unit_of_work(read_only=True) as uow:
        assert uow.audit.verify() == 4


def test_verify_notices_a_rewritten_hash_that_was_not_rechained(store: SqlStore) -> None:
    _append(store, 4)
    with store.engine.begin() as conn:
        _drop_guards(conn)
        conn.execute(text("UPDATE audit_log SET hash = :h WHERE seq = 2"), {"h": "f" * 64})
    with store.unit_of_work(read_only=True) as uow:
        assert uow.audit.verify() == 2


def test_concurrent_writers_keep_one_unbroken_chain(store: SqlStore) -> None:
    """Four threads (four connections) append at once; the chain stays linear and whole."""
    errors: list[BaseException] = []

    def writer(n: int) -> None:
        try:
            for i in range(15):
                with store.unit_of_work() as uow:
                    uow.audit.append("state", f"agent-{n}", {"i": i}, T0)
                    uow.commit()
        except BaseException as exc:  # reported below, in the test's own thread
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert errors == []
    with store.unit_of_work(read_only=True) as uow:
        assert uow.audit.verify() is None
        assert sum(len(uow.audit.for_record(f"agent-{n}")) for n in range(4)) == 60

