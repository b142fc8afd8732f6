"""A desktop loses the central PostgreSQL mid-shift, keeps working, and catches up exactly once.

The server is really stopped (`pg_ctl stop -m fast`) and started again; these tests use their
own server so the session's shared one never goes away under other tests.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import time, timedelta
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import func, select, text

from app.domain.agent import Agent
from app.domain.call import CallRecord, CallState, new_record_id
from app.domain.customer import Consent
from app.domain.enums import AgentState, CallOrigin, CallOutcome, CallReason, Team
from app.domain.memo import Memo, PaymentTopic
from app.ports.store import (
    Callback,
    CallbackStatus,
    NotFound,
    Notification,
    Store,
    SyncingStore,
)
from app.storage import (
    ResilientStore,
    SqlStore,
    open_desktop_store,
    open_resilient_store,
    open_store,
)
from app.storage.engine import create_store_engine, head_revision
from app.storage.health import verify_audit_chain
from app.storage.models import CallRow, SyncOutboxRow
from tests.integration.storage.conftest import T0, make_customer
from tests.support.postgres import PostgresMissing, PostgresServer, running_postgres

ANN = Agent("ann", "Ann Agent", Team.CARE)
BOB = Agent("bob", "Bob Other", Team.CARE)
DONE = Memo(reason="Troubleshooting follow-up", summary="Reset the network settings.",
            customer_response="Confirmed working.", payment_topic=PaymentTopic.NOT_DISCUSSED)
UNANSWERED = Memo(reason="Follow-up", voicemail_left=True, account_note="Left a voicemail.")


@pytest.fixture(scope="module")
def outage_server() -> Iterator[PostgresServer]:
    try:
        with running_postgres() as server:
            yield server
    except PostgresMissing as exc:
        pytest.fail(str(exc), pytrace=False)


def _accepting(server: PostgresServer) -> bool:
    try:
        psycopg.connect(host="127.0.0.1", port=server.port, user="postgres", dbname="postgres",
                        connect_timeout=2).close()
    except psycopg.OperationalError:
        return False
    return True


def _start(server: PostgresServer) -> None:
    if not _accepting(server):
        result = server._start()
        assert result.returncode == 0, server.log_tail()


@pytest.fixture
def central_url(outage_server: PostgresServer) -> Iterator[str]:
    _start(outage_server)  # a failed earlier test may have left it stopped
    name, url = outage_server.create_database()
    seed = open_store(url)
    with seed.unit_of_work() as uow:
        uow.agents.add(ANN)
        uow.agents.add(BOB)
        uow.customers.add(make_customer("c-ana", "Ana", "García", "ACC-1", "+13125550142",
                                        service_zone="America/Chicago"))
        uow.customers.add(make_customer("c-ben", "Ben", "Smith", "ACC-2", "+12125550122"))
        uow.commit()
    seed.close()
    yield url
    _start(outage_server)
    outage_server.drop_database(name)


@pytest.fixture
def local_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'desktop.sqlite3'}"


def _dial(store: Store, customer_id: str, minute: int,
          agent: Agent = ANN) -> CallRecord:
    """What Desk.place_call writes: the attempt and its audit link."""
    record = CallRecord(new_record_id(), customer_id, agent.id, "+13125550142", "13125550142",
                        CallOrigin.FOLLOW_UP, CallReason.TROUBLESHOOTING,
                        T0 + timedelta(minutes=minute), pack_version="2025.1",
                        verdicts={"OB-WINDOW": "pass"})
    with store.unit_of_work() as uow:
        assert uow.customers.get(customer_id) is not None
        uow.calls.add(record)
        uow.audit.append("call_attempt", record.id, {"customer": customer_id}, record.dialed_at)
        uow.commit()
    return record


def _finish(store: Store, record: CallRecord, answered: bool) -> None:
    """Ended, a draft, then closed with its audit link: what the desk writes after a call."""
    at = record.dialed_at
    if answered:
        record.connected(at + timedelta(seconds=10))
        record.confirm_recording_notice(at + timedelta(seconds=15))
    record.ended(at + timedelta(minutes=3),
                 CallOutcome.REMOTE_HANGUP if answered else CallOutcome.NO_ANSWER)
    memo = DONE if answered else UNANSWERED
    with store.unit_of_work() as uow:
        uow.calls.save(record)
        uow.agents.record_state(record.agent_id, AgentState.AFTER_CALL_WORK,
                                at + timedelta(minutes=3))
        uow.commit()
    with store.unit_of_work() as uow:
        uow.calls.save_draft(record.id, memo.with_changes(summary="draft"),
                             at + timedelta(minutes=4))
        uow.commit()
    record.memo = memo
    record.close(at + timedelta(minutes=5))
    with store.unit_of_work() as uow:
        uow.calls.save(record)
        uow.audit.append("record_closed", record.id, {"outcome": str(record.outcome.value)
                                                      if record.outcome else None},
                         at + timedelta(minutes=5))
        uow.commit()


def _central_rows(url: str) -> tuple[list[tuple[str, str, str]], list[tuple[str, str]], int]:
    """(calls as (id, state, memo summary) by dial time, audit (kind, record) in chain order,
    agent state changes)."""
    central = open_store(url, migrate=False)
    try:
        with central.engine.connect() as conn:
            calls = [(r[0], r[1], r[2]) for r in conn.execute(text(
                "SELECT c.id, c.state, m.summary FROM calls c JOIN memos m ON m.call_id = c.id "
                "ORDER BY c.dialed_at, c.id"))]
            audit = [(r[0], r[1]) for r in conn.execute(text(
                "SELECT kind, record_id FROM audit_log ORDER BY seq"))]
            states = conn.execute(text("SELECT count(*) FROM agent_state_changes")).scalar_one()
        with central.unit_of_work(read_only=True) as uow:
            assert uow.audit.verify() is None
        return calls, audit, states
    finally:
        central.close()


def test_an_outage_mid_shift_loses_nothing_and_catches_up_exactly_once_in_order(
        outage_server: PostgresServer, central_url: str, local_url: str) -> None:
    store = open_resilient_store(central_url, local_url)
    try:
        assert store.sync_status().online and store.sync_status().pending == 0
        written: list[CallRecord] = []
        audit: list[tuple[str, str]] = []
        for minute in (0, 10):  # before the outage: straight to the central database
            record = _dial(store, "c-ana", minute)
            _finish(store, record, answered=False)
            written.append(record)
            audit += [("call_attempt", record.id), ("record_closed", record.id)]
        assert store.sync_status().pending == 0
        calls, central_audit, _ = _central_rows(central_url)
        assert [c[0] for c in calls] == [r.id for r in written]

        outage_server.stop()  # mid-shift
        assert not _accepting(outage_server)

        for minute in (20, 30, 40):  # the agent keeps working: nothing may fail
            record = _dial(store, "c-ana", minute)
            written.append(record)
            audit.append(("call_attempt", record.id))
            _finish(store, record, answered=minute == 40)
            audit.append(("record_closed", record.id))
        status = store.sync_status()
        # 3 calls x (attempt + audit, ended + state, draft, close + audit) = 3 x 7 writes
        assert (status.online, status.pending, status.rejected) == (False, 21, 0)
        assert status.last_error  # the status line has something to say
        assert "offline" in store.describe()
        with store.unit_of_work(read_only=True) as uow:
            history = uow.customers.contact_history("c-ana")
            assert not history.complete  # the gate says the count may be incomplete
            assert history.spoke_before and history.last_attempt_at == written[-1].dialed_at
            assert [r.state for r in uow.calls.recent_for_customer("c-ana")] \
                == [CallState.CLOSED] * 5
        assert store.catch_up().online is False  # still down: nothing sent, nothing lost

        _start(outage_server)
        status = store.catch_up()
        assert (status.online, status.pending, status.rejected, status.last_error) \
            == (True, 0, 0, "")

        calls, central_audit, states = _central_rows(central_url)
        assert [c[0] for c in calls] == [r.id for r in written]  # each exactly once
        assert [c[1] for c in calls] == ["closed"] * 5
        assert [c[2] for c in calls] == [UNANSWERED.summary] * 4 + [DONE.summary]
        assert central_audit == audit  # in the order they were written
        assert states == 5
        with store.unit_of_work(read_only=True) as uow:
            history = uow.customers.contact_history("c-ana")
        assert history.complete and history.spoke_before
        assert history.last_conversation_at == written[-1].connected_at

        assert store.catch_up().pending == 0  # again: nothing more to send, nothing doubled
        assert _central_rows(central_url) == (calls, central_audit, states)
    finally:
        store.close()


def test_other_agents_work_is_counted_only_while_the_central_database_answers(
        outage_server: PostgresServer, central_url: str, local_url: str) -> None:
    bob_desk = open_store(central_url, migrate=False)  # another desktop, straight to central
    store = open_resilient_store(central_url, local_url)
    try:
        _dial(store, "c-ben", 0)
        for minute in (1, 2):
            _dial(bob_desk, "c-ben", minute, agent=BOB)
        with store.unit_of_work(read_only=True) as uow:
            online = uow.customers.contact_history("c-ben")
        assert (online.unanswered_attempts, online.complete) == (3, True)

        outage_server.stop()
        with store.unit_of_work() as uow:
            offline = uow.customers.contact_history("c-ben")
        # Only what this desktop knows: its own attempt. The gate is told it may be more.
        assert (offline.unanswered_attempts, offline.complete) == (1, False)
        assert not store.sync_status().online
    finally:
        store.close()
        bob_desk.close()


def test_a_send_whose_sent_mark_was_lost_is_not_applied_twice(
        outage_server: PostgresServer, central_url: str, local_url: str,
        tmp_path: Path) -> None:
    """Power fails after the central commit and before the local rows are marked sent: the
    desktop comes back with the old outbox and sends it again."""
    store = open_resilient_store(central_url, local_url)
    _finish(store, _dial(store, "c-ana", 0), answered=False)  # sent at once
    outage_server.stop()
    for minute in range(1, 5):
        _finish(store, _dial(store, "c-ana", minute), answered=False)
    assert store.sync_status().pending == 28
    store.close()
    local_file = Path(local_url.removeprefix("sqlite:///"))
    snapshot = tmp_path / "snapshot"
    snapshot.mkdir()
    for part in local_file.parent.glob(local_file.name + "*"):
        shutil.copy2(part, snapshot / part.name)

    _start(outage_server)
    store = open_resilient_store(central_url, local_url)  # catches up as it opens
    assert store.sync_status().pending == 0
    store.close()
    first = _central_rows(central_url)
    assert len(first[0]) == 5 and len(first[1]) == 10

    for part in local_file.parent.glob(local_file.name + "*"):
        part.unlink()
    for part in snapshot.iterdir():
        shutil.copy2(part, local_file.parent / part.name)
    store = open_resilient_store(central_url, local_url)
    try:
        with store.local.unit_of_work(read_only=True) as uow:  # the outbox was sent before
            assert uow.session.scalar(select(func.count()).select_from(SyncOutboxRow)) == 0
        assert store.sync_status() == store.catch_up()
        assert store.sync_status().pending == 0
    finally:
        store.close()
    assert _central_rows(central_url) == first


def test_a_desktop_that_starts_offline_keeps_working_with_what_it_has_seen(
        outage_server: PostgresServer, central_url: str, local_url: str) -> None:
    first = open_resilient_store(central_url, local_url)
    _finish(first, _dial(first, "c-ana", 0), answered=True)  # Ana is now known locally
    first.close()

    outage_server.stop()
    store = open_resilient_store(central_url, local_url)  # the next morning, network down
    try:
        assert not store.sync_status().online
        with store.unit_of_work() as uow:
            known = uow.agents.get("ann")
            assert known is not None and known.state is AgentState.AFTER_CALL_WORK
            uow.agents.add(Agent("carol", "Carol New", Team.CARE))  # known centrally or not
            uow.commit()
        with store.unit_of_work(read_only=True) as uow:
            assert [c.id for c in uow.customers.search("garc")] == ["c-ana"]
            assert uow.customers.search("smith") == []  # never seen on this desktop
        record = _dial(store, "c-ana", 30)
        with store.unit_of_work() as uow, pytest.raises(NotFound, match="central records"):
            uow.calls.add(CallRecord(new_record_id(), "c-ben", "ann", "+12125550122",
                                     "12125550122", CallOrigin.FOLLOW_UP,
                                     CallReason.TROUBLESHOOTING, T0))
        assert store.sync_status().pending == 3

        _start(outage_server)
        assert store.catch_up().pending == 0
        calls, _, _ = _central_rows(central_url)
        assert record.id in [c[0] for c in calls]
        with store.central.unit_of_work(read_only=True) as uow:
            assert uow.agents.get("carol") is not None
    finally:
        store.close()


def test_a_write_the_central_database_refuses_is_kept_and_the_rest_goes_on(
        outage_server: PostgresServer, central_url: str, local_url: str) -> None:
    store = open_resilient_store(central_url, local_url)
    other = open_store(central_url, migrate=False)
    try:
        _dial(store, "c-ana", 0)  # Ana and Ann are now known locally
        outage_server.stop()
        with store.unit_of_work() as uow:
            uow.callbacks.add(Callback("cb-1", "c-ana", "ann", T0 + timedelta(hours=2),
                                       "promised a call back", T0))
            uow.customers.add(make_customer("c-new", "Nia", "New", "ACC-9", "+13125550199"))
            uow.commit()
        with store.unit_of_work() as uow:
            uow.callbacks.set_status("cb-1", CallbackStatus.DONE, T0 + timedelta(hours=2))
            uow.notifications.add(Notification("n-1", "c-ana", "ann", "sip_message",
                                               "customer_callback", "sip:1@x", "Hi", T0, True))
            uow.commit()
        _start(outage_server)
        with other.unit_of_work() as uow:  # meanwhile someone imported the same customer id
            uow.customers.add(make_customer("c-new", "Nina", "Other", "ACC-7", "+13125550177"))
            uow.commit()

        status = store.catch_up()
        assert (status.online, status.pending, status.rejected) == (True, 0, 1)
        assert "clashes" in status.last_error
        with other.unit_of_work(read_only=True) as uow:
            callback = uow.callbacks.get("cb-1")
            assert callback is not None and callback.status is CallbackStatus.DONE
            assert uow.notifications.for_customer("c-ana")[0].id == "n-1"
            customer = uow.customers.get("c-new")
            assert customer is not None and customer.first_name == "Nina"  # theirs stays
        with store.local.unit_of_work(read_only=True) as uow:  # ours is kept, with the reason
            kept = uow.session.execute(select(SyncOutboxRow.op, SyncOutboxRow.state,
                                              SyncOutboxRow.error)).all()
        assert [(op, state) for op, state, _ in kept] == [("customers.add", "rejected")]
        assert "clashes" in kept[0][2]
    finally:
        other.close()
        store.close()


def test_reads_use_the_local_copy_while_writes_wait_to_be_sent(
        outage_server: PostgresServer, central_url: str, local_url: str) -> None:
    """Back online but not caught up yet: the central copy lacks this desktop's latest work, so
    reads stay local (and say the history may be incomplete) until everything is sent."""
    store = open_resilient_store(central_url, local_url)
    try:
        _dial(store, "c-ana", 0)
        outage_server.stop()
        _dial(store, "c-ana", 5)
        _start(outage_server)
        assert store.catch_up(limit=1).pending == 1
        status = store.sync_status()
        assert status.online and not store.reads_central()
        with store.unit_of_work(read_only=True) as uow:
            history = uow.customers.contact_history("c-ana")
        assert (history.unanswered_attempts, history.complete) == (2, False)
        with store.unit_of_work() as uow:  # a backlog is left to catch_up, not to a click
            uow.agents.record_state("ann", AgentState.READY, T0 + timedelta(minutes=9))
            uow.commit()
        assert store.sync_status().pending == 2
        store.catch_up()
        with store.unit_of_work(read_only=True) as uow:
            history = uow.customers.contact_history("c-ana")
        assert (history.unanswered_attempts, history.complete) == (2, True)
        with store.central.unit_of_work(read_only=True) as uow:
            assert uow.session.scalar(select(func.count()).select_from(CallRow)) == 2
    finally:
        store.close()


def test_a_desktop_gets_an_offline_copy_only_for_a_shared_database(
        central_url: str, tmp_path: Path) -> None:
    shared = open_desktop_store(central_url, tmp_path)
    embedded = open_desktop_store(f"sqlite:///{tmp_path / 'own.sqlite3'}", tmp_path)
    try:
        assert isinstance(shared, SyncingStore) and isinstance(shared, ResilientStore)
        assert "PostgreSQL" in shared.describe() and "callwise-offline" in shared.describe()
        assert (tmp_path / "callwise-offline.sqlite3").is_file()
        assert isinstance(embedded, SqlStore) and not isinstance(embedded, SyncingStore)
    finally:
        shared.close()
        embedded.close()


def test_a_desktops_removed_audit_tail_is_found_through_the_central_anchor(
        central_url: str, local_url: str) -> None:
    """Someone with the desktop's file removes its newest audit entries and rewinds its local
    head, so the local chain alone looks whole; the head the central database anchored at the
    last send does not move with it."""
    store = open_resilient_store(central_url, local_url)
    for minute in range(3):
        _finish(store, _dial(store, "c-ana", minute), answered=False)
    store.close()
    assert verify_audit_chain(local_url, central_url).ok

    engine = create_store_engine(local_url)
    with engine.begin() as conn:
        for trigger in ("audit_log_no_delete", "audit_head_forward_only"):
            conn.exec_driver_sql(f"DROP TRIGGER {trigger}")
        conn.exec_driver_sql("DELETE FROM audit_log WHERE seq > 4")
        conn.exec_driver_sql("UPDATE audit_head SET seq = 4, "
                             "hash = (SELECT hash FROM audit_log WHERE seq = 4)")
    engine.dispose()

    alone = verify_audit_chain(local_url)
    assert alone.ok and alone.head_seq == 4  # the local file cannot tell
    anchored = verify_audit_chain(local_url, central_url)
    assert anchored.first_broken == 5
    assert "entries 5..6 were removed" in anchored.reason


def test_a_central_schema_this_version_cannot_write_keeps_the_desktop_offline(
        central_url: str, local_url: str) -> None:
    engine = create_store_engine(central_url)

    def set_version(version: str) -> None:
        with engine.begin() as conn:
            conn.exec_driver_sql(f"UPDATE alembic_version SET version_num = '{version}'")

    try:
        set_version("9999")  # a newer Callwise migrated it
        store = open_resilient_store(central_url, local_url, migrate_central=False)
        try:
            status = store.sync_status()
            assert not status.online and "9999" in status.last_error
            assert "update Callwise" in (store.describe())
            set_version("0001")  # older, and this desktop may not migrate it
            status = store.catch_up()
            assert not status.online and "0001" in status.last_error
        finally:
            store.close()
        set_version(head_revision() or "")
        store = open_resilient_store(central_url, local_url, migrate_central=False)
        try:
            assert store.sync_status().online
        finally:
            store.close()
    finally:
        engine.dispose()


def test_the_offline_copy_of_a_customer_is_as_fresh_as_the_last_dial(
        outage_server: PostgresServer, central_url: str, local_url: str) -> None:
    store = open_resilient_store(central_url, local_url)
    other = open_store(central_url, migrate=False)
    try:
        _dial(store, "c-ana", 0)
        with other.unit_of_work() as uow:  # a colleague records consent and a new zone
            uow.customers.record_consent("c-ana", Consent(time(20), time(21, 30), "bob", T0))
            uow.customers.set_service_zone("c-ana", "America/Denver", "bob", T0)
            uow.commit()
        _dial(store, "c-ana", 10)  # this desktop's next dial reads the customer centrally
        outage_server.stop()
        with store.unit_of_work(read_only=True) as uow:
            offline = uow.customers.get("c-ana")
        assert offline is not None and offline.service_zone == "America/Denver"
        assert offline.consent is not None and offline.consent.recorded_by == "bob"
        assert [n.number for n in offline.numbers] == ["+13125550142"]
    finally:
        other.close()
        store.close()
