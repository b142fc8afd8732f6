"""The records store as the services see it: a unit of work holding one repository per aggregate.

Plain-Python protocols only; `app.storage.SqlStore` implements them over SQLAlchemy. A `Store` is
thread-safe and lives for the whole process; a `UnitOfWork` belongs to the one thread that opened it
(a background task, never the GUI thread) and is one database transaction: nothing it writes is
visible to anyone until `commit()`, and leaving the `with` block without committing rolls back.

Errors the agent can act on are `StoreError`s (database unreachable or busy, a record missing, a
conflicting write); anything else escaping a repository is a bug and goes to the crash handler.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from types import TracebackType
from typing import Any, Literal, Protocol, runtime_checkable

from app.domain.agent import Agent
from app.domain.call import CallRecord
from app.domain.customer import Consent, ContactHistory, Customer
from app.domain.enums import AgentState
from app.domain.errors import CallwiseError
from app.domain.memo import Memo

# -- errors --------------------------------------------------------------------------------------


class StoreError(CallwiseError):
    """An expected records problem; the message is for the agent, the action says what helps."""


class StoreUnavailable(StoreError):
    """The database could not be reached, or stayed locked longer than the busy timeout."""


class NotFound(StoreError):
    """A write named a customer, agent, call or callback the store does not hold."""


class Conflict(StoreError):
    """A write clashed with what is stored: a duplicate id, or a change to a closed record."""


# -- records that exist only in the store --------------------------------------------------------

Channel = Literal["sip_message", "email"]


@dataclass(frozen=True)
class Notification:
    """A pre-call notification or Service Assurance email, as it was attempted (OB-NOTIFY).

    A failed delivery is kept (with `detail` saying why) so the attempt is visible, but it never
    counts as sent: `NotificationRepository.last_sent` only returns delivered ones.
    """

    id: str
    customer_id: str
    agent_id: str
    channel: Channel
    template: str  # a NotificationTemplate value, or an email template name
    destination: str  # sip: URI or e-mail address
    body: str
    sent_at: datetime
    delivered: bool
    detail: str = ""


class CallbackStatus(StrEnum):
    OPEN = "open"
    DONE = "done"
    CANCELLED = "cancelled"


@dataclass(frozen=True)
class Callback:
    """A promised callback: a commitment with an owner and a due time (COMMIT, SA-OWNERSHIP).

    `queue` is set when the due time falls outside the owner's shift and the callback waits in
    the tracked assignment queue that leaders see.
    """

    id: str
    customer_id: str
    owner_id: str
    due_at: datetime
    reason: str
    created_at: datetime
    status: CallbackStatus = CallbackStatus.OPEN
    queue: str | None = None
    call_id: str | None = None  # the call on which it was promised, when there was one
    closed_at: datetime | None = None


@dataclass(frozen=True)
class Shift:
    """An agent's working shift, [starts_at, ends_at), for SA-OWNERSHIP."""

    id: str
    agent_id: str
    starts_at: datetime
    ends_at: datetime


@dataclass(frozen=True)
class AgentStateChange:
    agent_id: str
    state: AgentState
    at: datetime


@dataclass(frozen=True)
class TicketUpdate:
    """What was written to a linked ticket when a call record closed (SA-DOCUMENT)."""

    ticket_ref: str
    record_id: str | None
    text: str
    at: datetime


@dataclass(frozen=True)
class AuditEntry:
    """One link of the append-only audit chain: hash = sha256(prev_hash + canonical JSON)."""

    seq: int
    kind: str
    record_id: str
    payload: Mapping[str, Any] = field(default_factory=dict)
    at: datetime | None = None
    prev_hash: str = ""
    hash: str = ""


@dataclass(frozen=True)
class ChainCheck:
    """What `callwise audit verify` reports: the chain's length, its recorded head, and the first
    link that does not hold (None when the whole chain verifies) with the reason in words."""

    entries: int
    head_seq: int
    head_hash: str
    first_broken: int | None = None
    reason: str = ""

    @property
    def ok(self) -> bool:
        return self.first_broken is None


@dataclass(frozen=True)
class SyncStatus:
    """A desktop's link to the central database, for the status line (read on any thread).

    `pending` writes are safe in the local database and wait to be sent; `rejected` ones were
    refused by the central database for good (the reason is in `last_error`) and stay local
    for IT to look at.
    """

    online: bool
    pending: int
    last_error: str = ""
    rejected: int = 0


# -- repositories --------------------------------------------------------------------------------


class CustomerRepository(Protocol):
    def search(self, text: str, limit: int = 50) -> list[Customer]:
        """Prefix match on name ("ana gar", "garcia ana") or account number, or any phone number
        typed any way ("(312) 555-0142", "+1 312.555.0142", last four digits). Ordered by last
        name; at most `limit` results; empty text finds nothing."""
        ...

    def get(self, customer_id: str) -> Customer | None: ...

    def add(self, customer: Customer) -> None: ...

    def add_many(self, customers: Iterable[Customer]) -> None:
        """Bulk import (seeding, migrations from another system); same rules as `add`."""
        ...

    def count(self) -> int: ...

    def existing_ids(self, customer_ids: Iterable[str]) -> set[str]:
        """Which of these ids are already stored (the importer reports them by line)."""
        ...

    def set_service_zone(self, customer_id: str, zone: str | None, by: str, at: datetime) -> None:
        """The IANA zone of the service address (OB-WINDOW prefers it over the number's zones)."""
        ...

    def record_consent(self, customer_id: str, consent: Consent) -> None:
        """The newest consent replaces any earlier one."""
        ...

    def revoke_consent(self, customer_id: str, by: str, at: datetime) -> None: ...

    def contact_history(self, customer_id: str) -> ContactHistory:
        """Across every agent: was there ever a conversation, and how many attempts since the
        last one."""
        ...


class CallRepository(Protocol):
    def add(self, record: CallRecord) -> None:
        """The attempt is written before the INVITE leaves (principle 8)."""
        ...

    def get(self, record_id: str) -> CallRecord | None: ...

    def save(self, record: CallRecord) -> None:
        """Writes state, outcome, timestamps and memo. A closed record is final: saving over it,
        or saving it closed with its memo incomplete, raises."""
        ...

    def save_draft(self, record_id: str, memo: Memo, at: datetime) -> None:
        """Only the memo and its draft time, so it can run on every keystroke pause."""
        ...

    def draft_saved_at(self, record_id: str) -> datetime | None: ...

    def open_records(self, agent_id: str) -> list[CallRecord]:
        """Records not yet closed, oldest first: what a restarted desktop must finish."""
        ...

    def recent_for_customer(self, customer_id: str, limit: int = 20) -> list[CallRecord]:
        """Newest first."""
        ...


class NotificationRepository(Protocol):
    def add(self, notification: Notification) -> None: ...

    def last_sent(self, customer_id: str, template: str, since: datetime) -> Notification | None:
        """The newest DELIVERED notification with this template sent at or after `since`."""
        ...

    def templates_sent(self, customer_id: str, since: datetime) -> set[str]:
        """The templates of every DELIVERED notification sent at or after `since`: what
        `last_sent` would find, for all templates in one query (the dial gate asks this on
        every dial)."""
        ...

    def for_customer(self, customer_id: str, limit: int = 20) -> list[Notification]:
        """Newest first, failed deliveries included."""
        ...


class AgentRepository(Protocol):
    def get(self, agent_id: str) -> Agent | None: ...

    def add(self, agent: Agent) -> None: ...

    def record_state(self, agent_id: str, state: AgentState, at: datetime) -> None:
        """Appends a state change and makes it the agent's current state."""
        ...

    def state_changes(self, agent_id: str, since: datetime) -> list[AgentStateChange]: ...


class ShiftRepository(Protocol):
    def add(self, shift: Shift) -> None: ...

    def covering(self, agent_id: str, at: datetime) -> Shift | None:
        """The agent's shift that contains `at`, if any (SA-OWNERSHIP)."""
        ...


class CallbackRepository(Protocol):
    def add(self, callback: Callback) -> None: ...

    def get(self, callback_id: str) -> Callback | None: ...

    def open_for_customer(self, customer_id: str) -> list[Callback]:
        """Open commitments, soonest due first."""
        ...

    def due(self, owner_id: str | None, before: datetime) -> list[Callback]:
        """Open callbacks due before `before`, soonest first; `owner_id=None` means every owner
        (the supervisor's overdue list)."""
        ...

    def in_queue(self, queue: str) -> list[Callback]:
        """Open callbacks waiting in an assignment queue, soonest due first."""
        ...

    def set_status(self, callback_id: str, status: CallbackStatus, at: datetime) -> None: ...

    def reassign(self, callback_id: str, owner_id: str, queue: str | None) -> None: ...


class TicketRepository(Protocol):
    def add_update(self, ticket_ref: str, record_id: str | None, text: str, at: datetime) -> None:
        """Write it in the same unit of work as the memo close, so both land or neither does."""
        ...

    def updates(self, ticket_ref: str) -> list[TicketUpdate]:
        """Oldest first."""
        ...


class AuditLog(Protocol):
    def append(self, kind: str, record_id: str, payload: Mapping[str, Any],
               at: datetime) -> AuditEntry:
        """`payload` must be JSON data (str, int, float, bool, None, lists, string-keyed dicts)."""
        ...

    def verify(self) -> int | None:
        """The seq of the first entry whose link does not hold (edited, or a predecessor deleted,
        or, when the newest entries were deleted, the first one missing before the recorded
        head); None when the whole chain verifies."""
        ...

    def check(self) -> ChainCheck:
        """`verify` with the reason in words and the chain's length and head."""
        ...

    def for_record(self, record_id: str) -> list[AuditEntry]: ...


# -- unit of work and store ----------------------------------------------------------------------


class UnitOfWork(Protocol):
    """One transaction. Use as `with store.unit_of_work() as uow: ...; uow.commit()`."""

    @property
    def customers(self) -> CustomerRepository: ...

    @property
    def calls(self) -> CallRepository: ...

    @property
    def notifications(self) -> NotificationRepository: ...

    @property
    def agents(self) -> AgentRepository: ...

    @property
    def shifts(self) -> ShiftRepository: ...

    @property
    def callbacks(self) -> CallbackRepository: ...

    @property
    def tickets(self) -> TicketRepository: ...

    @property
    def audit(self) -> AuditLog: ...

    def __enter__(self) -> UnitOfWork: ...

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None: ...

    def commit(self) -> None: ...

    def rollback(self) -> None: ...


class Store(Protocol):
    """Thread-safe; one per process, made by the composition root and closed at shutdown."""

    def unit_of_work(self, read_only: bool = False) -> UnitOfWork:
        """`read_only=True` for lookups: on SQLite it does not take the write lock, so a long
        dashboard read never delays a dial's write."""
        ...

    def describe(self) -> str:
        """Where the records live, password hidden (for the doctor command and logs)."""
        ...

    def close(self) -> None: ...


@runtime_checkable
class SyncingStore(Store, Protocol):
    """A store that keeps working while the central database is away (`open_resilient_store`).

    `sync_status` is cheap and never touches a database, so the GUI thread may call it for the
    status line; `catch_up` sends waiting writes and belongs on the worker thread.
    """

    def sync_status(self) -> SyncStatus: ...

    def catch_up(self, limit: int | None = None) -> SyncStatus:
        """Reconnects if needed and sends up to `limit` waiting writes (all when None), oldest
        first; never raises for an unreachable database (the status says so)."""
        ...
