"""The append-only, hash-chained audit trail."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from app.ports.store import AuditEntry
from app.storage.chain import GENESIS, canonical_json, entry_hash
from app.storage.errors import translated
from app.storage.models import AuditRow
from app.storage.repositories._common import dialect_name

_VERIFY_BATCH = 2_000


def _to_entry(row: AuditRow) -> AuditEntry:
    return AuditEntry(seq=row.seq, kind=row.kind, record_id=row.record_id,
                      payload=json.loads(row.payload), at=row.at, prev_hash=row.prev_hash,
                      hash=row.hash)


class SqlAuditLog:
    """Owned by the unit of work (and so the thread) that made it.

    Appending reads the chain's tail and writes after it, so appends must be serialised: SQLite
    write transactions already are (BEGIN IMMEDIATE, see `engine.py`); on PostgreSQL the table is
    locked against other writers (readers are not blocked) until the transaction ends.
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
        if dialect_name(self._session) == "postgresql":
            self._session.execute(text("LOCK TABLE audit_log IN SHARE ROW EXCLUSIVE MODE"))
        tail = self._session.execute(
            select(AuditRow.seq, AuditRow.hash).order_by(AuditRow.seq.desc()).limit(1)).first()
        seq, prev = (tail.seq + 1, tail.hash) if tail is not None else (1, GENESIS)
        digest = entry_hash(prev, seq, kind, record_id, at, stored_payload)
        row = AuditRow(seq=seq, kind=kind, record_id=record_id, payload=body, at=at,
                       prev_hash=prev, hash=digest)
        self._session.add(row)
        self._session.flush()
        return AuditEntry(seq, kind, record_id, stored_payload, at, prev, digest)

    @translated
    def verify(self) -> int | None:
        prev = GENESIS
        after = 0
        while True:
            # Plain rows, not ORM objects: nothing accumulates in the session on a long chain.
            rows = self._session.execute(
                select(AuditRow.seq, AuditRow.kind, AuditRow.record_id, AuditRow.payload,
                       AuditRow.at, AuditRow.prev_hash, AuditRow.hash)
                .where(AuditRow.seq > after).order_by(AuditRow.seq).limit(_VERIFY_BATCH)).all()
            if not rows:
                return None
            for row in rows:
                seq: int = row.seq
                try:
                    payload: dict[str, Any] = json.loads(row.payload)
                    expected = entry_hash(prev, seq, row.kind, row.record_id, row.at, payload)
                except ValueError:  # the stored payload is no longer JSON
                    return seq
                if row.prev_hash != prev or row.hash != expected:
                    return seq
                prev = row.hash
                after = seq

    @translated
    def for_record(self, record_id: str) -> list[AuditEntry]:
        rows = self._session.scalars(
            select(AuditRow).where(AuditRow.record_id == record_id).order_by(AuditRow.seq)
            .execution_options(populate_existing=True))
        return [_to_entry(r) for r in rows]
