"""Call records and memos on both backends: the attempt, its progress, drafts and the close."""

from __future__ import annotations

from datetime import timedelta, timezone

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, IntegrityError, StatementError

from app.domain.agent import Agent
from app.domain.call import CallRecord, CallState, new_record_id
from app.domain.enums import CallOrigin, CallOutcome, CallReason
from app.domain.errors import RecordIncomplete
from app.domain.memo import Memo, PaymentTopic
from app.ports.store import Conflict, NotFound
from app.storage import SqlStore
from tests.integration.storage.conftest import T0, make_customer

DONE_MEMO = Memo(reason="Troubleshooting follow-up", ticket_numbers="TCK-881",
                 summary="Walked through a network reset; signal back.",
                 customer_response="Confirmed it works; no further concerns.",
                 payment_topic=PaymentTopic.NOT_DISCUSSED, ticket_findings="APN reset fixed it")


@pytest.fixture
def ready(store: SqlStore, agents: tuple[Agent, Agent]) -> SqlStore:
    with store.unit_of_work() as uow:
        uow.customers.add(make_customer("c-ana", "Ana", "García", "ACC-1", "+13125550142"))
        uow.commit()
    return store


def _record(agent: Agent, minutes: int = 0) -> CallRecord:
    return CallRecord(new_record_id(), "c-ana", agent.id, "+13125550142", "13125550142",
                      CallOrigin.TICKET, CallReason.TICKET_UPDATE,
                      T0 + timedelta(minutes=minutes), pack_version="2025.1",
                      pack_checksum="sha256:abc", verdicts={"OB-WINDOW": "pass", "OB-NOTIFY": "pass"},
                      ticket_ref="TCK-881")


def test_a_record_survives_its_whole_life(ready: SqlStore, agents: tuple[Agent, Agent]) -> None:
    ann, _ = agents
    record = _record(ann)
    with ready.unit_of_work() as uow:
        uow.calls.add(record)
        uow.commit()
    with ready.unit_of_work() as uow:
        assert uow.calls.get(record.id) == record
        assert uow.calls.draft_saved_at(record.id) is None

    record.ringing()
    record.connected(T0 + timedelta(seconds=12))
    record.confirm_recording_notice(T0 + timedelta(seconds=20))
    record.verify_customer(T0 + timedelta(seconds=40))
    record.ended(T0 + timedelta(minutes=6), CallOutcome.REMOTE_HANGUP, 200, "BYE")
    draft = DONE_MEMO.with_changes(summary="Walked through a network reset")
    with ready.unit_of_work() as uow:
        uow.calls.save(record)
        uow.calls.save_draft(record.id, draft, T0 + timedelta(minutes=7))
        uow.commit()
    with ready.unit_of_work() as uow:
        stored = uow.calls.get(record.id)
        assert stored is not None
        assert stored.memo == draft
        assert uow.calls.draft_saved_at(record.id) == T0 + timedelta(minutes=7)
        assert stored.state is CallState.WRAP_UP and stored.outcome is CallOutcome.REMOTE_HANGUP
        assert stored.sip_code == 200 and stored.end_reason == "BYE"
        assert stored.recording_notice_at == T0 + timedelta(seconds=20)
        assert uow.calls.open_records(ann.id) == [stored]

    record.memo = DONE_MEMO
    record.close(T0 + timedelta(minutes=8))
    with ready.unit_of_work() as uow:
        uow.calls.save(record)
        uow.tickets.add_update("TCK-881", record.id, DONE_MEMO.ticket_findings,
                               T0 + timedelta(minutes=8))
        uow.commit()
    with ready.unit_of_work() as uow:
        assert uow.calls.get(record.id) == record
        assert uow.calls.open_records(ann.id) == []
        assert [u.text for u in uow.tickets.updates("TCK-881")] == ["APN reset fixed it"]


def test_times_come_back_in_utc_whatever_zone_they_were_given_in(
        ready: SqlStore, agents: tuple[Agent, Agent]) -> None:
    chicago_winter = timezone(timedelta(hours=-6))
    record = _record(agents[0])
    record.dialed_at = T0.astimezone(chicago_winter)
    with ready.unit_of_work() as uow:
        uow.calls.add(record)
        uow.commit()
    with ready.unit_of_work() as uow:
        stored = uow.calls.get(record.id)
    assert stored is not None
    assert stored.dialed_at == T0 and stored.dialed_at.utcoffset() == timedelta(0)


def test_a_naive_time_is_refused(ready: SqlStore, agents: tuple[Agent, Agent]) -> None:
    record = _record(agents[0])
    record.dialed_at = T0.replace(tzinfo=None)
    with ready.unit_of_work() as uow, pytest.raises(StatementError, match="naive datetime"):
        uow.calls.add(record)


def test_a_record_cannot_be_closed_without_its_memo(
        ready: SqlStore, agents: tuple[Agent, Agent]) -> None:
    record = _record(agents[0])
    with ready.unit_of_work() as uow:
        uow.calls.add(record)
        uow.commit()
    record.ended(T0 + timedelta(minutes=1), CallOutcome.NO_ANSWER, 480)
    with pytest.raises(RecordIncomplete) as refused:
        record.close(T0 + timedelta(minutes=2))  # the domain says no before storage is asked
    assert "voicemail_left" in refused.value.missing and "account_note" in refused.value.missing

    forged = _record(agents[0])  # built closed by hand, bypassing the domain's close()
    forged.state, forged.closed_at = CallState.CLOSED, T0
    with ready.unit_of_work() as uow:
        with pytest.raises(RecordIncomplete):
            uow.calls.save(forged)
        with pytest.raises(RecordIncomplete):
            uow.calls.add(forged)
    with ready.unit_of_work() as uow:
        stored = uow.calls.get(record.id)
    assert stored is not None and stored.state is CallState.DIALING


def test_a_closed_record_is_final(ready: SqlStore, agents: tuple[Agent, Agent]) -> None:
    record = _record(agents[0])
    record.connected(T0)
    record.confirm_recording_notice(T0)
    record.ended(T0 + timedelta(minutes=3), CallOutcome.LOCAL_HANGUP)
    record.memo = DONE_MEMO
    record.close(T0 + timedelta(minutes=4))
    with ready.unit_of_work() as uow:
        uow.calls.add(record)
        uow.commit()
    with ready.unit_of_work() as uow:
        with pytest.raises(Conflict):
            uow.calls.save(record)
        with pytest.raises(Conflict):
            uow.calls.save_draft(record.id, Memo(reason="rewritten"), T0 + timedelta(hours=1))
        with pytest.raises(NotFound):
            uow.calls.save_draft("no-such-record", Memo(), T0)
    with ready.unit_of_work() as uow:
        stored = uow.calls.get(record.id)
    assert stored is not None and stored.memo == DONE_MEMO


def test_the_database_itself_refuses_a_closed_row_without_a_close_time(
        ready: SqlStore, agents: tuple[Agent, Agent]) -> None:
    record = _record(agents[0])
    with ready.unit_of_work() as uow:
        uow.calls.add(record)
        uow.commit()
    with ready.engine.connect() as conn, pytest.raises(IntegrityError, match=r"(?i)check"):
        conn.execute(text("UPDATE calls SET state = 'closed' WHERE id = :id"), {"id": record.id})


def test_open_records_are_per_agent_and_oldest_first(
        ready: SqlStore, agents: tuple[Agent, Agent]) -> None:
    ann, sam = agents
    first, second, other = _record(ann, 5), _record(ann, 1), _record(sam, 0)
    with ready.unit_of_work() as uow:
        for r in (first, second, other):
            uow.calls.add(r)
        uow.commit()
    with ready.unit_of_work() as uow:
        assert [r.id for r in uow.calls.open_records(ann.id)] == [second.id, first.id]
        assert [r.id for r in uow.calls.recent_for_customer("c-ana", 2)] == [first.id, second.id]


def test_an_attempt_for_an_unknown_customer_or_a_reused_id_is_a_conflict(
        ready: SqlStore, agents: tuple[Agent, Agent]) -> None:
    record = _record(agents[0])
    with ready.unit_of_work() as uow:
        uow.calls.add(record)
        uow.commit()
    with ready.unit_of_work() as uow, pytest.raises(Conflict):
        uow.calls.add(record)
    stranger = _record(agents[0])
    stranger.customer_id = "c-nobody"
    with ready.unit_of_work() as uow, pytest.raises(Conflict):
        uow.calls.add(stranger)


def test_work_not_committed_is_not_kept(ready: SqlStore, agents: tuple[Agent, Agent]) -> None:
    record = _record(agents[0])
    with ready.unit_of_work() as uow:
        uow.calls.add(record)
        uow.tickets.add_update("TCK-881", record.id, "should vanish", T0)
        # no commit: leaving the block rolls back
    with pytest.raises(RuntimeError, match="boom"), ready.unit_of_work() as uow:
        uow.calls.add(record)
        raise RuntimeError("boom")
    with ready.unit_of_work() as uow:
        assert uow.calls.get(record.id) is None
        assert uow.tickets.updates("TCK-881") == []


def test_a_read_only_unit_of_work_cannot_write(ready: SqlStore,
                                               agents: tuple[Agent, Agent]) -> None:
    with ready.unit_of_work(read_only=True) as uow, \
            pytest.raises(DBAPIError, match=r"(?i)read-?only"):
        uow.calls.add(_record(agents[0]))
