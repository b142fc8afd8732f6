"""Least-privilege PostgreSQL roles for the shared records database (`callwise db roles`).

Three group roles, which logins join (`callwise db add-login`):

- `callwise_owner` owns the database and every Callwise object; its logins run the migrations
  (each owner login switches to the group role at login, so what it creates is the group's).
- `callwise_agent`: reads what the desk needs (customers, every agent's attempts for the
  cross-agent counts); inserts its OWN call records, memos, state changes and notifications and
  updates its own open records (row-level security, keyed by `login_agents`); appends to the
  audit log. No DELETE or TRUNCATE anywhere, no DDL, no UPDATE of the audit log or its head,
  and the triggers of migration 0002 refuse any change to a closed record whoever asks.
- `callwise_supervisor`: reads everything about the agents of its teams (`login_teams`), and
  the shared customer data; writes nothing.

Everything here is idempotent: `apply_grants` revokes the two groups' table rights and drops
the Callwise policies before granting and creating them again, so running it after every
upgrade (which `callwise db upgrade` does) leaves exactly what this file says.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from psycopg import sql
from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import DBAPIError

from app.ports.store import StoreError
from app.storage.engine import create_store_engine, current_revision, upgrade_to_head
from app.storage.errors import translate
from app.storage.models import Base

OWNER = "callwise_owner"
AGENT = "callwise_agent"
SUPERVISOR = "callwise_supervisor"
GROUPS = (OWNER, AGENT, SUPERVISOR)
ROLE_KINDS = {"owner": OWNER, "agent": AGENT, "supervisor": SUPERVISOR}

_ME = "(SELECT la.agent_id FROM login_agents la WHERE la.login = session_user)"
_MY_TEAMS = "(SELECT lt.team_id FROM login_teams lt WHERE lt.login = session_user)"
_VISIBLE_AGENTS = "(SELECT a.id FROM agents a)"  # filtered by the agents policy of the reader
_VISIBLE_CALLS = "(SELECT c.id FROM calls c)"  # filtered by the calls policy of the reader

# table -> (agent privileges, supervisor privileges); column lists limit UPDATE.
_AGENT_GRANTS: dict[str, str] = {
    "teams": "SELECT",
    "agents": "SELECT, UPDATE (state, state_since)",
    "agent_state_changes": "SELECT, INSERT",
    "shifts": "SELECT",
    "customers": "SELECT, UPDATE (service_zone, service_zone_set_by, service_zone_set_at)",
    "customer_numbers": "SELECT",
    "consents": "SELECT, INSERT, UPDATE (revoked_by, revoked_at)",
    "calls": "SELECT, INSERT, UPDATE",
    "memos": "SELECT, INSERT, UPDATE",
    "tickets": "SELECT, INSERT",
    "ticket_updates": "SELECT, INSERT",
    "notifications": "SELECT, INSERT",
    "callbacks": "SELECT, INSERT, UPDATE (status, closed_at, owner_id, queue)",
    "audit_log": "SELECT, INSERT",
    "audit_head": "SELECT",
    "sync_origins": "SELECT, INSERT, UPDATE (last_seq, audit_seq, audit_hash)",
    "login_agents": "SELECT",
    "login_teams": "SELECT",
    "alembic_version": "SELECT",
}
_SUPERVISOR_READS = ("teams", "agents", "agent_state_changes", "shifts", "customers",
                     "customer_numbers", "consents", "calls", "memos", "tickets",
                     "ticket_updates", "notifications", "callbacks", "login_teams",
                     "alembic_version")


@dataclass(frozen=True)
class Policy:
    table: str
    name: str
    command: str  # SELECT, INSERT, UPDATE
    role: str
    using: str | None = None
    check: str | None = None


POLICIES: tuple[Policy, ...] = (
    # calls: everyone's attempts are read (OB-ATTEMPTS counts across agents); own ones written.
    Policy("calls", "callwise_agent_read", "SELECT", AGENT, "true"),
    Policy("calls", "callwise_agent_insert", "INSERT", AGENT, check=f"agent_id = {_ME}"),
    Policy("calls", "callwise_agent_update", "UPDATE", AGENT, f"agent_id = {_ME}",
           f"agent_id = {_ME}"),
    Policy("calls", "callwise_supervisor_read", "SELECT", SUPERVISOR,
           f"agent_id IN {_VISIBLE_AGENTS}"),
    Policy("memos", "callwise_agent_read", "SELECT", AGENT, "true"),
    Policy("memos", "callwise_agent_insert", "INSERT", AGENT,
           check=f"call_id IN (SELECT c.id FROM calls c WHERE c.agent_id = {_ME})"),
    Policy("memos", "callwise_agent_update", "UPDATE", AGENT,
           f"call_id IN (SELECT c.id FROM calls c WHERE c.agent_id = {_ME})",
           f"call_id IN (SELECT c.id FROM calls c WHERE c.agent_id = {_ME})"),
    Policy("memos", "callwise_supervisor_read", "SELECT", SUPERVISOR,
           f"call_id IN {_VISIBLE_CALLS}"),
    Policy("agents", "callwise_agent_read", "SELECT", AGENT, "true"),
    Policy("agents", "callwise_agent_update", "UPDATE", AGENT, f"id = {_ME}", f"id = {_ME}"),
    Policy("agents", "callwise_supervisor_read", "SELECT", SUPERVISOR,
           f"team_id IN {_MY_TEAMS}"),
    Policy("agent_state_changes", "callwise_agent_read", "SELECT", AGENT, "true"),
    Policy("agent_state_changes", "callwise_agent_insert", "INSERT", AGENT,
           check=f"agent_id = {_ME}"),
    Policy("agent_state_changes", "callwise_supervisor_read", "SELECT", SUPERVISOR,
           f"agent_id IN {_VISIBLE_AGENTS}"),
    Policy("shifts", "callwise_agent_read", "SELECT", AGENT, "true"),
    Policy("shifts", "callwise_supervisor_read", "SELECT", SUPERVISOR,
           f"agent_id IN {_VISIBLE_AGENTS}"),
    Policy("notifications", "callwise_agent_read", "SELECT", AGENT, "true"),
    Policy("notifications", "callwise_agent_insert", "INSERT", AGENT,
           check=f"agent_id = {_ME}"),
    Policy("notifications", "callwise_supervisor_read", "SELECT", SUPERVISOR,
           f"agent_id IN {_VISIBLE_AGENTS}"),
    # Callbacks are handed between agents and queues, so any agent may write them.
    Policy("callbacks", "callwise_agent_read", "SELECT", AGENT, "true"),
    Policy("callbacks", "callwise_agent_insert", "INSERT", AGENT, check="true"),
    Policy("callbacks", "callwise_agent_update", "UPDATE", AGENT, "true", "true"),
    Policy("callbacks", "callwise_supervisor_read", "SELECT", SUPERVISOR,
           f"owner_id IN {_VISIBLE_AGENTS}"),
    Policy("ticket_updates", "callwise_agent_read", "SELECT", AGENT, "true"),
    Policy("ticket_updates", "callwise_agent_insert", "INSERT", AGENT,
           check=f"record_id IS NULL OR record_id IN "
                 f"(SELECT c.id FROM calls c WHERE c.agent_id = {_ME})"),
    Policy("ticket_updates", "callwise_supervisor_read", "SELECT", SUPERVISOR,
           f"record_id IN {_VISIBLE_CALLS}"),
)
_RLS_TABLES = tuple(dict.fromkeys(p.table for p in POLICIES))


def _exec(conn: Connection, statement: sql.Composable) -> None:
    raw = conn.connection.driver_connection
    conn.exec_driver_sql(statement.as_string(raw))


def existing_groups(conn: Connection) -> set[str]:
    rows = conn.execute(text("SELECT rolname FROM pg_roles WHERE rolname = ANY(:names)"),
                        {"names": list(GROUPS)})
    return {r[0] for r in rows}


def create_roles(conn: Connection) -> list[str]:
    """Creates the missing group roles (needs CREATEROLE). Returns the roles created."""
    _require_postgresql(conn)
    made = []
    have = existing_groups(conn)
    for role in GROUPS:
        if role not in have:
            _exec(conn, sql.SQL("CREATE ROLE {} NOLOGIN").format(sql.Identifier(role)))
            made.append(role)
    return made


def is_superuser(conn: Connection) -> bool:
    return bool(conn.execute(text("SELECT rolsuper FROM pg_roles WHERE rolname = current_user"))
                .scalar())


def hand_to_owner(conn: Connection) -> None:
    """Hands the current database and every Callwise object in it to `callwise_owner` (run as
    a superuser: objects a superuser migrated belong to the superuser until then)."""
    _require_postgresql(conn)
    database = conn.execute(text("SELECT current_database()")).scalar_one()
    _exec(conn, sql.SQL("ALTER DATABASE {} OWNER TO {}").format(sql.Identifier(database),
                                                                sql.Identifier(OWNER)))
    schema = conn.execute(text("SELECT current_schema()")).scalar_one()
    for table in _tables(conn):  # serial sequences follow their tables
        _exec(conn, sql.SQL("ALTER TABLE {}.{} OWNER TO {}").format(
            sql.Identifier(schema), sql.Identifier(table), sql.Identifier(OWNER)))
    functions = conn.execute(text(
        "SELECT p.oid::regprocedure::text FROM pg_proc p JOIN pg_namespace n "
        "ON n.oid = p.pronamespace WHERE n.nspname = current_schema() "
        "AND p.proname LIKE 'callwise\\_%'")).scalars().all()
    for signature in functions:
        _exec(conn, sql.SQL("ALTER FUNCTION {} OWNER TO {}").format(
            sql.SQL(signature), sql.Identifier(OWNER)))


def _tables(conn: Connection) -> list[str]:
    present = set(conn.execute(text(
        "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")).scalars())
    wanted = [*Base.metadata.tables, "alembic_version"]
    return [t for t in wanted if t in present]


def apply_grants(conn: Connection) -> None:
    """Grants and row-level security for the agent and supervisor groups (as the owner)."""
    _require_postgresql(conn)
    database = conn.execute(text("SELECT current_database()")).scalar_one()
    schema = conn.execute(text("SELECT current_schema()")).scalar_one()
    groups = sql.SQL(", ").join([sql.Identifier(AGENT), sql.Identifier(SUPERVISOR)])
    _exec(conn, sql.SQL("REVOKE ALL ON DATABASE {} FROM PUBLIC").format(
        sql.Identifier(database)))
    _exec(conn, sql.SQL("GRANT CONNECT ON DATABASE {} TO {}").format(
        sql.Identifier(database), groups))
    _exec(conn, sql.SQL("REVOKE CREATE ON SCHEMA {} FROM PUBLIC").format(sql.Identifier(schema)))
    _exec(conn, sql.SQL("GRANT USAGE ON SCHEMA {} TO {}").format(sql.Identifier(schema), groups))
    tables = _tables(conn)
    for table in tables:
        name = sql.Identifier(schema, table)
        _exec(conn, sql.SQL("REVOKE ALL ON {} FROM PUBLIC, {}").format(name, groups))
        if table in _AGENT_GRANTS:
            _exec(conn, sql.SQL("GRANT " + _AGENT_GRANTS[table] + " ON {} TO {}").format(
                name, sql.Identifier(AGENT)))
        if table in _SUPERVISOR_READS:
            _exec(conn, sql.SQL("GRANT SELECT ON {} TO {}").format(
                name, sql.Identifier(SUPERVISOR)))
    _exec(conn, sql.SQL("REVOKE ALL ON ALL SEQUENCES IN SCHEMA {} FROM PUBLIC, {}").format(
        sql.Identifier(schema), groups))
    _exec(conn, sql.SQL("GRANT USAGE ON ALL SEQUENCES IN SCHEMA {} TO {}").format(
        sql.Identifier(schema), sql.Identifier(AGENT)))
    for table in _RLS_TABLES:
        if table not in tables:
            continue
        name = sql.Identifier(schema, table)
        existing = conn.execute(text(
            "SELECT policyname FROM pg_policies WHERE schemaname = current_schema() "
            "AND tablename = :t AND policyname LIKE 'callwise\\_%'"), {"t": table}).scalars()
        for policy_name in list(existing):
            _exec(conn, sql.SQL("DROP POLICY {} ON {}").format(sql.Identifier(policy_name),
                                                                 name))
        _exec(conn, sql.SQL("ALTER TABLE {} ENABLE ROW LEVEL SECURITY").format(name))
    for policy in POLICIES:
        if policy.table not in tables:
            continue
        head = sql.SQL("CREATE POLICY {} ON {} FOR " + policy.command + " TO {}")
        parts: list[sql.Composable] = [head.format(
            sql.Identifier(policy.name), sql.Identifier(schema, policy.table),
            sql.Identifier(policy.role))]
        if policy.using is not None:
            parts.append(sql.SQL("USING (" + policy.using + ")"))
        if policy.check is not None:
            parts.append(sql.SQL("WITH CHECK (" + policy.check + ")"))
        _exec(conn, sql.SQL(" ").join(parts))


def add_login(conn: Connection, login: str, password: str, kind: str, *,
              agent_id: str | None = None, teams: Iterable[str] = ()) -> None:
    """A login role in one group, with its password (stored by the server as SCRAM), and for
    agents and supervisors the row that says whose records it writes or which teams it reads."""
    _require_postgresql(conn)
    group = ROLE_KINDS[kind]
    team_list = list(teams)
    if kind == "agent" and not agent_id:
        raise ValueError("an agent login needs the agent id it writes as (--agent)")
    if kind == "supervisor" and not team_list:
        raise ValueError("a supervisor login needs at least one team (--team)")
    if not password:
        raise ValueError("a login needs a password")
    if agent_id is not None and conn.execute(text("SELECT 1 FROM agents WHERE id = :a"),
                                             {"a": agent_id}).first() is None:
        raise ValueError(f"no agent {agent_id!r} in the records; add the agent first")
    exists = conn.execute(text("SELECT 1 FROM pg_roles WHERE rolname = :r"),
                          {"r": login}).first() is not None
    verb = "ALTER" if exists else "CREATE"
    _exec(conn, sql.SQL(verb + " ROLE {} LOGIN PASSWORD {}").format(
        sql.Identifier(login), sql.Literal(password)))
    _exec(conn, sql.SQL("GRANT {} TO {}").format(sql.Identifier(group), sql.Identifier(login)))
    if kind == "owner":
        # Whatever a migration creates then belongs to the group, not to one person's login.
        _exec(conn, sql.SQL("ALTER ROLE {} SET role = {}").format(sql.Identifier(login),
                                                                  sql.Literal(OWNER)))
    if agent_id is not None:
        conn.execute(text("DELETE FROM login_agents WHERE login = :l"), {"l": login})
        conn.execute(text("INSERT INTO login_agents (login, agent_id) VALUES (:l, :a)"),
                     {"l": login, "a": agent_id})
    if team_list:
        conn.execute(text("DELETE FROM login_teams WHERE login = :l"), {"l": login})
        for team in team_list:
            conn.execute(text("INSERT INTO teams (id, name) VALUES (:t, :n) "
                              "ON CONFLICT (id) DO NOTHING"),
                         {"t": team, "n": team.replace("_", " ").capitalize()})
            conn.execute(text("INSERT INTO login_teams (login, team_id) VALUES (:l, :t)"),
                         {"l": login, "t": team})


def _require_postgresql(conn: Connection) -> None:
    if conn.dialect.name != "postgresql":
        raise ValueError("database roles exist on PostgreSQL only; an embedded SQLite file is "
                         "protected by the operating system's file permissions")


# -- what the `callwise db` commands run, by URL ------------------------------------------------


def _engine(url: str) -> Engine:
    return create_store_engine(url)


def upgrade_database(url: str) -> str:
    """Migrates to head; on PostgreSQL with the Callwise roles in place, gives anything new to
    the owner group (when run as a superuser) and re-applies the grants. Returns the revision."""
    engine = _engine(url)
    try:
        upgrade_to_head(engine)
        if engine.dialect.name == "postgresql":
            with engine.begin() as conn:
                if existing_groups(conn) == set(GROUPS):
                    if is_superuser(conn):
                        hand_to_owner(conn)
                    apply_grants(conn)
        return current_revision(engine) or ""
    except DBAPIError as exc:
        raise _translated(exc) from exc
    finally:
        engine.dispose()


def setup_roles(url: str) -> list[str]:
    """`callwise db roles`: group roles, ownership, grants and policies (as a superuser).
    Returns the roles created (empty when they existed)."""
    engine = _engine(url)
    try:
        with engine.begin() as conn:
            _require_postgresql(conn)
            if not is_superuser(conn):
                raise ValueError("run `callwise db roles` as a PostgreSQL superuser (it creates "
                                 "roles and hands the database to callwise_owner)")
            made = create_roles(conn)
            hand_to_owner(conn)
            apply_grants(conn)
        return made
    except DBAPIError as exc:
        raise _translated(exc) from exc
    finally:
        engine.dispose()


def create_login(url: str, login: str, password: str, kind: str, *, agent_id: str | None = None,
                 teams: Iterable[str] = ()) -> None:
    engine = _engine(url)
    try:
        with engine.begin() as conn:
            add_login(conn, login, password, kind, agent_id=agent_id, teams=teams)
    except DBAPIError as exc:
        raise _translated(exc) from exc
    finally:
        engine.dispose()


def _translated(exc: DBAPIError) -> Exception:
    mapped = translate(exc)
    if mapped is not exc:
        return mapped
    detail = str(exc.orig).strip().splitlines()[0] if exc.orig is not None else str(exc)
    return StoreError(f"The database refused: {detail}",
                      action="Check that you connected as the right PostgreSQL user.")
