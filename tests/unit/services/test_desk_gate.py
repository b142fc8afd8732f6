"""The desk's dial gate over the store port: which pre-call messages count for the next call, and
that a dial is recorded before it leaves (no I/O peers).

The store is an in-memory fake of the ports `Desk.verdict` and `Desk.place_call` use; the same
repository answers on real SQLite and PostgreSQL are proven in
tests/integration/storage/test_storage_dial_reads.py.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from app.demo.customers import demo_agent, demo_customers
from app.domain.call import CallContext, CallRecord, new_record_id
from app.domain.clock import FixedClock
from app.domain.enums import AgentState, CallOrigin, NotificationTemplate
from app.domain.errors import DialBlocked
from app.policy.pack import PolicyPack, load_pack
from app.ports.store import Notification
from app.services.desk import Desk
from tests.unit.services.memory_store import MemoryStore

NOW = datetime(2026, 11, 20, 16, 0, tzinfo=UTC)  # Friday 10:00 AM in Chicago
ANA = "demo-ana-garcia"
NUMBER = "+13125550141"


class FakePhone:
    def __init__(self) -> None:
        self.dialled: list[tuple[str, str]] = []

    def dial(self, ref: str, uri: str) -> None:
        self.dialled.append((ref, uri))


@pytest.fixture(scope="module")
def pack() -> PolicyPack:
    return load_pack(None)


@pytest.fixture
def store() -> MemoryStore:
    s = MemoryStore()
    # Every demo customer was spoken with yesterday (OB-SPOKE); the calls stored since are
    # unanswered attempts.
    s.state.last_conversation_at = NOW - timedelta(days=1)
    for c in demo_customers():
        s.state.customers[c.id] = c
    return s


@pytest.fixture
def phone() -> FakePhone:
    return FakePhone()


@pytest.fixture
def desk(store: MemoryStore, pack: PolicyPack, phone: FakePhone) -> Desk:
    agent = replace(demo_agent(), state=AgentState.NOT_READY_FOLLOW_UP)
    return Desk(store=store, pack=pack, phone=phone, clock=FixedClock(NOW),  # type: ignore[arg-type]
                agent=agent, sip_domain="pbx.test")


def _sent(store: MemoryStore, template: str, minutes_ago: int, delivered: bool = True) -> None:
    store.state.notifications.append(Notification(
        new_record_id(), ANA, "agent", "email" if template == "sa_email" else "sip_message",
        template, "sip:13125550141@pbx.test", "text", NOW - timedelta(minutes=minutes_ago),
        delivered))


def _attempt(store: MemoryStore, minutes_ago: int) -> None:
    record = CallRecord(new_record_id(), ANA, "someone-else", NUMBER, "13125550141",
                        CallOrigin.FOLLOW_UP, CallContext().reason,
                        NOW - timedelta(minutes=minutes_ago))
    store.state.calls[record.id] = record


def _notify(desk: Desk) -> str:
    return desk.verdict(ANA, NUMBER, CallContext()).rule("OB-NOTIFY").outcome.value


def test_a_follow_up_needs_the_customer_callback_message_delivered(
        desk: Desk, store: MemoryStore) -> None:
    assert _notify(desk) == "block"
    _sent(store, NotificationTemplate.CUSTOMER_CALLBACK.value, 5, delivered=False)
    assert _notify(desk) == "block"  # a failed delivery never counts
    _sent(store, NotificationTemplate.CUSTOMER_CALLBACK.value, 5)
    assert _notify(desk) == "pass"


def test_the_wrong_template_is_named_and_wins_over_the_right_one_as_before(
        desk: Desk, store: MemoryStore) -> None:
    _sent(store, NotificationTemplate.DROPPED_CALL.value, 5)
    reason = desk.verdict(ANA, NUMBER, CallContext()).rule("OB-NOTIFY").reason
    assert "Dropped Call" in reason and "Customer Callback" in reason
    # Both sent: the enum's last template counts, exactly as when each was asked for in turn.
    _sent(store, NotificationTemplate.CUSTOMER_CALLBACK.value, 4)
    assert _notify(desk) == "block"


def test_a_message_counts_for_two_hours(desk: Desk, store: MemoryStore) -> None:
    _sent(store, NotificationTemplate.CUSTOMER_CALLBACK.value, 121)
    assert _notify(desk) == "block"  # an old message does not announce this call
    _sent(store, NotificationTemplate.CUSTOMER_CALLBACK.value, 119)
    assert _notify(desk) == "pass"


def test_a_message_sent_before_the_last_attempt_announced_that_attempt(
        desk: Desk, store: MemoryStore) -> None:
    _sent(store, NotificationTemplate.CUSTOMER_CALLBACK.value, 30)
    _attempt(store, 10)  # someone called since: that message was for that call
    assert _notify(desk) == "block"
    _sent(store, NotificationTemplate.CUSTOMER_CALLBACK.value, 10)  # same instant still counts
    assert _notify(desk) == "pass"


def test_the_scheduling_email_counts_as_sent_for_service_assurance(
        desk: Desk, store: MemoryStore) -> None:
    context = CallContext(origin=CallOrigin.EMAIL_REQUEST)
    assert desk.verdict(ANA, NUMBER, context).rule("SA-EMAILFIRST").outcome.value == "block"
    _sent(store, "sa_email", 5)
    assert desk.verdict(ANA, NUMBER, context).rule("SA-EMAILFIRST").outcome.value == "pass"


def test_a_blocked_dial_writes_nothing_and_sends_nothing(
        desk: Desk, store: MemoryStore, phone: FakePhone) -> None:
    with pytest.raises(DialBlocked) as blocked:
        desk.place_call(ANA, NUMBER, CallContext())
    assert "OB-NOTIFY" in blocked.value.message
    assert store.commits == 0 and not store.state.calls and not phone.dialled


def test_an_allowed_dial_is_recorded_and_audited_in_one_commit_before_the_invite(
        desk: Desk, store: MemoryStore, phone: FakePhone) -> None:
    _sent(store, NotificationTemplate.CUSTOMER_CALLBACK.value, 5)
    record = desk.place_call(ANA, NUMBER, CallContext())
    assert store.commits == 1
    assert store.state.calls[record.id].verdicts["OB-NOTIFY"] == "pass"
    assert [(e.kind, e.record_id) for e in store.state.audit] == [("call_attempt", record.id)]
    assert phone.dialled == [(record.id, "sip:13125550141@pbx.test")]
