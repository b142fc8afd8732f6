"""Least-privilege roles on a real PostgreSQL, set up with the documented commands and tried
with the statements each role must not be able to run.

A private server for this module: roles are cluster-wide, and its pg_hba.conf is changed so the
Callwise logins must give their password (SCRAM), as they would on a production server.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import psycopg
import pytest

from app.domain.agent import Agent
from app.domain.call import CallRecord, new_record_id
from app.domain.enums import AgentState, CallOrigin, CallOutcome, CallReason, Team
from app.domain.memo import Memo, PaymentTopic
from app.ports.store import Callback, CallbackStatus, Notification, SyncStatus
from app.storage import open_resilient_store, open_store
from tests.integration.storage.conftest import T0, make_customer
from tests.support.postgres import LOOPBACK, PostgresMissing, PostgresServer, running_postgres

ROOT = Path(__file__).resolve().parents[3]
PASSWORDS = {"owner1": "owner-secret", "ann_desk": "ann-secret", "sam_desk": "sam-secret",
             "sup_care": "sup-secret"}
CLOSED_MEMO = Memo(reason="Follow-up", voicemail_left=True, account_note="Voicemail left.")


@dataclass
class Secured:
    server: PostgresServer
    database: str
    closed_call: str  # ann's, closed
    sam_open_call: str  # sam's, still open

    def url(self, login: str) -> str:
        return (f"postgresql+psycopg://{login}:{PASSWORDS[login]}@{LOOPBACK}:{self.server.port}"
                f"/{self.database}")

    def connect(self, login: str, password: str | None = None) -> psycopg.Connection[tuple]:
        return psycopg.connect(host=LOOPBACK, port=self.server.port, dbname=self.database,
                               user=login, password=password or PASSWORDS[login],
                               connect_timeout=10, autocommit=True)


def callwise(*args: str, env: dict[str, str] | None = None) -> None:
    base = {"PATH": "/usr/bin:/bin", "HOME": "/nonexistent", "XDG_CONFIG_HOME": "/nonexistent"}
    result = subprocess.run([str(Path(sys.executable).with_name("callwise")), *args], cwd=ROOT,
                            capture_output=True, text=True, timeout=120, check=False,
                            env={**base, **(env or {})})
    assert result.returncode == 0, f"callwise {' '.join(args)}:\n{result.stdout}{result.stderr}"


def _require_passwords(server: PostgresServer) -> None:
    hba = server.data_dir / "pg_hba.conf"
    rule = ("host all +callwise_owner,+callwise_agent,+callwise_supervisor "
            f"{LOOPBACK}/32 scram-sha-256\n")
    hba.write_text(rule + hba.read_text())
    with psycopg.connect(host=LOOPBACK, port=server.port, user="postgres", dbname="postgres",
                         autocommit=True) as conn:
        conn.execute("SELECT pg_reload_conf()")


@pytest.fixture(scope="module")
def secured() -> Iterator[Secured]:
    try:
        with running_postgres() as server:
            _require_passwords(server)
            name, superuser_url = server.create_database()
            password_env = {f"PW_{k.upper()}": v for k, v in PASSWORDS.items()}
            # The sequence docs/storage.md gives IT:
            callwise("db", "roles", "--database", superuser_url)
            callwise("db", "add-login", "owner1", "--role", "owner", "--password-env",
                     "PW_OWNER1", "--database", superuser_url, env=password_env)
            secured = Secured(server, name, "", "")
            callwise("db", "upgrade", "--database", secured.url("owner1"))
            closed, sam_open = _seed(secured.url("owner1"))
            secured.closed_call, secured.sam_open_call = closed, sam_open
            for login, extra in (("ann_desk", ["--role", "agent", "--agent", "ann"]),
                                 ("sam_desk", ["--role", "agent", "--agent", "sam"]),
                                 ("sup_care", ["--role", "supervisor", "--team", "care"])):
                callwise("db", "add-login", login, *extra, "--password-env",
                         f"PW_{login.upper()}", "--database", superuser_url, env=password_env)
            yield secured
    except PostgresMissing as exc:
        pytest.fail(str(exc), pytrace=False)


def _record(agent: str, minute: int) -> CallRecord:
    return CallRecord(new_record_id(), "c-ana", agent, "+13125550142", "13125550142",
                      CallOrigin.FOLLOW_UP, CallReason.TROUBLESHOOTING,
                      T0 + timedelta(minutes=minute))


def _seed(owner_url: str) -> tuple[str, str]:
    """As the owner (IT): agents, a customer, one closed call of ann's, one open call of sam's."""
    store = open_store(owner_url, migrate=False)
    try:
        closed = _record("ann", 0)
        closed.ended(T0 + timedelta(minutes=1), CallOutcome.NO_ANSWER)
        closed.memo = CLOSED_MEMO
        closed.close(T0 + timedelta(minutes=2))
        sam_open = _record("sam", 5)
        with store.unit_of_work() as uow:
            uow.agents.add(Agent("ann", "Ann Agent", Team.CARE))
            uow.agents.add(Agent("bob", "Bob Agent", Team.CARE))
            uow.agents.add(Agent("sam", "Sam Specialist", Team.SERVICE_ASSURANCE))
            uow.customers.add(make_customer("c-ana", "Ana", "García", "ACC-1", "+13125550142"))
            uow.calls.add(closed)
            uow.calls.add(sam_open)
            uow.commit()
        return closed.id, sam_open.id
    finally:
        store.close()


def test_the_owner_group_owns_everything(secured: Secured) -> None:
    with secured.connect("owner1") as conn:
        assert conn.execute("SELECT current_user").fetchone() == ("callwise_owner",)
        owners = {r[0] for r in conn.execute(
            "SELECT tableowner FROM pg_tables WHERE schemaname = 'public'")}
        functions = {r[0] for r in conn.execute(
            "SELECT pg_get_userbyid(proowner) FROM pg_proc WHERE proname LIKE 'callwise%'")}
    assert owners == functions == {"callwise_owner"}


def test_a_wrong_password_is_refused(secured: Secured) -> None:
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        secured.connect("ann_desk", "guess")


def test_an_agent_login_does_a_whole_call_and_its_desktop_syncs(
        secured: Secured, tmp_path: Path) -> None:
    store = open_store(secured.url("ann_desk"), migrate=False)
    record = _record("ann", 30)
    try:
        with store.unit_of_work() as uow:
            assert uow.customers.contact_history("c-ana").unanswered_attempts == 2  # sam's too
            uow.calls.add(record)
            uow.audit.append("call_attempt", record.id, {"by": "ann"}, record.dialed_at)
            uow.agents.record_state("ann", AgentState.TALKING, record.dialed_at)
            uow.commit()
        record.connected(T0 + timedelta(minutes=31))
        record.ended(T0 + timedelta(minutes=35), CallOutcome.REMOTE_HANGUP)
        record.recording_notice_at = T0 + timedelta(minutes=31)
        record.memo = Memo(reason="Follow-up", summary="Fixed.", customer_response="Thanks.",
                           payment_topic=PaymentTopic.NOT_DISCUSSED, ticket_findings="APN")
        record.ticket_ref = "TKT-1"
        with store.unit_of_work() as uow:
            uow.calls.save(record)
            uow.calls.save_draft(record.id, record.memo, T0 + timedelta(minutes=36))
            uow.commit()
        record.close(T0 + timedelta(minutes=37))
        with store.unit_of_work() as uow:
            uow.calls.save(record)
            uow.tickets.add_update("TKT-1", record.id, "Fixed.", T0 + timedelta(minutes=37))
            uow.notifications.add(Notification("n-1", "c-ana", "ann", "sip_message",
                                               "customer_callback", "sip:1@x", "Hi", T0, True))
            uow.callbacks.add(Callback("cb-1", "c-ana", "bob", T0 + timedelta(days=1),
                                       "promised", T0))
            uow.callbacks.set_status("cb-1", CallbackStatus.DONE, T0 + timedelta(days=1))
            uow.audit.append("record_closed", record.id, {"outcome": "remote_hangup"},
                             record.closed_at or T0)
            uow.commit()
        with store.unit_of_work(read_only=True) as uow:
            assert uow.audit.verify() is None
    finally:
        store.close()

    desktop = open_resilient_store(secured.url("ann_desk"), f"sqlite:///{tmp_path / 'd.db'}")
    try:
        assert desktop.sync_status().online
        again = _record("ann", 60)
        with desktop.unit_of_work() as uow:
            uow.calls.add(again)
            uow.commit()
        assert desktop.sync_status() == SyncStatus(online=True, pending=0)
    finally:
        desktop.close()


FORBIDDEN_FOR_AGENTS = [
    ("INSERT INTO calls (id, customer_id, agent_id, number, dial_string, origin, reason, "
     "dialed_at, pack_version, pack_checksum, verdicts, state, end_reason, ticket_ref) VALUES "
     "('x', 'c-ana', 'sam', '+1', '1', 'follow_up', 'other', now(), '', '', '{}', 'dialing', "
     "'', '')", "row-level security"),
    ("UPDATE calls SET end_reason = 'edited' WHERE id = '{closed}'", "closed call record"),
    ("UPDATE memos SET account_note = 'edited' WHERE call_id = '{closed}'", "closed call record"),
    ("DELETE FROM calls WHERE id = '{closed}'", "permission denied"),
    ("DELETE FROM memos WHERE call_id = '{closed}'", "permission denied"),
    ("UPDATE audit_log SET kind = 'edited'", "permission denied"),
    ("DELETE FROM audit_log", "permission denied"),
    ("TRUNCATE audit_log", "permission denied"),
    ("UPDATE audit_head SET seq = 0", "permission denied"),
    ("UPDATE login_agents SET agent_id = 'sam'", "permission denied"),
    ("UPDATE agents SET team_id = 'leader' WHERE id = 'ann'", "permission denied"),
    ("UPDATE customers SET first_name = 'Edited'", "permission denied"),
    ("INSERT INTO customers (id) VALUES ('x')", "permission denied"),
    ("CREATE TABLE stash (x int)", "permission denied"),
    ("DROP TABLE calls", "must be owner"),
    ("ALTER TABLE audit_log DISABLE TRIGGER USER", "must be owner"),
    ("SET ROLE callwise_owner", "permission denied"),
]


@pytest.mark.parametrize(("statement", "refusal"), FORBIDDEN_FOR_AGENTS,
                         ids=[s.split(" (")[0][:40] for s, _ in FORBIDDEN_FOR_AGENTS])
def test_an_agent_login_cannot(secured: Secured, statement: str, refusal: str) -> None:
    with secured.connect("ann_desk") as conn, pytest.raises(psycopg.Error, match=refusal):
        conn.execute(statement.replace("{closed}", secured.closed_call))


def test_an_agent_cannot_touch_another_agents_open_record(secured: Secured) -> None:
    with secured.connect("ann_desk") as conn:
        cursor = conn.execute("UPDATE calls SET end_reason = 'edited' WHERE id = %s",
                              (secured.sam_open_call,))
        assert cursor.rowcount == 0
        cursor = conn.execute("UPDATE memos SET summary = 'edited' WHERE call_id = %s",
                              (secured.sam_open_call,))
        assert cursor.rowcount == 0
    with secured.connect("sam_desk") as conn:  # its owner may
        cursor = conn.execute("UPDATE calls SET end_reason = 'fine' WHERE id = %s",
                              (secured.sam_open_call,))
        assert cursor.rowcount == 1


def test_a_supervisor_reads_only_their_teams_and_writes_nothing(secured: Secured) -> None:
    with secured.connect("sup_care") as conn:
        agents = {r[0] for r in conn.execute("SELECT DISTINCT agent_id FROM calls")}
        memo_calls = {r[0] for r in conn.execute("SELECT call_id FROM memos")}
        team_agents = {r[0] for r in conn.execute("SELECT id FROM agents")}
        customers = conn.execute("SELECT count(*) FROM customers").fetchone()
    assert "sam" not in agents and "ann" in agents
    assert secured.sam_open_call not in memo_calls and secured.closed_call in memo_calls
    assert team_agents == {"ann", "bob"}
    assert customers == (1,)
    for statement, refusal in [
            ("SELECT count(*) FROM audit_log", "permission denied"),
            ("UPDATE calls SET end_reason = 'x'", "permission denied"),
            ("INSERT INTO notifications (id) VALUES ('x')", "permission denied"),
            ("DELETE FROM callbacks", "permission denied"),
            ("CREATE TABLE stash (x int)", "permission denied")]:
        with secured.connect("sup_care") as conn, pytest.raises(psycopg.Error, match=refusal):
            conn.execute(statement)


def test_not_even_the_owner_may_change_a_closed_record(secured: Secured) -> None:
    with secured.connect("owner1") as conn, pytest.raises(psycopg.Error,
                                                          match="closed call record"):
        conn.execute("UPDATE calls SET end_reason = 'edited' WHERE id = %s",
                     (secured.closed_call,))


def test_roles_and_upgrade_are_safe_to_run_again(secured: Secured) -> None:
    superuser = secured.server.url(secured.database)
    callwise("db", "roles", "--database", superuser)
    callwise("db", "upgrade", "--database", secured.url("owner1"))
    with secured.connect("ann_desk") as conn:
        assert conn.execute("SELECT count(*) FROM calls").fetchone() is not None
        with pytest.raises(psycopg.Error, match="permission denied"):
            conn.execute("DELETE FROM audit_log")
