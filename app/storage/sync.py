"""A desktop that keeps working when the central database is away, and catches up exactly once.

How (docs/storage.md, "Offline catch-up", says why):

- Every write goes to the desktop's own SQLite first, and the same local transaction appends an
  outbox row naming the repository call and its arguments (`sync_codec`). A write therefore never
  waits for, or fails on, the network: the agent's work is on disk when `commit()` returns.
- Right after the local commit, while the central database is reachable, the outbox is sent.
  Sending replays the calls in outbox order through the same repositories on the central
  database, and in the SAME central transaction moves this desktop's high-water mark
  (`sync_origins.last_seq`). Rows are deleted locally only after the central commit; if the
  desktop dies in between, the next send finds the mark past them and skips them. That, with ids
  made on the desktop, is what makes it exactly once and in order.
- Reads go to the central database only when it is reachable AND nothing is waiting to be sent
  (then the central copy holds everything this desktop wrote, plus everyone else's work);
  otherwise to the local copy. Contact history read locally says `complete=False`, so the policy
  applies its stricter reading of the attempt cap.
- The local copy holds this desktop's own writes and the reference rows they need (customer,
  agent, callback, call), copied from the central database the first time a write names them;
  a customer is refreshed from the central copy whenever it is read there inside a write (the
  dial), so consent and zone are at most as old as the last dial while online.
- Going offline is noticed by the first central read or send that fails; coming back only by
  `catch_up()`, which the app calls on its worker thread every few seconds. No dial ever waits
  for a connect timeout while the database is known to be away.

A central refusal that can never succeed (a record missing there, a duplicate, an incomplete
close) is kept locally with state "rejected" and its reason, counted in `SyncStatus.rejected`,
and the rest goes on; anything else (permissions, an unexpected database error) stops sending
and is retried at the next `catch_up()`.

Threads: a `ResilientStore` is thread-safe and lives for the whole process. Its units of work
belong to the thread that opened them. `sync_status()` only reads fields under a lock, so the GUI
thread may call it; `catch_up()` may block on the network and belongs on the worker thread.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar, cast

from sqlalchemy import URL, Table, delete, func, insert, select, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from app.domain.agent import Agent
from app.domain.call import CallRecord
from app.domain.customer import Consent, ContactHistory, Customer
from app.domain.enums import AgentState
from app.domain.errors import CallwiseError
from app.domain.memo import Memo
from app.ports.store import (
    AgentStateChange,
    AuditEntry,
    Callback,
    CallbackStatus,
    ChainCheck,
    NotFound,
    Notification,
    Shift,
    Store,
    StoreError,
    StoreUnavailable,
    SyncingStore,
    SyncStatus,
    TicketUpdate,
    UnitOfWork,
)
from app.storage import sync_codec
from app.storage.chain import GENESIS
from app.storage.engine import (
    DEFAULT_BUSY_TIMEOUT_MS,
    create_store_engine,
    current_revision,
    head_revision,
    known_revisions,
    normalise_url,
    open_store,
    upgrade_to_head,
)
from app.storage.errors import translate
from app.storage.health import ORIGIN_KEY
from app.storage.models import AuditHeadRow, Base, SyncMetaRow, SyncOriginRow, SyncOutboxRow
from app.storage.repositories._common import insert_ignore
from app.storage.uow import SqlStore, SqlUnitOfWork

log = logging.getLogger(__name__)

T = TypeVar("T")

PENDING = "pending"
REJECTED = "rejected"
SEND_BATCH = 500

# Every repository call that changes something, as "<repository>.<method>": the outbox carries
# only these, and replays only these.
WRITE_OPS = frozenset({
    "customers.add", "customers.add_many", "customers.set_service_zone",
    "customers.record_consent", "customers.revoke_consent",
    "calls.add", "calls.save", "calls.save_draft",
    "notifications.add",
    "agents.add", "agents.record_state",
    "shifts.add",
    "callbacks.add", "callbacks.set_status", "callbacks.reassign",
    "tickets.add_update",
    "audit.append",
})

# Errors of a replayed write that will never go away by retrying it (KeyError, ValueError and
# TypeError: an outbox row that no longer decodes to a call this version knows).
_PERMANENT = (StoreError, CallwiseError, ValueError, TypeError, KeyError)

# Reference rows a local write may need, and the rows that belong with them.
_CHILDREN = {"customers": (("customer_numbers", "customer_id"), ("consents", "customer_id")),
             "calls": (("memos", "call_id"),)}
_SURROGATE_KEYS = {"customer_numbers": "id", "consents": "id"}


def apply_op(uow: SqlUnitOfWork, op: str, kwargs: dict[str, Any]) -> Any:
    """Runs one write on a unit of work: the same code for the local write and its replay."""
    if op not in WRITE_OPS:
        raise ValueError(f"not a replayable write: {op!r}")
    repository, method = op.split(".")
    return getattr(getattr(uow, repository), method)(**kwargs)


def _replay(uow: SqlUnitOfWork, op: str, kwargs: dict[str, Any]) -> None:
    if op == "agents.add" and uow.agents.get(kwargs["agent"].id) is not None:
        return  # the desktop started offline and added its agent, who was already known
    apply_op(uow, op, kwargs)


@dataclass(frozen=True)
class _Outgoing:
    seq: int
    op: str
    args: str


class _CentralGone(Exception):
    """Internal: the central database stopped answering in the middle of a send."""


class ResilientStore:
    """Implements `app.ports.store.SyncingStore` over a local SQLite and a central database."""

    def __init__(self, local: SqlStore, central_url: str, *, migrate_central: bool,
                 connect_timeout_s: int, busy_timeout_ms: int) -> None:
        self._local = local
        self._central = SqlStore(create_store_engine(
            central_url, busy_timeout_ms=busy_timeout_ms, connect_timeout_s=connect_timeout_s))
        self._migrate_central = migrate_central
        self._status_lock = threading.Lock()
        self._send_lock = threading.Lock()
        self._online = False
        self._last_error = "not connected yet"
        self._last_rejection = ""  # stays until IT deals with the rejected writes
        self._origin = self._load_origin()
        with local.unit_of_work(read_only=True) as uow:
            counts = dict(uow.session.execute(
                select(SyncOutboxRow.state, func.count()).group_by(SyncOutboxRow.state)).all())
        self._pending: int = counts.get(PENDING, 0)
        self._rejected: int = counts.get(REJECTED, 0)
        if self._rejected:
            self._last_rejection = (f"{self._rejected} change(s) made on this desktop were "
                                    "refused by the central records and are kept here for IT.")

    # -- the Store port -----------------------------------------------------------------------

    def unit_of_work(self, read_only: bool = False) -> ResilientUnitOfWork:
        return ResilientUnitOfWork(self, read_only)

    def describe(self) -> str:
        state = self.sync_status()
        where = self._central.describe()
        if state.online:
            return f"{where}, local copy {self._local.describe()}"
        return (f"{where} (offline: {state.pending} waiting in {self._local.describe()}"
                + (f"; {state.last_error}" if state.last_error else "") + ")")

    def close(self) -> None:
        try:
            self._central.close()
        finally:
            self._local.close()

    # -- sync -----------------------------------------------------------------------------------

    @property
    def local(self) -> SqlStore:
        return self._local

    @property
    def central(self) -> SqlStore:
        return self._central

    @property
    def origin(self) -> str:
        """This desktop database's id in `sync_origins` (made when the database was first used)."""
        return self._origin

    def sync_status(self) -> SyncStatus:
        with self._status_lock:
            return SyncStatus(online=self._online, pending=self._pending,
                              last_error=self._last_error or self._last_rejection,
                              rejected=self._rejected)

    def catch_up(self, limit: int | None = None) -> SyncStatus:
        with self._send_lock:
            try:
                self._prepare_central()  # also the ping that notices the database went away
                self._send(limit)
            except _CentralGone:
                pass  # already recorded by _went_offline
        return self.sync_status()

    def reads_central(self) -> bool:
        """Whether a read now would be answered by the central database."""
        with self._status_lock:
            return self._online and self._pending == 0

    def _went_offline(self, error: BaseException) -> None:
        message = getattr(error, "message", None) or str(error)
        with self._status_lock:
            was_online = self._online
            self._online = False
            self._last_error = message
        if was_online:
            log.warning("central records database unreachable, working offline: %s", message)

    def _came_online(self) -> None:
        with self._status_lock:
            was_online = self._online
            self._online = True
            self._last_error = ""
        if not was_online:
            log.info("central records database reachable again")

    def _after_local_commit(self, added: int) -> None:
        with self._status_lock:
            backlog = self._pending
            self._pending += added
            online = self._online
        # Only when nothing older waits: then this sends just the writes made now. A backlog
        # is for catch_up() to work through in bounded steps; never make the agent's click wait
        # for it, nor for a catch-up running on another thread.
        if added and online and backlog == 0 and self._send_lock.acquire(blocking=False):
            try:
                self._send(added)
            except _CentralGone:
                pass
            finally:
                self._send_lock.release()

    def _load_origin(self) -> str:
        with self._local.unit_of_work() as uow:
            value = uow.session.scalar(
                select(SyncMetaRow.value).where(SyncMetaRow.key == ORIGIN_KEY))
            if value is None:
                value = uuid.uuid4().hex
                uow.session.execute(insert(SyncMetaRow).values(key=ORIGIN_KEY, value=value))
                uow.commit()
            return value

    def _prepare_central(self) -> None:
        """Reachable, and at the schema this version writes (migrated here when allowed)."""
        engine = self._central.engine
        try:
            current = current_revision(engine)
            if current != head_revision():
                known = current is None or current in known_revisions()
                if not known or not self._migrate_central:
                    advice = ("ask IT to run `callwise db upgrade` on it" if known
                              else "ask IT to update Callwise on this desktop")
                    error = StoreUnavailable(
                        f"The central records database has schema {current or 'empty'} and "
                        f"this version of Callwise writes {head_revision()}: {advice}.")
                    self._went_offline(error)
                    raise _CentralGone from error
                upgrade_to_head(engine)
        except DBAPIError as exc:
            self._went_offline(translate(exc))
            raise _CentralGone from exc
        self._came_online()

    def _send(self, limit: int | None) -> None:
        """Sends waiting writes in seq order, a batch per central transaction. Caller holds
        `_send_lock`. Raises _CentralGone (after recording it) when the database goes away."""
        sent = 0
        while limit is None or sent < limit:
            batch, head = self._waiting(SEND_BATCH if limit is None
                                        else min(SEND_BATCH, limit - sent))
            if not batch:
                break
            try:
                rejected = self._send_batch(batch, head, careful=False)
            except _Refused:
                rejected = self._send_batch(batch, head, careful=True)
            except _Stuck as stuck:
                with self._status_lock:
                    self._last_error = stuck.message
                log.error("sending waiting writes stopped: %s", stuck.message)
                return
            self._mark_sent(batch, rejected)
            sent += len(batch)
        self._came_online()

    def _waiting(self, count: int) -> tuple[list[_Outgoing], tuple[int, str]]:
        """The next waiting writes, and the local audit head to anchor centrally with them."""
        with self._local.unit_of_work(read_only=True) as uow:
            rows = uow.session.execute(
                select(SyncOutboxRow.seq, SyncOutboxRow.op, SyncOutboxRow.args)
                .where(SyncOutboxRow.state == PENDING).order_by(SyncOutboxRow.seq)
                .limit(count)).all()
            head = uow.session.execute(
                select(AuditHeadRow.seq, AuditHeadRow.hash).where(AuditHeadRow.id == 1)).first()
        return ([_Outgoing(r.seq, r.op, r.args) for r in rows],
                (head.seq, head.hash) if head is not None else (0, GENESIS))

    def _send_batch(self, batch: list[_Outgoing], head: tuple[int, str], *,
                    careful: bool) -> dict[int, str]:
        """One central transaction: skip what the high-water mark says is there, replay the
        rest, move the mark and the anchored local audit head. Returns the seqs refused for
        good, with why."""
        rejected: dict[int, str] = {}
        try:
            with self._central.unit_of_work() as uow:
                session = uow.session
                insert_ignore(session, SyncOriginRow, {"origin": self._origin, "last_seq": 0,
                                                       "audit_seq": 0, "audit_hash": GENESIS})
                last = session.scalar(select(SyncOriginRow.last_seq)
                                      .where(SyncOriginRow.origin == self._origin)
                                      .with_for_update())
                assert last is not None
                for item in batch:
                    if item.seq <= last:
                        continue  # applied before; only the local "sent" mark was lost
                    if not careful:
                        try:
                            _replay(uow, item.op, sync_codec.loads(item.args))
                        except StoreUnavailable:
                            raise
                        except _PERMANENT as exc:
                            raise _Refused from exc
                        continue
                    try:
                        with session.begin_nested():
                            _replay(uow, item.op, sync_codec.loads(item.args))
                    except StoreUnavailable:
                        raise
                    except _PERMANENT as exc:
                        reason = getattr(exc, "message", None) or str(exc)
                        rejected[item.seq] = reason
                        log.error("central database refused %s (outbox seq %d): %s",
                                  item.op, item.seq, reason)
                session.execute(update(SyncOriginRow)
                                .where(SyncOriginRow.origin == self._origin)
                                .values(last_seq=batch[-1].seq))
                session.execute(update(SyncOriginRow)
                                .where(SyncOriginRow.origin == self._origin,
                                       SyncOriginRow.audit_seq < head[0])
                                .values(audit_seq=head[0], audit_hash=head[1]))
                uow.commit()
        except StoreUnavailable as exc:
            self._went_offline(exc)
            raise _CentralGone from exc
        except DBAPIError as exc:
            mapped = translate(exc)
            if isinstance(mapped, StoreUnavailable):
                self._went_offline(mapped)
                raise _CentralGone from exc
            raise _Stuck(f"The central records database refused the waiting writes ({exc.orig}). "
                         "They are kept on this desktop.") from exc
        return rejected

    def _mark_sent(self, batch: list[_Outgoing], rejected: dict[int, str]) -> None:
        done = [item.seq for item in batch if item.seq not in rejected]
        with self._local.unit_of_work() as uow:
            if done:
                uow.session.execute(delete(SyncOutboxRow).where(SyncOutboxRow.seq.in_(done)))
            for seq, reason in rejected.items():
                uow.session.execute(update(SyncOutboxRow).where(SyncOutboxRow.seq == seq)
                                    .values(state=REJECTED, error=reason))
            uow.commit()
        with self._status_lock:
            self._pending -= len(batch)
            self._rejected += len(rejected)
            if rejected:
                self._last_rejection = ("The central records refused a change made on this "
                                        "desktop (kept here for IT): "
                                        + next(iter(rejected.values())))


class _Refused(Exception):
    """Internal: a write in a fast batch was refused for good; resend the batch one by one."""


class _Stuck(Exception):
    """Internal: sending stopped on an error retrying may fix (e.g. permissions)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ResilientUnitOfWork:
    """One local transaction (and, for reads while online, one central read-only transaction).

    Owned by the thread that entered it. Writes are local and queued for the central database
    in the same local transaction; reads are central while `reads_central()` held when the unit
    of work began and nothing has been written in it yet (so it always reads its own writes).
    """

    def __init__(self, store: ResilientStore, read_only: bool) -> None:
        self._store = store
        self._read_only = read_only
        self._local_uow: SqlUnitOfWork | None = None
        self._central_uow: SqlUnitOfWork | None = None
        self._use_central = False
        self._wrote = False
        self._queued = 0

    def __enter__(self) -> ResilientUnitOfWork:
        if self._local_uow is not None:
            raise RuntimeError("a unit of work is entered once")
        local = self._store.local.unit_of_work(self._read_only)
        local.__enter__()
        self._local_uow = local
        self._use_central = self._store.reads_central()
        self._customers = _Customers(self)
        self._calls = _Calls(self)
        self._notifications = _Notifications(self)
        self._agents = _Agents(self)
        self._shifts = _Shifts(self)
        self._callbacks = _Callbacks(self)
        self._tickets = _Tickets(self)
        self._audit = _Audit(self)
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        try:
            self._close_central()
        finally:
            local, self._local_uow = self._require(), None
            self._queued = 0
            local.__exit__(exc_type, exc, tb)

    def commit(self) -> None:
        self._require().commit()
        queued, self._queued = self._queued, 0
        self._store._after_local_commit(queued)

    def rollback(self) -> None:
        self._require().rollback()
        self._queued = 0

    # -- plumbing for the repositories below ---------------------------------------------------

    def _require(self) -> SqlUnitOfWork:
        if self._local_uow is None:
            raise RuntimeError("use the unit of work inside a `with` block")
        return self._local_uow

    def _close_central(self) -> None:
        central, self._central_uow = self._central_uow, None
        if central is None:
            return
        try:
            central.__exit__(None, None, None)
        except StoreUnavailable as exc:
            self._store._went_offline(exc)

    def _central(self) -> SqlUnitOfWork | None:
        if not self._use_central or self._wrote:
            return None
        if self._central_uow is None:
            central = self._store.central.unit_of_work(read_only=True)
            central.__enter__()
            self._central_uow = central
        return self._central_uow

    def _lost_central(self, error: StoreUnavailable) -> None:
        self._use_central = False
        self._store._went_offline(error)
        central, self._central_uow = self._central_uow, None
        if central is not None:
            with contextlib.suppress(StoreUnavailable, DBAPIError):
                central.__exit__(None, None, None)  # the connection is gone; the pool drops it

    def read(self, query: Callable[[SqlUnitOfWork], T]) -> tuple[T, bool]:
        """(result, whether the central database answered)."""
        local = self._require()
        if self._use_central and not self._wrote:
            try:
                central = self._central()
                if central is not None:
                    return query(central), True
            except StoreUnavailable as exc:
                self._lost_central(exc)
            except DBAPIError as exc:  # failed while beginning: not yet translated
                mapped = translate(exc)
                if not isinstance(mapped, StoreUnavailable):
                    raise
                self._lost_central(mapped)
        return query(local), False

    def write(self, op: str, refs: Iterable[tuple[str, str | None]], **kwargs: Any) -> Any:
        """Applies the write locally and queues it for the central database, in one local
        transaction. `refs` name the reference rows it needs: ("customers", id), ...."""
        if self._read_only:
            raise StoreError("This is a read-only unit of work.",
                             action="Open a unit of work without read_only to write.")
        local = self._require()
        for table, key in refs:
            if key is not None:
                self._ensure_local(table, key)
        args = sync_codec.dumps(kwargs)  # before the write: an unencodable value writes nothing
        result = apply_op(local, op, kwargs)
        local.session.execute(insert(SyncOutboxRow).values(op=op, args=args, state=PENDING,
                                                           error=""))
        self._wrote = True
        self._queued += 1
        return result

    # -- reference rows copied from the central database ---------------------------------------

    def _ensure_local(self, table_name: str, key: str) -> None:
        table = Base.metadata.tables[table_name]
        local = self._require().session
        (pk,) = table.primary_key.columns
        if local.scalar(select(pk).where(pk == key)) is not None:
            return
        missing = NotFound(f"This desktop has no copy of {table_name[:-1]} {key}, and the "
                           "central records cannot be reached to fetch it.",
                           action="Try again when the desktop is back online.")
        central = self._reference_source()
        if central is None:
            raise missing
        try:
            _copy_row(central, local, table, key)
        except StoreUnavailable as exc:
            self._lost_central(exc)
            raise missing from exc

    def _reference_source(self) -> Session | None:
        """A central session to copy reference rows from, whether or not reads use it."""
        if self._central_uow is not None:
            return self._central_uow.session
        with self._store._status_lock:
            online = self._store._online
        if not online:
            return None
        try:
            central = self._store.central.unit_of_work(read_only=True)
            central.__enter__()
        except StoreUnavailable as exc:
            self._store._went_offline(exc)
            return None
        self._central_uow = central
        return central.session

    def refresh_customer(self, customer_id: str) -> None:
        """Brings the local copy of a customer up to the central one (called right after reading
        it centrally inside a write, when nothing local is waiting to be sent)."""
        if self._read_only or self._central_uow is None:
            return
        local = self._require().session
        table = Base.metadata.tables["customers"]
        if local.scalar(select(table.c.id).where(table.c.id == customer_id)) is None:
            return  # copied when a write first needs it
        _copy_row(self._central_uow.session, local, table, customer_id, refresh=True)

    # -- the repositories ------------------------------------------------------------------------

    @property
    def customers(self) -> _Customers:
        self._require()
        return self._customers

    @property
    def calls(self) -> _Calls:
        self._require()
        return self._calls

    @property
    def notifications(self) -> _Notifications:
        self._require()
        return self._notifications

    @property
    def agents(self) -> _Agents:
        self._require()
        return self._agents

    @property
    def shifts(self) -> _Shifts:
        self._require()
        return self._shifts

    @property
    def callbacks(self) -> _Callbacks:
        self._require()
        return self._callbacks

    @property
    def tickets(self) -> _Tickets:
        self._require()
        return self._tickets

    @property
    def audit(self) -> _Audit:
        self._require()
        return self._audit


@dataclass(frozen=True)
class _Fetched:
    table: Table
    key: str
    row: dict[str, Any]
    children: tuple[tuple[Table, str, tuple[dict[str, Any], ...]], ...]


def _fetch(central: Session, local: Session, table: Table, key: str,
           out: list[_Fetched]) -> None:
    """Reads one reference row, the parents the local copy lacks (first) and its children
    from the central database. Only reads: a failure here leaves the local copy untouched.
    Raises StoreUnavailable (translated) or NotFound."""
    (pk,) = table.primary_key.columns
    try:
        row = central.execute(select(table).where(pk == key)).mappings().first()
        if row is None:
            raise NotFound(f"No {table.name[:-1]} {key} in the central records.")
        for fk in table.foreign_keys:
            value = row[fk.parent.name]
            if value is not None and local.scalar(
                    select(fk.column).where(fk.column == value)) is None:
                _fetch(central, local, fk.column.table, value, out)
        children = []
        for child_name, column in _CHILDREN.get(table.name, ()):
            child = Base.metadata.tables[child_name]
            surrogate = _SURROGATE_KEYS.get(child_name)
            rows = central.execute(select(child).where(child.c[column] == key)).mappings()
            children.append((child, column, tuple({k: v for k, v in r.items() if k != surrogate}
                                                  for r in rows)))
    except DBAPIError as exc:
        mapped = translate(exc)
        if mapped is exc:
            raise
        raise mapped from exc
    out.append(_Fetched(table, key, dict(row), tuple(children)))


def _copy_row(central: Session, local: Session, table: Table, key: str,
              refresh: bool = False) -> None:
    """Copies one reference row (its parents first, its children with it) into the local copy;
    with `refresh`, brings an existing local row and its children up to the central ones."""
    fetched: list[_Fetched] = []
    _fetch(central, local, table, key, fetched)
    for item in fetched:  # parents were appended before the rows that need them
        (pk,) = item.table.primary_key.columns
        replace_existing = refresh and item is fetched[-1]
        if replace_existing:
            local.execute(update(item.table).where(pk == item.key).values(**item.row))
        else:
            local.execute(insert(item.table).values(**item.row))
        for child, column, rows in item.children:
            if replace_existing:
                local.execute(delete(child).where(child.c[column] == item.key))
            for values in rows:
                local.execute(insert(child).values(**values))


# -- repositories: reads central-or-local, writes local + outbox ------------------------------


class _Repo:
    def __init__(self, uow: ResilientUnitOfWork) -> None:
        self._uow = uow


class _Customers(_Repo):
    def search(self, text: str, limit: int = 50) -> list[Customer]:
        return self._uow.read(lambda u: u.customers.search(text, limit))[0]

    def get(self, customer_id: str) -> Customer | None:
        customer, central = self._uow.read(lambda u: u.customers.get(customer_id))
        if central and customer is not None:
            self._uow.refresh_customer(customer_id)
        return customer

    def add(self, customer: Customer) -> None:
        self._uow.write("customers.add", (), customer=customer)

    def add_many(self, customers: Iterable[Customer]) -> None:
        self._uow.write("customers.add_many", (), customers=list(customers))

    def count(self) -> int:
        return self._uow.read(lambda u: u.customers.count())[0]

    def existing_ids(self, customer_ids: Iterable[str]) -> set[str]:
        ids = list(customer_ids)
        return self._uow.read(lambda u: u.customers.existing_ids(ids))[0]

    def set_service_zone(self, customer_id: str, zone: str | None, by: str, at: datetime) -> None:
        self._uow.write("customers.set_service_zone", [("customers", customer_id)],
                        customer_id=customer_id, zone=zone, by=by, at=at)

    def record_consent(self, customer_id: str, consent: Consent) -> None:
        self._uow.write("customers.record_consent", [("customers", customer_id)],
                        customer_id=customer_id, consent=consent)

    def revoke_consent(self, customer_id: str, by: str, at: datetime) -> None:
        self._uow.write("customers.revoke_consent", [("customers", customer_id)],
                        customer_id=customer_id, by=by, at=at)

    def contact_history(self, customer_id: str) -> ContactHistory:
        history, central = self._uow.read(lambda u: u.customers.contact_history(customer_id))
        return history if central else replace(history, complete=False)


class _Calls(_Repo):
    def add(self, record: CallRecord) -> None:
        self._uow.write("calls.add", [("customers", record.customer_id),
                                      ("agents", record.agent_id)], record=record)

    def get(self, record_id: str) -> CallRecord | None:
        return self._uow.read(lambda u: u.calls.get(record_id))[0]

    def save(self, record: CallRecord) -> None:
        self._uow.write("calls.save", [("calls", record.id)], record=record)

    def save_draft(self, record_id: str, memo: Memo, at: datetime) -> None:
        self._uow.write("calls.save_draft", [("calls", record_id)], record_id=record_id,
                        memo=memo, at=at)

    def draft_saved_at(self, record_id: str) -> datetime | None:
        return self._uow.read(lambda u: u.calls.draft_saved_at(record_id))[0]

    def open_records(self, agent_id: str) -> list[CallRecord]:
        return self._uow.read(lambda u: u.calls.open_records(agent_id))[0]

    def recent_for_customer(self, customer_id: str, limit: int = 20) -> list[CallRecord]:
        return self._uow.read(lambda u: u.calls.recent_for_customer(customer_id, limit))[0]


class _Notifications(_Repo):
    def add(self, notification: Notification) -> None:
        self._uow.write("notifications.add", [("customers", notification.customer_id),
                                              ("agents", notification.agent_id)],
                        notification=notification)

    def last_sent(self, customer_id: str, template: str, since: datetime) -> Notification | None:
        return self._uow.read(lambda u: u.notifications.last_sent(customer_id, template,
                                                                  since))[0]

    def templates_sent(self, customer_id: str, since: datetime) -> set[str]:
        return self._uow.read(lambda u: u.notifications.templates_sent(customer_id, since))[0]

    def for_customer(self, customer_id: str, limit: int = 20) -> list[Notification]:
        return self._uow.read(lambda u: u.notifications.for_customer(customer_id, limit))[0]


class _Agents(_Repo):
    def get(self, agent_id: str) -> Agent | None:
        return self._uow.read(lambda u: u.agents.get(agent_id))[0]

    def add(self, agent: Agent) -> None:
        self._uow.write("agents.add", (), agent=agent)

    def record_state(self, agent_id: str, state: AgentState, at: datetime) -> None:
        self._uow.write("agents.record_state", [("agents", agent_id)], agent_id=agent_id,
                        state=state, at=at)

    def state_changes(self, agent_id: str, since: datetime) -> list[AgentStateChange]:
        return self._uow.read(lambda u: u.agents.state_changes(agent_id, since))[0]


class _Shifts(_Repo):
    def add(self, shift: Shift) -> None:
        self._uow.write("shifts.add", [("agents", shift.agent_id)], shift=shift)

    def covering(self, agent_id: str, at: datetime) -> Shift | None:
        return self._uow.read(lambda u: u.shifts.covering(agent_id, at))[0]


class _Callbacks(_Repo):
    def add(self, callback: Callback) -> None:
        self._uow.write("callbacks.add", [("customers", callback.customer_id),
                                          ("agents", callback.owner_id),
                                          ("calls", callback.call_id)], callback=callback)

    def get(self, callback_id: str) -> Callback | None:
        return self._uow.read(lambda u: u.callbacks.get(callback_id))[0]

    def open_for_customer(self, customer_id: str) -> list[Callback]:
        return self._uow.read(lambda u: u.callbacks.open_for_customer(customer_id))[0]

    def due(self, owner_id: str | None, before: datetime) -> list[Callback]:
        return self._uow.read(lambda u: u.callbacks.due(owner_id, before))[0]

    def in_queue(self, queue: str) -> list[Callback]:
        return self._uow.read(lambda u: u.callbacks.in_queue(queue))[0]

    def set_status(self, callback_id: str, status: CallbackStatus, at: datetime) -> None:
        self._uow.write("callbacks.set_status", [("callbacks", callback_id)],
                        callback_id=callback_id, status=status, at=at)

    def reassign(self, callback_id: str, owner_id: str, queue: str | None) -> None:
        self._uow.write("callbacks.reassign", [("callbacks", callback_id), ("agents", owner_id)],
                        callback_id=callback_id, owner_id=owner_id, queue=queue)


class _Tickets(_Repo):
    def add_update(self, ticket_ref: str, record_id: str | None, text: str, at: datetime) -> None:
        self._uow.write("tickets.add_update", [("calls", record_id)], ticket_ref=ticket_ref,
                        record_id=record_id, text=text, at=at)

    def updates(self, ticket_ref: str) -> list[TicketUpdate]:
        return self._uow.read(lambda u: u.tickets.updates(ticket_ref))[0]


class _Audit(_Repo):
    def append(self, kind: str, record_id: str, payload: Mapping[str, Any],
               at: datetime) -> AuditEntry:
        entry = self._uow.write("audit.append", (), kind=kind, record_id=record_id,
                                payload=dict(payload), at=at)
        return cast(AuditEntry, entry)

    def verify(self) -> int | None:
        return self._uow.read(lambda u: u.audit.verify())[0]

    def check(self) -> ChainCheck:
        return self._uow.read(lambda u: u.audit.check())[0]

    def for_record(self, record_id: str) -> list[AuditEntry]:
        return self._uow.read(lambda u: u.audit.for_record(record_id))[0]


OFFLINE_COPY_NAME = "callwise-offline.sqlite3"


def open_desktop_store(url: str, data_dir: Path) -> Store:
    """What a desktop opens for the configured URL: a SQLite URL is the store itself; a
    PostgreSQL URL is the shared store, with this desktop's offline copy in `data_dir`."""
    if normalise_url(url).get_backend_name() == "sqlite":  # checked before any file is made
        return open_store(url)
    local = URL.create("sqlite+pysqlite", database=str(data_dir / OFFLINE_COPY_NAME))
    return open_resilient_store(url, local.render_as_string())


def open_resilient_store(central_url: str, local_url: str, *, migrate_central: bool = True,
                         connect_timeout_s: int = 3,
                         busy_timeout_ms: int = DEFAULT_BUSY_TIMEOUT_MS) -> ResilientStore:
    """The shared store with a local copy that keeps the desktop working while it is away.

    `local_url` is the desktop's SQLite (migrated here, like `open_store`); `central_url` the
    shared PostgreSQL. The central database need not be reachable now: the store starts offline
    and `catch_up()` connects later. `migrate_central=False` for desktops whose login may not
    change the schema (the least-privilege roles): an outdated central schema then keeps the
    desktop offline with a message for IT instead.
    """
    local = open_store(local_url, busy_timeout_ms=busy_timeout_ms)
    try:
        store = ResilientStore(local, central_url, migrate_central=migrate_central,
                               connect_timeout_s=connect_timeout_s,
                               busy_timeout_ms=busy_timeout_ms)
    except BaseException:
        local.close()
        raise
    store.catch_up()
    return store


def _conforms(store: ResilientStore, uow: ResilientUnitOfWork) -> tuple[SyncingStore, UnitOfWork]:
    """Never called: mypy checks here that the classes implement the port's protocols."""
    return store, uow
