"""The desk's dial gate over the store port: which pre-call messages count for the next call, and
that a dial is recorded before it leaves (no I/O peers).

The store is an in-memory fake of the ports `Desk.verdict` and `Desk.place_call` use; the same
repository answers on real SQLite and PostgreSQL are proven in
tests/integration/storage/test_storage_dial_reads.py.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from types import TracebackType
from typing import Any

import pytest

from app.demo.customers import demo_agent, demo_customers
from app.domain.call import CallRecord, new_record_id
from app.domain.clock import FixedClock
from app.domain.customer import ContactHistory, Customer
from app.domain.enums import AgentState, CallOrigin, NotificationTemplate
from app.domain.errors import DialBlocked
from app.policy.pack import PolicyPack, load_pack
from app.ports.store import AuditEntry, Notification
from app.services.desk import CallContext, Desk

NOW = datetime(2026, 11, 20, 16, 0, tzinfo=UTC)  # Friday 10:00 AM in Chicago
ANA = "demo-ana-garcia"
NUMBER = "+13125550141"


@dataclass
class _State:
    customers: dict[str, Customer] = field(default_factory=dict)
    notifications: list[Notification] = field(default_factory=list)
    calls: dict[str, CallRecord] = field(default_factory=dict)
    audit: list[AuditEntry] = field(default_factory=list)


class _Customers:
    def __init__(self, s: _State) -> None:
        self.s = s

    def get(self, customer_id: str) -> Customer | None:
        return self.s.customers.get(customer_id)

    def contact_history(self, customer_id: str) -> ContactHistory:
        # Every demo customer was spoken with yesterday (OB-SPOKE); the calls here since are
        # unanswered attempts.
        attempts = [c.dialed_at for c in self.s.calls.values() if c.customer_id == customer_id]
        return ContactHistory(spoke_before=True, unanswered_attempts=len(attempts),
                              last_conversation_at=NOW - timedelta(days=1),
                              last_attempt_at=max(attempts, default=NOW - timedelta(days=1)))


class _Notifications:
    def __init__(self, s: _State) -> None:
        self.s = s

    def templates_sent(self, customer_id: str, since: datetime) -> set[str]:
        return {n.template for n in self.s.notifications
                if n.customer_id == customer_id and n.delivered and n.sent_at >= since}


class _Calls:
    def __init__(self, s: _State) -> None:
        self.s = s

    def open_records(self, agent_id: str) -> list[CallRecord]:
        return [c for c in self.s.calls.values() if c.agent_id == agent_id and c.closed_at is None]

    def add(self, record: CallRecord) -> None:
        self.s.calls[record.id] = record


class _Audit:
    def __init__(self, s: _State) -> None:
        self.s = s

    def append(self, kind: str, record_id: str, payload: Mapping[str, Any],
               at: datetime) -> AuditEntry:
        entry = AuditEntry(len(self.s.audit) + 1, kind, record_id, dict(payload), at)
        self.s.audit.append(entry)
        return entry


class MemoryUnitOfWork:
    """Nothing is kept without `commit`, as with the real store."""

    def __init__(self, store: MemoryStore) -> None:
        self._store = store
        self._s = copy.deepcopy(store.state)
        self.customers = _Customers(self._s)
        self.notifications = _Notifications(self._s)
        self.calls = _Calls(self._s)
        self.audit = _Audit(self._s)

    def __enter__(self) -> MemoryUnitOfWork:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        pass

    def commit(self) -> None:
        self._store.state = copy.deepcopy(self._s)
        self._store.commits += 1


class MemoryStore:
    def __init__(self) -> None:
        self.state = _State()
        self.commits = 0

    def unit_of_work(self, read_only: bool = False) -> MemoryUnitOfWork:
        return MemoryUnitOfWork(self)


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
