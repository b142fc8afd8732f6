"""A database created by EVERY earlier migration, holding records, upgrades to the newest schema
on SQLite and PostgreSQL, and its records are all there and usable afterwards.

Generic over the revision list: a new migration makes its predecessor one more starting point
here, and `SEEDS` must say how records looked at each revision (the test fails until it does).
Seeds write with plain SQL against the tables as they were, never with today's models.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, MetaData, Table, text

from app.domain.call import CallState
from app.storage import open_store
from app.storage.chain import GENESIS, canonical_json, entry_hash
from app.storage.engine import alembic_config, create_store_engine, head_revision
from app.storage.models import Base
from tests.integration.storage.conftest import T0


def _revisions() -> list[str]:
    script = ScriptDirectory.from_config(alembic_config())
    return [r.revision for r in reversed(list(script.walk_revisions()))]


def _at(conn: Connection, at: datetime) -> datetime:
    """A timestamp as that revision stored it: naive UTC on SQLite, timestamptz on PostgreSQL."""
    return at.replace(tzinfo=None) if conn.dialect.name == "sqlite" else at


def _seed_0001(conn: Connection) -> None:
    meta = MetaData()

    def table(name: str) -> Table:
        return Table(name, meta, autoload_with=conn)

    def add(table_name: str, /, **values: Any) -> None:
        conn.execute(table(table_name).insert().values(**values))

    add("teams", id="care", name="Care")
    add("agents", id="ann", name="Ann", team_id="care", state="ready", state_since=None,
        international_calling=False)
    add("customers", id="c-ana", first_name="Ana", last_name="García", account_number="ACC-1",
        line_of_business="postpaid", service_zone="America/Chicago", extra={},
        name_key="ana garcia", name_rev_key="garcia ana", account_key="acc1")
    add("customer_numbers", customer_id="c-ana", position=0, number="+13125550142",
        label="primary", e164_digits="13125550142", national_digits="3125550142",
        reversed_digits="24105552131")
    for call_id, state, minute in (("call-closed", "closed", 0), ("call-open", "wrap_up", 10)):
        add("calls", id=call_id, customer_id="c-ana", agent_id="ann", number="+13125550142",
            dial_string="13125550142", origin="follow_up", reason="troubleshooting",
            dialed_at=_at(conn, T0 + timedelta(minutes=minute)), pack_version="2025.1",
            pack_checksum="sha256:x", verdicts={"OB-WINDOW": "pass"}, state=state,
            outcome="no_answer", sip_code=480, end_reason="no answer",
            ended_at=_at(conn, T0 + timedelta(minutes=minute + 1)),
            closed_at=_at(conn, T0 + timedelta(minutes=2)) if state == "closed" else None,
            ticket_ref="")
        add("memos", call_id=call_id, reason="Follow-up", ticket_numbers="", summary="",
            customer_response="", payment_topic=None, voicemail_left=True,
            no_voicemail_reason="", account_note="Voicemail left.", ticket_findings="",
            draft_saved_at=None)
    prev = GENESIS
    for seq, (kind, record) in enumerate((("call_attempt", "call-closed"),
                                          ("record_closed", "call-closed")), start=1):
        payload = {"seq": seq}
        digest = entry_hash(prev, seq, kind, record, T0, payload)
        add("audit_log", seq=seq, kind=kind, record_id=record, payload=canonical_json(payload),
            at=_at(conn, T0), prev_hash=prev, hash=digest)
        prev = digest


SEEDS: dict[str, Callable[[Connection], None]] = {"0001": _seed_0001}
EARLIER = _revisions()[:-1]


def test_every_earlier_revision_has_a_seed() -> None:
    assert _revisions()[-1] == head_revision()
    assert [r for r in EARLIER if r not in SEEDS] == []


@pytest.mark.parametrize("revision", EARLIER)
def test_a_database_made_by_an_earlier_migration_upgrades_with_its_records(
        db_url: str, revision: str) -> None:
    engine = create_store_engine(db_url)
    config = alembic_config()
    try:
        with engine.begin() as conn:
            config.attributes["connection"] = conn
            command.upgrade(config, revision)
        with engine.begin() as conn:
            SEEDS[revision](conn)
    finally:
        engine.dispose()

    store = open_store(db_url)  # what a desktop does on its first start after the update
    try:
        with store.engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            assert compare_metadata(context, Base.metadata) == []
        with store.unit_of_work() as uow:
            closed = uow.calls.get("call-closed")
            assert closed is not None and closed.state is CallState.CLOSED
            assert closed.memo.account_note == "Voicemail left."
            assert [r.id for r in uow.calls.open_records("ann")] == ["call-open"]
            assert uow.customers.search("garc")[0].numbers[0].number == "+13125550142"
            assert uow.customers.contact_history("c-ana").unanswered_attempts == 2
            check = uow.audit.check()
            assert (check.ok, check.entries, check.head_seq) == (True, 2, 2)
            entry = uow.audit.append("after_upgrade", "call-open", {"from": revision}, T0)
            uow.commit()
        assert entry.seq == 3
        with store.engine.connect() as conn:  # the rules of the new schema hold for old rows
            assert json.loads(conn.execute(text(
                "SELECT payload FROM audit_log WHERE seq = 3")).scalar_one()) == {"from": revision}
        with store.engine.begin() as conn, pytest.raises(Exception, match="closed call record"):
            conn.execute(text("UPDATE calls SET end_reason = 'x' WHERE id = 'call-closed'"))
    finally:
        store.close()
