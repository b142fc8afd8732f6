"""Initial records schema: people, customers, calls and memos, tickets, notifications,
callbacks, and the append-only audit log (with triggers refusing UPDATE and DELETE).

Written from an autogenerate draft and reviewed by hand. It uses plain SQLAlchemy types, never
the application's, so it keeps meaning the same thing when `app.storage.models` moves on.

Revision ID: 0001
Revises:
Create Date: 2026-11-21
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _id() -> sa.String:
    return sa.String(length=64)


def _code() -> sa.String:
    return sa.String(length=32)


def _utc() -> sa.DateTime:
    # UTCDateTime's storage: timestamptz on PostgreSQL, naive UTC text on SQLite.
    return sa.DateTime(timezone=True)


def _key(length: int) -> sa.types.TypeEngine[str]:
    # Search keys compare byte-wise (prefix ranges), whatever the database's locale.
    return sa.String(length=length).with_variant(sa.String(length=length, collation="C"),
                                                  "postgresql")


_SQLITE_AUDIT_TRIGGERS = (
    """CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
       BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END""",
    """CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
       BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END""",
)
_POSTGRESQL_AUDIT_TRIGGERS = (
    """CREATE FUNCTION callwise_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN RAISE EXCEPTION 'audit_log is append-only'; END $$""",
    """CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
       FOR EACH ROW EXECUTE FUNCTION callwise_audit_append_only()""",
    """CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
       FOR EACH STATEMENT EXECUTE FUNCTION callwise_audit_append_only()""",
)


def upgrade() -> None:
    # -- people ---------------------------------------------------------------------------------
    op.create_table(
        "teams",
        sa.Column("id", _code(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_teams")),
    )
    op.create_table(
        "agents",
        sa.Column("id", _id(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("team_id", _code(), nullable=False),
        sa.Column("state", _code(), nullable=False),
        sa.Column("state_since", _utc(), nullable=True),
        sa.Column("international_calling", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["team_id"], ["teams.id"], name=op.f("fk_agents_team_id_teams")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agents")),
    )
    op.create_table(
        "agent_state_changes",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("agent_id", _id(), nullable=False),
        sa.Column("state", _code(), nullable=False),
        sa.Column("at", _utc(), nullable=False),
        sa.ForeignKeyConstraint(["agent_id"], ["agents.id"],
                                name=op.f("fk_agent_state_changes_agent_id_agents")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agent_state_changes")),
    )
    op.create_index("ix_agent_state_changes_agent_at", "agent_state_changes", ["agent_id", "at"])
    op.create_table(
        "shifts",
        sa.Column("id", _id(), nullable=False),
        sa.Column("agent_id", _id(), nullable=False),
        sa.Column("starts_at", _utc(), nullable=False),
        sa.Column("ends_at", _utc(), nullable=False),
        sa.CheckConstraint("ends_at > starts_at", name=op.f("ck_shifts_ends_after_start")),
        sa.ForeignKeyConstraint(["agent_id"], ["agents.id"],
                                name=op.f("fk_shifts_agent_id_agents")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shifts")),
    )
    op.create_index("ix_shifts_agent_starts", "shifts", ["agent_id", "starts_at"])

    # -- customers ------------------------------------------------------------------------------
    op.create_table(
        "customers",
        sa.Column("id", _id(), nullable=False),
        sa.Column("first_name", sa.String(length=100), nullable=False),
        sa.Column("last_name", sa.String(length=100), nullable=False),
        sa.Column("account_number", sa.String(length=64), nullable=False),
        sa.Column("line_of_business", sa.String(length=64), nullable=False),
        sa.Column("service_zone", sa.String(length=64), nullable=True),
        sa.Column("service_zone_set_by", _id(), nullable=True),
        sa.Column("service_zone_set_at", _utc(), nullable=True),
        sa.Column("last_bill_amount", sa.String(length=32), nullable=True),
        sa.Column("device", sa.String(length=200), nullable=True),
        sa.Column("last_care_call", sa.Date(), nullable=True),
        sa.Column("extra", sa.JSON(), nullable=False),
        sa.Column("name_key", _key(240), nullable=False),
        sa.Column("name_rev_key", _key(240), nullable=False),
        sa.Column("account_key", _key(64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_customers")),
    )
    op.create_index("ix_customers_name_key", "customers", ["name_key"])
    op.create_index("ix_customers_name_rev_key", "customers", ["name_rev_key"])
    op.create_index("ix_customers_account_key", "customers", ["account_key"])
    op.create_table(
        "customer_numbers",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("customer_id", _id(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=32), nullable=False),
        sa.Column("label", sa.String(length=32), nullable=False),
        sa.Column("e164_digits", _key(20), nullable=False),
        sa.Column("national_digits", _key(20), nullable=False),
        sa.Column("reversed_digits", _key(20), nullable=False),
        sa.ForeignKeyConstraint(["customer_id"], ["customers.id"], ondelete="CASCADE",
                                name=op.f("fk_customer_numbers_customer_id_customers")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_customer_numbers")),
        sa.UniqueConstraint("customer_id", "position", name="uq_customer_numbers_position"),
    )
    op.create_index("ix_customer_numbers_e164_digits", "customer_numbers", ["e164_digits"])
    op.create_index("ix_customer_numbers_national_digits", "customer_numbers",
                    ["national_digits"])
    op.create_index("ix_customer_numbers_reversed_digits", "customer_numbers",
                    ["reversed_digits"])
    op.create_table(
        "consents",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("customer_id", _id(), nullable=False),
        sa.Column("window_start", sa.Time(), nullable=False),
        sa.Column("window_end", sa.Time(), nullable=False),
        sa.Column("recorded_by", _id(), nullable=False),
        sa.Column("recorded_at", _utc(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("revoked_by", _id(), nullable=True),
        sa.Column("revoked_at", _utc(), nullable=True),
        sa.ForeignKeyConstraint(["customer_id"], ["customers.id"], ondelete="CASCADE",
                                name=op.f("fk_consents_customer_id_customers")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consents")),
    )
    op.create_index("ix_consents_customer_recorded", "consents", ["customer_id", "recorded_at"])

    # -- calls, memos, tickets ------------------------------------------------------------------
    op.create_table(
        "calls",
        sa.Column("id", _id(), nullable=False),
        sa.Column("customer_id", _id(), nullable=False),
        sa.Column("agent_id", _id(), nullable=False),
        sa.Column("number", sa.String(length=32), nullable=False),
        sa.Column("dial_string", sa.String(length=200), nullable=False),
        sa.Column("origin", _code(), nullable=False),
        sa.Column("reason", _code(), nullable=False),
        sa.Column("dialed_at", _utc(), nullable=False),
        sa.Column("pack_version", sa.String(length=64), nullable=False),
        sa.Column("pack_checksum", sa.String(length=128), nullable=False),
        sa.Column("verdicts", sa.JSON(), nullable=False),
        sa.Column("state", _code(), nullable=False),
        sa.Column("outcome", _code(), nullable=True),
        sa.Column("sip_code", sa.Integer(), nullable=True),
        sa.Column("end_reason", sa.Text(), nullable=False),
        sa.Column("connected_at", _utc(), nullable=True),
        sa.Column("ended_at", _utc(), nullable=True),
        sa.Column("recording_notice_at", _utc(), nullable=True),
        sa.Column("verified_at", _utc(), nullable=True),
        sa.Column("closed_at", _utc(), nullable=True),
        sa.Column("ticket_ref", sa.String(length=64), nullable=False),
        sa.CheckConstraint("state <> 'closed' OR closed_at IS NOT NULL",
                           name=op.f("ck_calls_closed_has_time")),
        sa.ForeignKeyConstraint(["agent_id"], ["agents.id"], name=op.f("fk_calls_agent_id_agents")),
        sa.ForeignKeyConstraint(["customer_id"], ["customers.id"],
                                name=op.f("fk_calls_customer_id_customers")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_calls")),
    )
    op.create_index("ix_calls_customer_dialed", "calls", ["customer_id", "dialed_at"])
    op.create_index("ix_calls_agent_state", "calls", ["agent_id", "state"])
    op.create_index("ix_calls_agent_dialed", "calls", ["agent_id", "dialed_at"])
    op.create_index("ix_calls_dialed_at", "calls", ["dialed_at"])
    op.create_table(
        "memos",
        sa.Column("call_id", _id(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("ticket_numbers", sa.Text(), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("customer_response", sa.Text(), nullable=False),
        sa.Column("payment_topic", _code(), nullable=True),
        sa.Column("voicemail_left", sa.Boolean(), nullable=True),
        sa.Column("no_voicemail_reason", sa.Text(), nullable=False),
        sa.Column("account_note", sa.Text(), nullable=False),
        sa.Column("ticket_findings", sa.Text(), nullable=False),
        sa.Column("draft_saved_at", _utc(), nullable=True),
        sa.ForeignKeyConstraint(["call_id"], ["calls.id"], ondelete="CASCADE",
                                name=op.f("fk_memos_call_id_calls")),
        sa.PrimaryKeyConstraint("call_id", name=op.f("pk_memos")),
    )
    op.create_table(
        "tickets",
        sa.Column("ref", sa.String(length=64), nullable=False),
        sa.Column("customer_id", _id(), nullable=True),
        sa.Column("created_at", _utc(), nullable=False),
        sa.ForeignKeyConstraint(["customer_id"], ["customers.id"],
                                name=op.f("fk_tickets_customer_id_customers")),
        sa.PrimaryKeyConstraint("ref", name=op.f("pk_tickets")),
    )
    op.create_table(
        "ticket_updates",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("ticket_ref", sa.String(length=64), nullable=False),
        sa.Column("record_id", _id(), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("at", _utc(), nullable=False),
        sa.ForeignKeyConstraint(["record_id"], ["calls.id"],
                                name=op.f("fk_ticket_updates_record_id_calls")),
        sa.ForeignKeyConstraint(["ticket_ref"], ["tickets.ref"],
                                name=op.f("fk_ticket_updates_ticket_ref_tickets")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ticket_updates")),
    )
    op.create_index("ix_ticket_updates_ticket_at", "ticket_updates", ["ticket_ref", "at"])

    # -- notifications and commitments ----------------------------------------------------------
    op.create_table(
        "notifications",
        sa.Column("id", _id(), nullable=False),
        sa.Column("customer_id", _id(), nullable=False),
        sa.Column("agent_id", _id(), nullable=False),
        sa.Column("channel", _code(), nullable=False),
        sa.Column("template", sa.String(length=64), nullable=False),
        sa.Column("destination", sa.String(length=320), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("sent_at", _utc(), nullable=False),
        sa.Column("delivered", sa.Boolean(), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["agent_id"], ["agents.id"],
                                name=op.f("fk_notifications_agent_id_agents")),
        sa.ForeignKeyConstraint(["customer_id"], ["customers.id"],
                                name=op.f("fk_notifications_customer_id_customers")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notifications")),
    )
    op.create_index("ix_notifications_customer_template_sent", "notifications",
                    ["customer_id", "template", "sent_at"])
    op.create_table(
        "callbacks",
        sa.Column("id", _id(), nullable=False),
        sa.Column("customer_id", _id(), nullable=False),
        sa.Column("owner_id", _id(), nullable=False),
        sa.Column("due_at", _utc(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("created_at", _utc(), nullable=False),
        sa.Column("status", _code(), nullable=False),
        sa.Column("queue", sa.String(length=64), nullable=True),
        sa.Column("call_id", _id(), nullable=True),
        sa.Column("closed_at", _utc(), nullable=True),
        sa.ForeignKeyConstraint(["call_id"], ["calls.id"], name=op.f("fk_callbacks_call_id_calls")),
        sa.ForeignKeyConstraint(["customer_id"], ["customers.id"],
                                name=op.f("fk_callbacks_customer_id_customers")),
        sa.ForeignKeyConstraint(["owner_id"], ["agents.id"],
                                name=op.f("fk_callbacks_owner_id_agents")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_callbacks")),
    )
    op.create_index("ix_callbacks_owner_status_due", "callbacks", ["owner_id", "status", "due_at"])
    op.create_index("ix_callbacks_customer_status", "callbacks", ["customer_id", "status"])
    op.create_index("ix_callbacks_queue_status_due", "callbacks", ["queue", "status", "due_at"])
    op.create_index("ix_callbacks_status_due", "callbacks", ["status", "due_at"])

    # -- audit ----------------------------------------------------------------------------------
    op.create_table(
        "audit_log",
        sa.Column("seq", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column("record_id", _id(), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("at", _utc(), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_audit_log")),
        sa.UniqueConstraint("hash", name="uq_audit_log_hash"),
    )
    op.create_index("ix_audit_log_record_id", "audit_log", ["record_id"])
    dialect = op.get_bind().dialect.name
    for statement in (_POSTGRESQL_AUDIT_TRIGGERS if dialect == "postgresql"
                      else _SQLITE_AUDIT_TRIGGERS):
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_truncate ON audit_log")
        op.execute("DROP TRIGGER IF EXISTS audit_log_append_only ON audit_log")
        op.execute("DROP FUNCTION IF EXISTS callwise_audit_append_only()")
    else:
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_delete")
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_update")
    for table in ("audit_log", "callbacks", "notifications", "ticket_updates", "tickets",
                  "memos", "calls", "consents", "customer_numbers", "customers", "shifts",
                  "agent_state_changes", "agents", "teams"):
        op.drop_table(table)  # indexes go with their tables
