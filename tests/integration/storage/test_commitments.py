"""Callbacks as commitments on the real stores (SQLite and PostgreSQL): promised, queued, taken,
kept by a call in the same transaction as its record, cancelled — and all of it in the audit."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from app.demo.customers import seed_demo
from app.domain.agent import Agent
from app.domain.call import CallRecord
from app.domain.clock import FixedClock
from app.domain.commitment import CallbackRefused, CallbackRequest
from app.domain.enums import CallOrigin, CallOutcome, CallReason, Team
from app.domain.memo import Memo, PaymentTopic
from app.policy.pack import load_pack
from app.ports.store import CallbackStatus, Shift
from app.services.callbacks import Commitments, complete_on_close
from app.storage import SqlStore

NOW = datetime(2026, 11, 20, 16, 0, tzinfo=UTC)  # Friday 10:00 AM in Chicago
ANA = "demo-ana-garcia"
CARE = Agent("ann", "Ann Agent", Team.CARE)
LEAD = Agent("lee", "Lee Leader", Team.LEADER)


@pytest.fixture
def seeded(store: SqlStore) -> SqlStore:
    seed_demo(store)
    with store.unit_of_work() as uow:
        uow.agents.add(CARE)
        uow.agents.add(LEAD)
        uow.shifts.add(Shift("ann-fri", "ann", NOW - timedelta(hours=2), NOW + timedelta(hours=8)))
        uow.commit()
    return store


def request(local: datetime, **kw: object) -> CallbackRequest:
    return CallbackRequest(customer_id=ANA, local_due=local, zone="America/Chicago",
                           reason=CallReason.TROUBLESHOOTING, **kw)  # type: ignore[arg-type]


def conversation(record_id: str, at: datetime) -> CallRecord:
    record = CallRecord(record_id, ANA, "ann", "+13125550141", "13125550141",
                        CallOrigin.FOLLOW_UP, CallReason.TROUBLESHOOTING, at)
    record.connected(at + timedelta(seconds=5))
    record.confirm_recording_notice(at + timedelta(seconds=10))
    record.ended(at + timedelta(minutes=4), CallOutcome.LOCAL_HANGUP)
    record.memo = Memo(reason="Callback", summary="Repair confirmed.", customer_response="Happy.",
                       payment_topic=PaymentTopic.NOT_DISCUSSED)
    return record


def test_a_promise_is_stored_listed_and_audited(seeded: SqlStore) -> None:
    clock = FixedClock(NOW)
    svc = Commitments(store=seeded, pack=load_pack(None), clock=clock, agent=CARE)
    kept = svc.schedule(request(datetime(2026, 11, 20, 15, 0), note="Confirm the repair"))
    queued = svc.schedule(request(datetime(2026, 11, 23, 11, 0)))  # Monday: no shift
    with pytest.raises(CallbackRefused):
        svc.schedule(request(datetime(2026, 11, 20, 21, 0)))  # 9 PM: outside the window

    with seeded.unit_of_work(read_only=True) as uow:
        stored = uow.callbacks.get(kept.id)
        waiting = uow.callbacks.get(queued.id)
    assert stored is not None and stored.due_at == datetime(2026, 11, 20, 21, 0, tzinfo=UTC)
    assert stored.owner_id == "ann" and stored.queue is None
    assert waiting is not None and waiting.queue == "care"

    clock.advance(timedelta(hours=5, minutes=20))  # 3:20 PM: twenty minutes late
    board = svc.board()
    assert [i.id for i in board.mine] == [kept.id]
    assert board.mine[0].note == "Confirm the repair" and board.mine[0].zone == "America/Chicago"
    assert [i.id for i in board.queue] == [queued.id]
    lead_board = Commitments(store=seeded, pack=load_pack(None), clock=clock, agent=LEAD).board()
    assert [i.id for i in lead_board.overdue_everywhere] == [kept.id]
    with seeded.unit_of_work(read_only=True) as uow:
        assert uow.audit.verify() is None
        assert [e.kind for e in uow.audit.for_record(kept.id)] == ["callback_scheduled"]


def test_closing_a_call_keeps_the_promise_in_the_same_transaction(seeded: SqlStore) -> None:
    clock = FixedClock(NOW)
    svc = Commitments(store=seeded, pack=load_pack(None), clock=clock, agent=CARE)
    promise = svc.schedule(request(datetime(2026, 11, 20, 11, 0)))
    clock.advance(timedelta(minutes=50))
    record = conversation("rec-keep", clock.now())
    with seeded.unit_of_work() as uow:
        uow.calls.add(record)
        uow.commit()
    clock.advance(timedelta(minutes=6))

    # A close that fails after the callbacks were marked leaves both as they were.
    with seeded.unit_of_work() as uow:
        stored = uow.calls.get("rec-keep")
        assert stored is not None
        stored.close(clock.now())
        uow.calls.save(stored)
        complete_on_close(uow, stored, "ann", clock.now())
        uow.rollback()
    with seeded.unit_of_work(read_only=True) as uow:
        still = uow.callbacks.get(promise.id)
    assert still is not None and still.status is CallbackStatus.OPEN

    with seeded.unit_of_work() as uow:
        stored = uow.calls.get("rec-keep")
        assert stored is not None
        stored.close(clock.now())
        uow.calls.save(stored)
        done = complete_on_close(uow, stored, "ann", clock.now())
        uow.commit()
    assert [cb.id for cb in done] == [promise.id]
    with seeded.unit_of_work(read_only=True) as uow:
        after = uow.callbacks.get(promise.id)
        kinds = [e.kind for e in uow.audit.for_record(promise.id)]
        assert uow.audit.verify() is None
    assert after is not None and after.status is CallbackStatus.DONE
    assert after.closed_at == clock.now()
    assert kinds == ["callback_scheduled", "callback_done"]
    assert svc.board().mine == ()


def test_a_queued_callback_is_taken_by_someone_on_shift_and_can_be_cancelled(
        seeded: SqlStore) -> None:
    clock = FixedClock(NOW)
    pack = load_pack(None)
    ann = Commitments(store=seeded, pack=pack, clock=clock, agent=CARE)
    queued = ann.schedule(request(datetime(2026, 11, 23, 11, 0)))
    with pytest.raises(CallbackRefused):
        ann.take(queued.id)
    monday = datetime(2026, 11, 23, 14, 0, tzinfo=UTC)
    with seeded.unit_of_work() as uow:
        uow.shifts.add(Shift("ann-mon", "ann", monday, monday + timedelta(hours=8)))
        uow.commit()
    taken = ann.take(queued.id)
    assert taken.owner_id == "ann" and taken.queue is None
    assert [i.id for i in ann.board().mine] == [queued.id] and ann.board().queue == ()
    cancelled = ann.cancel(queued.id, "Customer will call in instead")
    assert cancelled.status is CallbackStatus.CANCELLED
    with seeded.unit_of_work(read_only=True) as uow:
        kinds = [e.kind for e in uow.audit.for_record(queued.id)]
        row = uow.callbacks.get(queued.id)
    assert kinds == ["callback_scheduled", "callback_assigned", "callback_cancelled"]
    assert row is not None and row.status is CallbackStatus.CANCELLED and row.closed_at == NOW
    assert ann.board().mine == ()
