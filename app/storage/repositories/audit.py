"""The append-only, hash-chained audit trail."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from functools import cache
from typing import Any, cast

from sqlalchemy import Insert, Select, Table, TextClause, insert, select, text
from sqlalchemy.orm import Session

from app.ports.store import AuditEntry, ChainCheck
from app.storage.chain import GENESIS, canonical_json, entry_hash
from app.storage.errors import translated
from app.storage.models import AuditHeadRow, AuditRow
from app.storage.repositories._common import connection, dialect_name

_VERIFY_BATCH = 2_000
# Any constant will do; it only has to be the same for every writer of one database.
AUDIT_APPEND_LOCK = 0x43574155  # "CWAU"
_HEAD_KEY = "callwise_audit_head"


@cache
def _append_statements() -> tuple[TextClause, Select[int, str], Insert]:
    """(the PostgreSQL append lock, the recorded head, the new link), built once: an append
    runs with every dial."""
    return (text("SELECT pg_advisory_xact_lock(:key)"),
            select(AuditHeadRow.seq, AuditHeadRow.hash).where(AuditHeadRow.id == 1),
            insert(cast(Table, AuditRow.__table__)))


def _to_entry(row: AuditRow) -> AuditEntry:
    return AuditEntry(seq=row.seq, kind=row.kind, record_id=row.record_id,
                      payload=json.loads(row.payload), at=row.at, prev_hash=row.prev_hash,
                      hash=row.hash)


class SqlAuditLog:
    """Owned by the unit of work (and so the thread) that made it.

    Appending reads the chain's head and writes after it, so appends must be serialised: SQLite
    write transactions already are (BEGIN IMMEDIATE, see `engine.py`); on PostgreSQL a
    transaction-scoped advisory lock does it (readers are not blocked). Not `LOCK TABLE`: that
    mode needs UPDATE or DELETE rights on `audit_log`, which agent logins must not have.

    New links chain from `audit_head`, not from the newest row: if someone removed the tail,
    the next entry still links to the head that was recorded, so writing goes on and `verify`
    names the gap.
    """

    def __init__(self, session: Session) -> None:
        self._session = session

    @translated
    def append(self, kind: str, record_id: str, payload: Mapping[str, Any],
               at: datetime) -> AuditEntry:
        # Round-trip through the canonical text so what is hashed now is exactly what `verify`
        # will rebuild from the stored text (tuples become lists, keys become strings).
        body = canonical_json(dict(payload))
        stored_payload: dict[str, Any] = json.loads(body)
        seq, prev = self._head()
        seq += 1
        digest = entry_hash(prev, seq, kind, record_id, at, stored_payload)
        connection(self._session).execute(_append_statements()[2], {
            "seq": seq, "kind": kind, "record_id": record_id, "payload": body, "at": at,
            "prev_hash": prev, "hash": digest})
        self._session.info[_HEAD_KEY] = (self._transaction(), seq, digest)
        return AuditEntry(seq, kind, record_id, stored_payload, at, prev, digest)

    def _transaction(self) -> object:
        return self._session.get_nested_transaction() or self._session.get_transaction()

    def _head(self) -> tuple[int, str]:
        """(seq, hash) of the newest link, under the append lock.

        Remembered for the rest of the same (innermost) transaction: it holds the lock, so
        nobody else can append meanwhile, and a catch-up appending hundreds of entries in one
        transaction saves two round trips per entry. A savepoint rolled back takes its
        transaction object, and so the remembered head, with it."""
        remembered = self._session.info.get(_HEAD_KEY)
        if remembered is not None and remembered[0] is self._transaction():
            return remembered[1], remembered[2]
        lock, head, _ = _append_statements()
        db = connection(self._session)
        if dialect_name(self._session) == "postgresql":
            db.execute(lock, {"key": AUDIT_APPEND_LOCK})
        tail = db.execute(head).first()
        if tail is None:  # the head row is made by migration 0002; never expected missing
            tail = self._session.execute(
                select(AuditRow.seq, AuditRow.hash).order_by(AuditRow.seq.desc()).limit(1)
            ).first()
        return (tail.seq, tail.hash) if tail is not None else (0, GENESIS)

    def verify(self) -> int | None:
        return self.check().first_broken

    @translated
    def check(self) -> ChainCheck:
        head = self._session.execute(
            select(AuditHeadRow.seq, AuditHeadRow.hash).where(AuditHeadRow.id == 1)).first()
        head_seq, head_hash = (head.seq, head.hash) if head is not None else (0, GENESIS)

        def broken(seq: int, reason: str) -> ChainCheck:
            return ChainCheck(entries, head_seq, head_hash, seq, reason)

        prev = GENESIS
        last = 0
        entries = 0
        while True:
            # Plain rows, not ORM objects: nothing accumulates in the session on a long chain.
            rows = self._session.execute(
                select(AuditRow.seq, AuditRow.kind, AuditRow.record_id, AuditRow.payload,
                       AuditRow.at, AuditRow.prev_hash, AuditRow.hash)
                .where(AuditRow.seq > last).order_by(AuditRow.seq).limit(_VERIFY_BATCH)).all()
            if not rows:
                break
            for row in rows:
                seq: int = row.seq
                entries += 1
                try:
                    payload: dict[str, Any] = json.loads(row.payload)
                    expected = entry_hash(row.prev_hash, seq, row.kind, row.record_id, row.at,
                                          payload)
                except ValueError:  # the stored payload is no longer JSON
                    return broken(seq, f"entry {seq} was changed: its payload is not JSON")
                if row.hash != expected:
                    return broken(seq, f"entry {seq} was changed: its hash does not match "
                                       "its content")
                if row.prev_hash != prev:
                    return broken(seq, f"entry {seq} does not link to the entry before it: "
                                       f"an entry before it (after seq {last}) was removed "
                                       "or changed")
                prev = row.hash
                last = seq
        if last < head_seq:
            return broken(last + 1, f"the chain ends at seq {last} but its recorded head is "
                                    f"seq {head_seq}: entries {last + 1}..{head_seq} were removed")
        if last > head_seq or prev != head_hash:
            return broken(head_seq + 1 if last > head_seq else head_seq,
                          f"the recorded head (seq {head_seq}) does not match the chain's last "
                          f"entry (seq {last}): the head was rewritten or entries were added "
                          "around the database's guards")
        return ChainCheck(entries, head_seq, head_hash)

    @translated
    def for_record(self, record_id: str) -> list[AuditEntry]:
        rows = self._session.scalars(
            select(AuditRow).where(AuditRow.record_id == record_id).order_by(AuditRow.seq)
            .execution_options(populate_existing=True))
        return [_to_entry(r) for r in rows]
