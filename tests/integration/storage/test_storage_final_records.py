"""What the database itself refuses, on both backends, whoever connects: changing a closed call
record or its memo, and moving the audit head anywhere but one link forward."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from app.domain.agent import Agent
from app.domain.call import CallRecord, new_record_id
from app.domain.enums import CallOrigin, CallOutcome, CallReason
from app.domain.memo import Memo
from app.storage import SqlStore
from tests.integration.storage.conftest import T0, make_customer

MEMO = Memo(reason="Follow-up", voicemail_left=True, account_note="Voicemail left.")


@pytest.fixture
def calls(store: SqlStore, agents: tuple[Agent, Agent]) -> tuple[str, str]:
    """(a closed record, an open one), both ann's."""
    ann, _ = agents
    closed = CallRecord(new_record_id(), "c-ana", ann.id, "+13125550142", "13125550142",
                        CallOrigin.FOLLOW_UP, CallReason.OTHER, T0)
    closed.ended(T0 + timedelta(minutes=1), CallOutcome.NO_ANSWER)
    closed.memo = MEMO
    open_one = CallRecord(new_record_id(), "c-ana", ann.id, "+13125550142", "13125550142",
                          CallOrigin.FOLLOW_UP, CallReason.OTHER, T0 + timedelta(minutes=5))
    with store.unit_of_work() as uow:
        uow.customers.add(make_customer("c-ana", "Ana", "García", "ACC-1", "+13125550142"))
        uow.calls.add(closed)
        uow.calls.add(open_one)
        uow.commit()
    closed.close(T0 + timedelta(minutes=2))
    with store.unit_of_work() as uow:  # closing through the repository still works
        uow.calls.save(closed)
        uow.commit()
    return closed.id, open_one.id


@pytest.mark.parametrize("statement", [
    "UPDATE calls SET end_reason = 'edited' WHERE id = :id",
    "UPDATE calls SET state = 'wrap_up', closed_at = NULL WHERE id = :id",
    "DELETE FROM calls WHERE id = :id",
    "UPDATE memos SET account_note = 'edited' WHERE call_id = :id",
    "DELETE FROM memos WHERE call_id = :id",
])
def test_a_closed_record_is_final_in_the_database(
        store: SqlStore, calls: tuple[str, str], statement: str) -> None:
    closed, _ = calls
    with store.engine.begin() as conn, pytest.raises(DBAPIError, match="closed call record"):
        conn.execute(text(statement), {"id": closed})
    with store.unit_of_work(read_only=True) as uow:
        record = uow.calls.get(closed)
        assert record is not None and record.memo == MEMO and record.closed_at is not None


def test_an_open_record_can_still_be_worked_on(store: SqlStore, calls: tuple[str, str]) -> None:
    _, open_one = calls
    with store.engine.begin() as conn:
        conn.execute(text("UPDATE memos SET summary = 'typing' WHERE call_id = :id"),
                     {"id": open_one})
        conn.execute(text("UPDATE calls SET end_reason = 'x' WHERE id = :id"), {"id": open_one})


def _head(store: SqlStore) -> tuple[int, str]:
    with store.engine.connect() as conn:
        row = conn.execute(text("SELECT seq, hash FROM audit_head")).one()
    return row[0], row[1]


def test_the_head_follows_every_append_and_moves_nowhere_else(store: SqlStore) -> None:
    assert _head(store) == (0, "0" * 64)
    with store.unit_of_work() as uow:
        uow.audit.append("a", "r", {}, T0)
        last = uow.audit.append("b", "r", {}, T0)
        uow.commit()
    assert _head(store) == (2, last.hash)
    for statement in ("UPDATE audit_head SET seq = 1", "UPDATE audit_head SET seq = 5",
                      "UPDATE audit_head SET hash = 'x' WHERE id = 1",
                      "DELETE FROM audit_head",
                      "INSERT INTO audit_head (id, seq, hash) VALUES (2, 9, 'x')"):
        with store.engine.begin() as conn, pytest.raises(DBAPIError):
            conn.execute(text(statement))
    assert _head(store) == (2, last.hash)


def test_after_the_tail_was_removed_writing_goes_on_and_the_gap_is_named(
        store: SqlStore) -> None:
    with store.unit_of_work() as uow:
        for i in range(5):
            uow.audit.append("x", "r", {"i": i}, T0)
        uow.commit()
    with store.engine.begin() as conn:  # someone with DDL rights removes the last two entries
        if conn.dialect.name == "postgresql":
            conn.execute(text("ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only"))
        else:
            conn.execute(text("DROP TRIGGER audit_log_no_delete"))
        conn.execute(text("DELETE FROM audit_log WHERE seq > 3"))
    with store.unit_of_work(read_only=True) as uow:
        check = uow.audit.check()
    assert (check.first_broken, check.head_seq) == (4, 5)
    assert "entries 4..5 were removed" in check.reason
    with store.unit_of_work() as uow:  # the desk keeps closing records meanwhile
        entry = uow.audit.append("record_closed", "r2", {}, T0)
        uow.commit()
    assert entry.seq == 6
    with store.unit_of_work(read_only=True) as uow:
        assert uow.audit.verify() == 6  # links to the removed entry 5
