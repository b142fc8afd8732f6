"""An in-memory store port for the services' unit tests, transactions included: nothing is kept
without `commit`, as with the real store. Only what the services under test call is here; the
same answers on real SQLite and PostgreSQL are proven in tests/integration/storage.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from types import TracebackType
from typing import Any

from app.domain.agent import Agent
from app.domain.call import CallRecord
from app.domain.customer import ContactHistory, Customer
from app.ports.store import AuditEntry, Callback, CallbackStatus, NotFound, Notification, Shift


@dataclass
class State:
    customers: dict[str, Customer] = field(default_factory=dict)
    agents: dict[str, Agent] = field(default_factory=dict)
    shifts: list[Shift] = field(default_factory=list)
    callbacks: dict[str, Callback] = field(default_factory=dict)
    calls: dict[str, CallRecord] = field(default_factory=dict)
    notifications: list[Notification] = field(default_factory=list)
    audit: list[AuditEntry] = field(default_factory=list)
    # When the company last spoke with every customer; the calls stored since are unanswered.
    last_conversation_at: datetime | None = None


class _Customers:
    def __init__(self, s: State) -> None:
        self.s = s

    def get(self, customer_id: str) -> Customer | None:
        return self.s.customers.get(customer_id)

    def contact_history(self, customer_id: str) -> ContactHistory:
        attempts = [c.dialed_at for c in self.s.calls.values() if c.customer_id == customer_id]
        spoke = self.s.last_conversation_at
        return ContactHistory(spoke_before=spoke is not None, unanswered_attempts=len(attempts),
                              last_conversation_at=spoke,
                              last_attempt_at=max(attempts, default=spoke))


class _Agents:
    def __init__(self, s: State) -> None:
        self.s = s

    def get(self, agent_id: str) -> Agent | None:
        return self.s.agents.get(agent_id)


class _Shifts:
    def __init__(self, s: State) -> None:
        self.s = s

    def add(self, shift: Shift) -> None:
        self.s.shifts.append(shift)

    def covering(self, agent_id: str, at: datetime) -> Shift | None:
        return next((x for x in self.s.shifts
                     if x.agent_id == agent_id and x.starts_at <= at < x.ends_at), None)


class _Calls:
    def __init__(self, s: State) -> None:
        self.s = s

    def get(self, record_id: str) -> CallRecord | None:
        return self.s.calls.get(record_id)

    def open_records(self, agent_id: str) -> list[CallRecord]:
        return [c for c in self.s.calls.values() if c.agent_id == agent_id and c.closed_at is None]

    def add(self, record: CallRecord) -> None:
        self.s.calls[record.id] = record


class _Notifications:
    def __init__(self, s: State) -> None:
        self.s = s

    def templates_sent(self, customer_id: str, since: datetime) -> set[str]:
        return {n.template for n in self.s.notifications
                if n.customer_id == customer_id and n.delivered and n.sent_at >= since}


class _Callbacks:
    def __init__(self, s: State) -> None:
        self.s = s

    def _open(self) -> list[Callback]:
        return sorted((c for c in self.s.callbacks.values() if c.status is CallbackStatus.OPEN),
                      key=lambda c: (c.due_at, c.id))

    def add(self, callback: Callback) -> None:
        if callback.owner_id not in self.s.agents:
            raise NotFound(f"No agent {callback.owner_id}")
        self.s.callbacks[callback.id] = callback

    def get(self, callback_id: str) -> Callback | None:
        return self.s.callbacks.get(callback_id)

    def open_for_customer(self, customer_id: str) -> list[Callback]:
        return [c for c in self._open() if c.customer_id == customer_id]

    def due(self, owner_id: str | None, before: datetime) -> list[Callback]:
        return [c for c in self._open()
                if c.due_at < before and (owner_id is None or c.owner_id == owner_id)]

    def in_queue(self, queue: str) -> list[Callback]:
        return [c for c in self._open() if c.queue == queue]

    def set_status(self, callback_id: str, status: CallbackStatus, at: datetime) -> None:
        cb = self.s.callbacks[callback_id]
        self.s.callbacks[callback_id] = replace(
            cb, status=status, closed_at=None if status is CallbackStatus.OPEN else at)

    def reassign(self, callback_id: str, owner_id: str, queue: str | None) -> None:
        self.s.callbacks[callback_id] = replace(self.s.callbacks[callback_id], owner_id=owner_id,
                                                queue=queue)


class _Audit:
    def __init__(self, s: State) -> None:
        self.s = s

    def append(self, kind: str, record_id: str, payload: Mapping[str, Any],
               at: datetime) -> AuditEntry:
        entry = AuditEntry(len(self.s.audit) + 1, kind, record_id, dict(payload), at)
        self.s.audit.append(entry)
        return entry

    def for_record(self, record_id: str) -> list[AuditEntry]:
        return [e for e in self.s.audit if e.record_id == record_id]


class MemoryUnitOfWork:
    def __init__(self, store: MemoryStore) -> None:
        self._store = store
        self._s = copy.deepcopy(store.state)
        self.customers = _Customers(self._s)
        self.agents = _Agents(self._s)
        self.shifts = _Shifts(self._s)
        self.calls = _Calls(self._s)
        self.notifications = _Notifications(self._s)
        self.callbacks = _Callbacks(self._s)
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
        self.state = State()
        self.commits = 0

    def unit_of_work(self, read_only: bool = False) -> MemoryUnitOfWork:
        return MemoryUnitOfWork(self)
