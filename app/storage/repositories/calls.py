"""Call records (one per attempt) and their memos."""

from __future__ import annotations

from datetime import datetime
from functools import cache
from typing import Any, cast

from sqlalchemy import Insert, Row, Select, Table, bindparam, func, insert, select, update
from sqlalchemy.orm import Session

from app.domain.call import CallRecord, CallState
from app.domain.enums import CallOrigin, CallOutcome, CallReason
from app.domain.errors import RecordIncomplete
from app.domain.memo import Memo, PaymentTopic
from app.ports.store import Conflict, NotFound
from app.storage.errors import translated
from app.storage.models import CallRow, MemoRow
from app.storage.repositories._common import code, connection, one_of, rowcount

_CLOSED = CallState.CLOSED.value
_OPEN_STATES = [s.value for s in CallState if s is not CallState.CLOSED]


def _memo_values(memo: Memo) -> dict[str, Any]:
    return {
        "reason": memo.reason, "ticket_numbers": memo.ticket_numbers, "summary": memo.summary,
        "customer_response": memo.customer_response,
        "payment_topic": code(memo.payment_topic) if memo.payment_topic is not None else None,
        "voicemail_left": memo.voicemail_left, "no_voicemail_reason": memo.no_voicemail_reason,
        "account_note": memo.account_note, "ticket_findings": memo.ticket_findings,
    }


def _progress_values(record: CallRecord) -> dict[str, Any]:
    """What changes after the dial; the dial-time facts (who, what, verdicts) never do."""
    return {
        "state": code(record.state),
        "outcome": code(record.outcome) if record.outcome is not None else None,
        "sip_code": record.sip_code, "end_reason": record.end_reason,
        "connected_at": record.connected_at, "ended_at": record.ended_at,
        "recording_notice_at": record.recording_notice_at, "verified_at": record.verified_at,
        "closed_at": record.closed_at, "ticket_ref": record.ticket_ref,
    }


_MEMO_COLUMNS = ("reason", "ticket_numbers", "summary", "customer_response", "payment_topic",
                 "voicemail_left", "no_voicemail_reason", "account_note", "ticket_findings")


@cache
def _tables() -> tuple[Table, Table]:
    return cast(Table, CallRow.__table__), cast(Table, MemoRow.__table__)


@cache
def _inserts() -> tuple[Insert, Insert]:
    calls, memos = _tables()
    return insert(calls), insert(memos)


@cache
def _select_records() -> Select[Any]:
    """Every column of the call and its memo (prefixed `memo_`), as plain rows: reading records
    through the ORM (a joined load into objects, then into the domain's) cost more than the
    query itself, and `open_records` runs at every dial."""
    calls, memos = _tables()
    return (select(calls, *(memos.c[name].label(f"memo_{name}") for name in _MEMO_COLUMNS))
            .join_from(calls, memos, memos.c.call_id == calls.c.id))


@cache
def _record_statements() -> tuple[Select[Any], Select[Any], Select[Any]]:
    """(by id, open for an agent, recent for a customer), built once with bound parameters."""
    calls, _ = _tables()
    base = _select_records()
    return (base.where(calls.c.id == bindparam("record_id")),
            # Ordered by an expression no index provides, on purpose: ordered by the column,
            # SQLite walks the agent's (agent_id, dialed_at) index through EVERY call the agent
            # ever made and checks each one's state, so the dial slowed down with each call of
            # the year; this way it seeks the (agent_id, state) index to the few open ones and
            # sorts those. Same order on both backends.
            base.where(calls.c.agent_id == bindparam("agent_id"),
                       one_of(calls.c.state, _OPEN_STATES))
            .order_by(func.coalesce(calls.c.dialed_at, calls.c.dialed_at), calls.c.id),
            base.where(calls.c.customer_id == bindparam("customer_id"))
            .order_by(calls.c.dialed_at.desc(), calls.c.id.desc()).limit(bindparam("limit")))


def to_record(row: Row[Any]) -> CallRecord:
    """A row of `_select_records` as the domain's record."""
    memo = Memo(
        reason=row.memo_reason, ticket_numbers=row.memo_ticket_numbers,
        summary=row.memo_summary, customer_response=row.memo_customer_response,
        payment_topic=(PaymentTopic(row.memo_payment_topic)
                       if row.memo_payment_topic is not None else None),
        voicemail_left=row.memo_voicemail_left,
        no_voicemail_reason=row.memo_no_voicemail_reason,
        account_note=row.memo_account_note, ticket_findings=row.memo_ticket_findings)
    return CallRecord(
        id=row.id, customer_id=row.customer_id, agent_id=row.agent_id, number=row.number,
        dial_string=row.dial_string, origin=CallOrigin(row.origin), reason=CallReason(row.reason),
        dialed_at=row.dialed_at, pack_version=row.pack_version, pack_checksum=row.pack_checksum,
        verdicts={str(k): str(v) for k, v in row.verdicts.items()}, state=CallState(row.state),
        outcome=CallOutcome(row.outcome) if row.outcome is not None else None,
        sip_code=row.sip_code, end_reason=row.end_reason, connected_at=row.connected_at,
        ended_at=row.ended_at, recording_notice_at=row.recording_notice_at,
        verified_at=row.verified_at, closed_at=row.closed_at, memo=memo,
        ticket_ref=row.ticket_ref)


def _check_closed_is_complete(record: CallRecord) -> None:
    """The domain refuses to close an incomplete record; this refuses to STORE one that was
    built closed some other way (a bug, or a hand-made import), so the rule holds on disk too."""
    if record.state is not CallState.CLOSED:
        return
    missing = [m for m in record.missing_for_close() if m != "call_ended"]
    if record.closed_at is None:
        missing.append("closed_at")
    if missing:
        raise RecordIncomplete(
            "A closed call record must carry its complete memo. Still needed: "
            + ", ".join(missing) + ".", missing,
            action="Reopen the memo form and complete it.")


class SqlCallRepository:
    """Owned by the unit of work (and so the thread) that made it."""

    def __init__(self, session: Session) -> None:
        self._session = session

    def _why_not_written(self, record_id: str) -> Exception:
        state = self._session.scalar(select(CallRow.state).where(CallRow.id == record_id))
        if state is None:
            return NotFound(f"No call record {record_id} in the records.")
        return Conflict("This call record is already closed and cannot change.",
                        action="Start a new record for any further contact.")

    @translated
    def add(self, record: CallRecord) -> None:
        _check_closed_is_complete(record)
        # Two Core INSERTs on the connection with their values as parameters (a statement
        # SQLAlchemy compiles once and caches), rather than ORM objects and a flush, nor the
        # session's ORM bulk-insert path: this runs before every dial and for every record of a
        # catch-up. A duplicate id or an unknown customer fails here.
        insert_call, insert_memo = _inserts()
        db = connection(self._session)
        db.execute(insert_call, {
            "id": record.id, "customer_id": record.customer_id, "agent_id": record.agent_id,
            "number": record.number, "dial_string": record.dial_string,
            "origin": code(record.origin), "reason": code(record.reason),
            "dialed_at": record.dialed_at, "pack_version": record.pack_version,
            "pack_checksum": record.pack_checksum, "verdicts": dict(record.verdicts),
            **_progress_values(record)})
        db.execute(insert_memo, {"call_id": record.id, **_memo_values(record.memo)})

    @translated
    def get(self, record_id: str) -> CallRecord | None:
        row = connection(self._session).execute(
            _record_statements()[0], {"record_id": record_id}).first()
        return to_record(row) if row is not None else None

    @translated
    def save(self, record: CallRecord) -> None:
        _check_closed_is_complete(record)
        # The memo first: once the call row says "closed", the database's own trigger refuses
        # any change to its memo (migration 0002), so closing must be the last write.
        still_open = select(CallRow.id).where(CallRow.id == record.id, CallRow.state != _CLOSED)
        result = self._session.execute(
            update(MemoRow).where(MemoRow.call_id == record.id, MemoRow.call_id.in_(still_open))
            .values(**_memo_values(record.memo)).execution_options(synchronize_session=False))
        if rowcount(result) == 0:
            raise self._why_not_written(record.id)
        self._session.execute(
            update(CallRow).where(CallRow.id == record.id, CallRow.state != _CLOSED)
            .values(**_progress_values(record)).execution_options(synchronize_session=False))

    @translated
    def save_draft(self, record_id: str, memo: Memo, at: datetime) -> None:
        still_open = select(CallRow.id).where(CallRow.id == record_id, CallRow.state != _CLOSED)
        result = self._session.execute(
            update(MemoRow).where(MemoRow.call_id == record_id, MemoRow.call_id.in_(still_open))
            .values(**_memo_values(memo), draft_saved_at=at)
            .execution_options(synchronize_session=False))
        if rowcount(result) == 0:
            raise self._why_not_written(record_id)

    @translated
    def draft_saved_at(self, record_id: str) -> datetime | None:
        return self._session.scalar(
            select(MemoRow.draft_saved_at).where(MemoRow.call_id == record_id))

    @translated
    def open_records(self, agent_id: str) -> list[CallRecord]:
        rows = connection(self._session).execute(
            _record_statements()[1], {"agent_id": agent_id})
        return [to_record(r) for r in rows]

    @translated
    def recent_for_customer(self, customer_id: str, limit: int = 20) -> list[CallRecord]:
        rows = connection(self._session).execute(
            _record_statements()[2], {"customer_id": customer_id, "limit": limit})
        return [to_record(r) for r in rows]
