"""The schema, as SQLAlchemy 2 declarative models. Migrations under `migrations/` must agree with
it (a test compares them on SQLite and PostgreSQL).

The rows are not the domain objects: repositories translate both ways, so the domain stays frozen
dataclasses that know nothing of sessions, identity maps or lazy loading.

Vocabularies (states, outcomes, teams) are stored as their string values in plain VARCHAR
columns, never as database enums, so a new value in a later release needs no ALTER TYPE.
Every timestamp is `UTCDateTime`. Ids of calls, notifications and callbacks are text UUIDs made on
the desktop, so records written while the shared database was away merge exactly once later.
"""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    Time,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from app.storage.types import UTCDateTime, key_string

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

ID = String(64)
CODE = String(32)  # a vocabulary value: state, outcome, team, channel…
Utc = UTCDateTime


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UTCDateTime(), dict[str, Any]: JSON(), str: Text()}


# -- people --------------------------------------------------------------------------------------


class TeamRow(Base):
    __tablename__ = "teams"

    id: Mapped[str] = mapped_column(CODE, primary_key=True)  # a Team value
    name: Mapped[str] = mapped_column(String(100))


class AgentRow(Base):
    __tablename__ = "agents"

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    team_id: Mapped[str] = mapped_column(ForeignKey("teams.id"))
    state: Mapped[str] = mapped_column(CODE)
    state_since: Mapped[datetime | None]
    international_calling: Mapped[bool] = mapped_column(Boolean, default=False)


class AgentStateChangeRow(Base):
    """Append-only: the dashboard reconstructs who was in which state when from these rows."""

    __tablename__ = "agent_state_changes"
    __table_args__ = (Index("ix_agent_state_changes_agent_at", "agent_id", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    agent_id: Mapped[str] = mapped_column(ForeignKey("agents.id"))
    state: Mapped[str] = mapped_column(CODE)
    at: Mapped[datetime]


class ShiftRow(Base):
    __tablename__ = "shifts"
    __table_args__ = (
        Index("ix_shifts_agent_starts", "agent_id", "starts_at"),
        CheckConstraint("ends_at > starts_at", name="ends_after_start"),
    )

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    agent_id: Mapped[str] = mapped_column(ForeignKey("agents.id"))
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]


# -- customers -----------------------------------------------------------------------------------


class CustomerRow(Base):
    """The customer and the account facts the agent needs (zone, line of business, OB-PROOF).

    `name_key`, `name_rev_key` and `account_key` are derived search keys (see `keys.py`), written
    by the repository whenever the source columns are.
    """

    __tablename__ = "customers"
    __table_args__ = (
        Index("ix_customers_name_key", "name_key"),
        Index("ix_customers_name_rev_key", "name_rev_key"),
        Index("ix_customers_account_key", "account_key"),
    )

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    first_name: Mapped[str] = mapped_column(String(100))
    last_name: Mapped[str] = mapped_column(String(100))
    account_number: Mapped[str] = mapped_column(String(64))
    line_of_business: Mapped[str] = mapped_column(String(64))
    service_zone: Mapped[str | None] = mapped_column(String(64))
    service_zone_set_by: Mapped[str | None] = mapped_column(ID)
    service_zone_set_at: Mapped[datetime | None]
    last_bill_amount: Mapped[str | None] = mapped_column(String(32))
    device: Mapped[str | None] = mapped_column(String(200))
    last_care_call: Mapped[date | None] = mapped_column(Date)
    extra: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    name_key: Mapped[str] = mapped_column(key_string(240))
    name_rev_key: Mapped[str] = mapped_column(key_string(240))
    account_key: Mapped[str] = mapped_column(key_string(64))

    numbers: Mapped[list[CustomerNumberRow]] = relationship(
        order_by="CustomerNumberRow.position", lazy="raise", passive_deletes=True)
    consents: Mapped[list[ConsentRow]] = relationship(lazy="raise", passive_deletes=True)


class CustomerNumberRow(Base):
    __tablename__ = "customer_numbers"
    __table_args__ = (
        UniqueConstraint("customer_id", "position", name="uq_customer_numbers_position"),
        Index("ix_customer_numbers_e164_digits", "e164_digits"),
        Index("ix_customer_numbers_national_digits", "national_digits"),
        Index("ix_customer_numbers_reversed_digits", "reversed_digits"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    number: Mapped[str] = mapped_column(String(32))  # E.164, as dialled
    label: Mapped[str] = mapped_column(String(32))
    e164_digits: Mapped[str] = mapped_column(key_string(20))
    national_digits: Mapped[str] = mapped_column(key_string(20))
    reversed_digits: Mapped[str] = mapped_column(key_string(20))


class ConsentRow(Base):
    """Every consent ever recorded (who, when, what window); the newest one is in effect unless
    it was revoked."""

    __tablename__ = "consents"
    __table_args__ = (Index("ix_consents_customer_recorded", "customer_id", "recorded_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    window_start: Mapped[time] = mapped_column(Time)
    window_end: Mapped[time] = mapped_column(Time)
    recorded_by: Mapped[str] = mapped_column(ID)
    recorded_at: Mapped[datetime]
    note: Mapped[str] = mapped_column(Text, default="")
    revoked_by: Mapped[str | None] = mapped_column(ID)
    revoked_at: Mapped[datetime | None]


# -- calls, memos, tickets -----------------------------------------------------------------------


class CallRow(Base):
    """One row per attempt, written before the INVITE leaves; the memo lives in `memos`."""

    __tablename__ = "calls"
    __table_args__ = (
        Index("ix_calls_customer_dialed", "customer_id", "dialed_at"),
        Index("ix_calls_agent_state", "agent_id", "state"),
        Index("ix_calls_agent_dialed", "agent_id", "dialed_at"),
        Index("ix_calls_dialed_at", "dialed_at"),
        CheckConstraint("state <> 'closed' OR closed_at IS NOT NULL", name="closed_has_time"),
    )

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id"))
    agent_id: Mapped[str] = mapped_column(ForeignKey("agents.id"))
    number: Mapped[str] = mapped_column(String(32))
    dial_string: Mapped[str] = mapped_column(String(200))
    origin: Mapped[str] = mapped_column(CODE)
    reason: Mapped[str] = mapped_column(CODE)
    dialed_at: Mapped[datetime]
    pack_version: Mapped[str] = mapped_column(String(64))
    pack_checksum: Mapped[str] = mapped_column(String(128))
    verdicts: Mapped[dict[str, Any]] = mapped_column(JSON)
    state: Mapped[str] = mapped_column(CODE)
    outcome: Mapped[str | None] = mapped_column(CODE)
    sip_code: Mapped[int | None] = mapped_column(Integer)
    end_reason: Mapped[str] = mapped_column(Text)
    connected_at: Mapped[datetime | None]
    ended_at: Mapped[datetime | None]
    recording_notice_at: Mapped[datetime | None]
    verified_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    ticket_ref: Mapped[str] = mapped_column(String(64))

    memo: Mapped[MemoRow] = relationship(lazy="joined", innerjoin=True, passive_deletes=True)


class MemoRow(Base):
    """The memo of one call, in its own narrow table.

    Why not columns on `calls`: the dashboard aggregates millions of call rows and never reads memo
    text, so keeping the text out keeps those scans small; and a draft save (every pause in
    typing) touches only this row, never the call row and its four indexes.
    """

    __tablename__ = "memos"

    call_id: Mapped[str] = mapped_column(ForeignKey("calls.id", ondelete="CASCADE"),
                                         primary_key=True)
    reason: Mapped[str] = mapped_column(Text)
    ticket_numbers: Mapped[str] = mapped_column(Text)
    summary: Mapped[str] = mapped_column(Text)
    customer_response: Mapped[str] = mapped_column(Text)
    payment_topic: Mapped[str | None] = mapped_column(CODE)
    voicemail_left: Mapped[bool | None] = mapped_column(Boolean)
    no_voicemail_reason: Mapped[str] = mapped_column(Text)
    account_note: Mapped[str] = mapped_column(Text)
    ticket_findings: Mapped[str] = mapped_column(Text)
    draft_saved_at: Mapped[datetime | None]


class TicketRow(Base):
    """A local mirror of a ticket reference; the ticketing system itself is elsewhere."""

    __tablename__ = "tickets"

    ref: Mapped[str] = mapped_column(String(64), primary_key=True)
    customer_id: Mapped[str | None] = mapped_column(ForeignKey("customers.id"))
    created_at: Mapped[datetime]


class TicketUpdateRow(Base):
    __tablename__ = "ticket_updates"
    __table_args__ = (Index("ix_ticket_updates_ticket_at", "ticket_ref", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    ticket_ref: Mapped[str] = mapped_column(ForeignKey("tickets.ref"))
    record_id: Mapped[str | None] = mapped_column(ForeignKey("calls.id"))
    text: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime]


# -- notifications and commitments ---------------------------------------------------------------


class NotificationRow(Base):
    __tablename__ = "notifications"
    __table_args__ = (
        Index("ix_notifications_customer_template_sent", "customer_id", "template", "sent_at"),
    )

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id"))
    agent_id: Mapped[str] = mapped_column(ForeignKey("agents.id"))
    channel: Mapped[str] = mapped_column(CODE)
    template: Mapped[str] = mapped_column(String(64))
    destination: Mapped[str] = mapped_column(String(320))
    body: Mapped[str] = mapped_column(Text)
    sent_at: Mapped[datetime]
    delivered: Mapped[bool] = mapped_column(Boolean)
    detail: Mapped[str] = mapped_column(Text)


class CallbackRow(Base):
    __tablename__ = "callbacks"
    __table_args__ = (
        Index("ix_callbacks_owner_status_due", "owner_id", "status", "due_at"),
        Index("ix_callbacks_customer_status", "customer_id", "status"),
        Index("ix_callbacks_queue_status_due", "queue", "status", "due_at"),
        Index("ix_callbacks_status_due", "status", "due_at"),
    )

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id"))
    owner_id: Mapped[str] = mapped_column(ForeignKey("agents.id"))
    due_at: Mapped[datetime]
    reason: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(CODE)
    queue: Mapped[str | None] = mapped_column(String(64))
    call_id: Mapped[str | None] = mapped_column(ForeignKey("calls.id"))
    closed_at: Mapped[datetime | None]


# -- audit ---------------------------------------------------------------------------------------


class AuditRow(Base):
    """Append-only and hash-chained (see `chain.py`). Database triggers created by the migration
    refuse UPDATE and DELETE; the chain catches whoever drops the triggers first.

    The payload is kept as the exact canonical JSON text that was hashed, not as a JSON column,
    so no backend can reorder its keys under the hash.
    """

    __tablename__ = "audit_log"
    __table_args__ = (
        UniqueConstraint("hash", name="uq_audit_log_hash"),
        Index("ix_audit_log_record_id", "record_id"),
    )

    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    kind: Mapped[str] = mapped_column(String(64))
    record_id: Mapped[str] = mapped_column(ID)
    payload: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime]
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class AuditHeadRow(Base):
    """The chain's newest link (seq, hash), one row, moved only by a trigger on `audit_log`.

    Why a separate row: the chain alone cannot show that its newest entries were removed. The
    head names the last link that was ever written; a chain that ends before it has lost its
    tail. Its own trigger lets it move one link forward at a time and never back or away.
    """

    __tablename__ = "audit_head"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(BigInteger)
    hash: Mapped[str] = mapped_column(String(64))


# -- offline catch-up (see sync.py) --------------------------------------------------------------


class SyncOutboxRow(Base):
    """A desktop's writes waiting for the central database, in the order they were made.

    Used in the desktop's local SQLite only. A row is written in the same transaction as the
    local change it describes and deleted once the central database has committed it; `seq`
    never repeats (AUTOINCREMENT), so the central high-water mark stays meaningful. Rows the
    central database refused for good stay with state "rejected" and the reason.
    """

    __tablename__ = "sync_outbox"
    __table_args__ = (Index("ix_sync_outbox_state_seq", "state", "seq"),
                      {"sqlite_autoincrement": True})

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    op: Mapped[str] = mapped_column(String(64))
    args: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(CODE)
    error: Mapped[str] = mapped_column(Text, default="")


class SyncMetaRow(Base):
    """Local settings of the sync: the desktop database's origin id, made once when first used."""

    __tablename__ = "sync_meta"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class SyncOriginRow(Base):
    """Central: per desktop database (origin), the last outbox seq applied. Updated in the same
    transaction as the replayed writes, which is what makes a replay exactly-once.

    `audit_seq`/`audit_hash` are the desktop's local audit head as of its last send: the
    desktop's chain anchored where the desktop's own user cannot reach, so removing the tail
    of the local chain (and rewinding its local head) is still found by `audit verify`.
    """

    __tablename__ = "sync_origins"

    origin: Mapped[str] = mapped_column(ID, primary_key=True)
    last_seq: Mapped[int] = mapped_column(BigInteger)
    audit_seq: Mapped[int] = mapped_column(BigInteger)
    audit_hash: Mapped[str] = mapped_column(String(64))


# -- database logins (see roles.py) --------------------------------------------------------------


class LoginAgentRow(Base):
    """Which agent a PostgreSQL login writes as: row-level security lets an agent login insert
    and update only its own call records."""

    __tablename__ = "login_agents"

    login: Mapped[str] = mapped_column(String(63), primary_key=True)
    agent_id: Mapped[str] = mapped_column(ForeignKey("agents.id"))


class LoginTeamRow(Base):
    """Which teams a supervisor login may read."""

    __tablename__ = "login_teams"

    login: Mapped[str] = mapped_column(String(63), primary_key=True)
    team_id: Mapped[str] = mapped_column(ForeignKey("teams.id"), primary_key=True)
