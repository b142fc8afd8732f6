"""Offline catch-up, the audit chain's head, closed records final in the database, login maps.

- `audit_head`: one row naming the newest audit link, moved by a trigger on every insert into
  `audit_log` and only ever one link forward; it is what shows that the tail was removed.
- `sync_outbox` and `sync_meta` (a desktop's local SQLite) and `sync_origins` (the central
  database): the exactly-once replay of writes made while the central database was away; the
  central row also keeps the desktop's own audit head, so a desktop's removed tail shows too.
- Triggers refuse to UPDATE or DELETE a closed call record or its memo, for every database user:
  the repository already refuses, this makes it true for anything else that connects too.
- `login_agents` and `login_teams`: which agent a PostgreSQL login writes as and which teams a
  supervisor login reads, for the row-level security `callwise db roles` installs.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_GENESIS = "0" * 64

_SQLITE_TRIGGERS = (
    """CREATE TRIGGER audit_log_advance_head AFTER INSERT ON audit_log
       BEGIN UPDATE audit_head SET seq = NEW.seq, hash = NEW.hash WHERE id = 1; END""",
    """CREATE TRIGGER audit_head_forward_only BEFORE UPDATE ON audit_head
       WHEN NEW.id <> OLD.id OR NEW.seq <> OLD.seq + 1
       BEGIN SELECT RAISE(ABORT, 'audit_head only moves one link forward'); END""",
    """CREATE TRIGGER audit_head_no_delete BEFORE DELETE ON audit_head
       BEGIN SELECT RAISE(ABORT, 'audit_head only moves one link forward'); END""",
    """CREATE TRIGGER calls_closed_no_update BEFORE UPDATE ON calls WHEN OLD.state = 'closed'
       BEGIN SELECT RAISE(ABORT, 'a closed call record is final'); END""",
    """CREATE TRIGGER calls_closed_no_delete BEFORE DELETE ON calls WHEN OLD.state = 'closed'
       BEGIN SELECT RAISE(ABORT, 'a closed call record is final'); END""",
    """CREATE TRIGGER memos_closed_no_update BEFORE UPDATE ON memos
       WHEN (SELECT state FROM calls WHERE id = OLD.call_id) = 'closed'
       BEGIN SELECT RAISE(ABORT, 'a closed call record is final'); END""",
    """CREATE TRIGGER memos_closed_no_delete BEFORE DELETE ON memos
       WHEN (SELECT state FROM calls WHERE id = OLD.call_id) = 'closed'
       BEGIN SELECT RAISE(ABORT, 'a closed call record is final'); END""",
)
_SQLITE_DROPS = ("audit_log_advance_head", "audit_head_forward_only", "audit_head_no_delete",
                 "calls_closed_no_update", "calls_closed_no_delete", "memos_closed_no_update",
                 "memos_closed_no_delete")


def _postgresql_triggers(schema: str) -> tuple[str, ...]:
    # restrict_violation (23001) is an integrity error, so the app reports a Conflict, not a crash.
    return (
        # SECURITY DEFINER: agent logins may insert audit entries but never touch the head
        # themselves; the function runs as its owner (the migration owner) to move it.
        f"""CREATE FUNCTION callwise_audit_advance_head() RETURNS trigger LANGUAGE plpgsql
           SECURITY DEFINER SET search_path = {schema}, pg_temp AS $$
           BEGIN UPDATE audit_head SET seq = NEW.seq, hash = NEW.hash WHERE id = 1;
                 RETURN NULL; END $$""",
        """CREATE TRIGGER audit_log_advance_head AFTER INSERT ON audit_log
           FOR EACH ROW EXECUTE FUNCTION callwise_audit_advance_head()""",
        """CREATE FUNCTION callwise_audit_head_guard() RETURNS trigger LANGUAGE plpgsql AS $$
           BEGIN
             IF TG_OP = 'UPDATE' AND NEW.id = OLD.id AND NEW.seq = OLD.seq + 1 THEN
               RETURN NEW;
             END IF;
             RAISE EXCEPTION 'audit_head only moves one link forward'
               USING ERRCODE = 'restrict_violation';
           END $$""",
        """CREATE TRIGGER audit_head_guard BEFORE UPDATE OR DELETE ON audit_head
           FOR EACH ROW EXECUTE FUNCTION callwise_audit_head_guard()""",
        """CREATE TRIGGER audit_head_no_truncate BEFORE TRUNCATE ON audit_head
           FOR EACH STATEMENT EXECUTE FUNCTION callwise_audit_append_only()""",
        """CREATE FUNCTION callwise_closed_call_is_final() RETURNS trigger LANGUAGE plpgsql AS $$
           BEGIN
             IF OLD.state = 'closed' THEN
               RAISE EXCEPTION 'a closed call record is final (%)', OLD.id
                 USING ERRCODE = 'restrict_violation';
             END IF;
             IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
             RETURN NEW;
           END $$""",
        """CREATE TRIGGER calls_closed_is_final BEFORE UPDATE OR DELETE ON calls
           FOR EACH ROW EXECUTE FUNCTION callwise_closed_call_is_final()""",
        """CREATE FUNCTION callwise_closed_memo_is_final() RETURNS trigger LANGUAGE plpgsql AS $$
           BEGIN
             IF EXISTS (SELECT 1 FROM calls WHERE id = OLD.call_id AND state = 'closed') THEN
               RAISE EXCEPTION 'a closed call record is final (%)', OLD.call_id
                 USING ERRCODE = 'restrict_violation';
             END IF;
             IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
             RETURN NEW;
           END $$""",
        """CREATE TRIGGER memos_closed_is_final BEFORE UPDATE OR DELETE ON memos
           FOR EACH ROW EXECUTE FUNCTION callwise_closed_memo_is_final()""",
    )


def upgrade() -> None:
    op.create_table(
        "audit_head",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.CheckConstraint("id = 1", name=op.f("ck_audit_head_single_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_head")),
    )
    # An existing chain keeps its head: the newest entry already written.
    op.execute(sa.text(
        "INSERT INTO audit_head (id, seq, hash) SELECT 1, "
        "COALESCE((SELECT seq FROM audit_log ORDER BY seq DESC LIMIT 1), 0), "
        "COALESCE((SELECT hash FROM audit_log ORDER BY seq DESC LIMIT 1), :genesis)")
        .bindparams(genesis=_GENESIS))
    op.create_table(
        "sync_outbox",
        sa.Column("seq", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("op", sa.String(length=64), nullable=False),
        sa.Column("args", sa.Text(), nullable=False),
        sa.Column("state", sa.String(length=32), nullable=False),
        sa.Column("error", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_sync_outbox")),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_sync_outbox_state_seq", "sync_outbox", ["state", "seq"])
    op.create_table(
        "sync_meta",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_sync_meta")),
    )
    op.create_table(
        "sync_origins",
        sa.Column("origin", sa.String(length=64), nullable=False),
        sa.Column("last_seq", sa.BigInteger(), nullable=False),
        sa.Column("audit_seq", sa.BigInteger(), nullable=False),
        sa.Column("audit_hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("origin", name=op.f("pk_sync_origins")),
    )
    op.create_table(
        "login_agents",
        sa.Column("login", sa.String(length=63), nullable=False),
        sa.Column("agent_id", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(["agent_id"], ["agents.id"],
                                name=op.f("fk_login_agents_agent_id_agents")),
        sa.PrimaryKeyConstraint("login", name=op.f("pk_login_agents")),
    )
    op.create_table(
        "login_teams",
        sa.Column("login", sa.String(length=63), nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(["team_id"], ["teams.id"],
                                name=op.f("fk_login_teams_team_id_teams")),
        sa.PrimaryKeyConstraint("login", "team_id", name=op.f("pk_login_teams")),
    )
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        schema = bind.execute(sa.text("SELECT quote_ident(current_schema())")).scalar_one()
        statements: tuple[str, ...] = _postgresql_triggers(schema)
    else:
        statements = _SQLITE_TRIGGERS
    for statement in statements:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for trigger, table in (("memos_closed_is_final", "memos"),
                               ("calls_closed_is_final", "calls"),
                               ("audit_head_no_truncate", "audit_head"),
                               ("audit_head_guard", "audit_head"),
                               ("audit_log_advance_head", "audit_log")):
            op.execute(f"DROP TRIGGER IF EXISTS {trigger} ON {table}")
        for function in ("callwise_closed_memo_is_final", "callwise_closed_call_is_final",
                         "callwise_audit_head_guard", "callwise_audit_advance_head"):
            op.execute(f"DROP FUNCTION IF EXISTS {function}()")
    else:
        for trigger in _SQLITE_DROPS:
            op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
    for table in ("login_teams", "login_agents", "sync_origins", "sync_meta", "sync_outbox",
                  "audit_head"):
        op.drop_table(table)
