"""OB-NOSSN: SSN-, PIN- and card-like memo text typed through the desk never reaches the disk.

The desk's `save_draft` (every pause in typing) and `close_record` are given memos holding such
text; afterwards every byte of the database files (main file, -wal, -shm; for a desktop with an
offline copy also the outbox and the central file) and of the log folder is scanned for it.
SQL statement logging with parameters is ON, so a write that slipped through would also show in
the log. A clean draft with a marker goes the same way first and MUST be found by the same scan:
that proves the scan sees what is written, WAL included.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from app.domain.agent import Agent
from app.domain.call import CallRecord, CallState, new_record_id
from app.domain.clock import FixedClock
from app.domain.customer import Customer, PhoneNumber
from app.domain.enums import CallOrigin, CallOutcome, CallReason, Team
from app.domain.errors import CallwiseError
from app.domain.memo import Memo
from app.policy.pack import load_pack
from app.ports.store import Store
from app.services.desk import Desk
from app.storage import open_resilient_store, open_store

T0 = datetime(2025, 3, 3, 16, 0, tzinfo=UTC)
SENSITIVE = {  # field -> text; the needles are what must never be found
    "summary": "Customer read me her SSN 219-09-9999 to prove who she is",
    "customer_response": "She said her passcode is 73914, then asked to pay",
    "account_note": "Card 4111 1111 1111 1111 exp 09/27 on file",
}
NEEDLES = ("219-09-9999", "SSN 219", "passcode is 73914", "4111 1111 1111 1111",
           "219099999", "4111111111111111")
MARKER = "Left voicemail; marker QUOKKA-ZEBRA-1729 for the scan"
CLEAN = Memo(reason="Follow-up", voicemail_left=True, account_note=MARKER)


class RecordingPhone:
    """The phone is not under test: it only records what the desk asked of it."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, ...]] = []

    def __getattr__(self, name: str) -> object:
        def record(*args: object, **_kwargs: object) -> None:
            self.calls.append((name, *map(str, args)))
        return record


@pytest.fixture
def log_dir(tmp_path: Path) -> Iterator[Path]:
    folder = tmp_path / "logs"
    folder.mkdir()
    handler = logging.FileHandler(folder / "callwise.log", encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    sql_log = logging.getLogger("sqlalchemy.engine")
    old_levels = root.level, sql_log.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    sql_log.setLevel(logging.INFO)  # statements AND their parameters
    yield folder
    root.removeHandler(handler)
    handler.close()
    root.setLevel(old_levels[0])
    sql_log.setLevel(old_levels[1])


def _open(kind: str, folder: Path) -> Store:
    if kind == "embedded":
        return open_store(f"sqlite:///{folder / 'callwise.sqlite3'}")
    # A desktop with its offline copy; the "central" database is a second file here, so every
    # byte of it can be scanned too.
    return open_resilient_store(f"sqlite:///{folder / 'central.sqlite3'}",
                                f"sqlite:///{folder / 'local.sqlite3'}")


def _scan(*folders: Path) -> dict[str, list[str]]:
    """needle -> files whose bytes contain it (UTF-8, as SQLite and the log write text)."""
    found: dict[str, list[str]] = {}
    for folder in folders:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                data = path.read_bytes()
                for needle in (*NEEDLES, MARKER):
                    if needle.encode("utf-8") in data:
                        found.setdefault(needle, []).append(path.name)
    return found


@pytest.mark.parametrize("kind", ["embedded", "with-offline-copy"])
def test_sensitive_memo_text_leaves_no_residue_anywhere(
        tmp_path: Path, log_dir: Path, kind: str) -> None:
    db_dir = tmp_path / "db"
    db_dir.mkdir()
    store = _open(kind, db_dir)
    agent = Agent("ann", "Ann Agent", Team.CARE)
    record = CallRecord(new_record_id(), "c-ana", "ann", "+13125550142", "13125550142",
                        CallOrigin.FOLLOW_UP, CallReason.TROUBLESHOOTING, T0)
    record.ended(T0 + timedelta(minutes=1), CallOutcome.NO_ANSWER, 480, "no answer")
    with store.unit_of_work() as uow:
        uow.agents.add(agent)
        uow.customers.add(Customer("c-ana", "Ana", "García", "ACC-1",
                                   (PhoneNumber("+13125550142"),)))
        uow.calls.add(record)
        uow.commit()
    clock = FixedClock(T0 + timedelta(minutes=2))
    phone = RecordingPhone()
    desk = Desk(store=store, pack=load_pack(None), phone=phone, clock=clock,  # type: ignore[arg-type]
                agent=agent, sip_domain="pbx.invalid")
    try:
        # The positive control first: a clean draft is written and the scan finds it.
        assert desk.save_draft(record.id, CLEAN) is True
        seen = _scan(db_dir, log_dir).get(MARKER, [])
        assert "callwise.log" in seen and any("sqlite3" in f for f in seen), seen

        for field, text in SENSITIVE.items():
            memo = CLEAN.with_changes(**{field: text})
            assert desk.check_memo(memo)  # the form shows why
            assert desk.save_draft(record.id, memo) is False
            with pytest.raises(CallwiseError, match="SSN, PIN or card"):
                desk.close_record(record.id, memo)
        everything = CLEAN.with_changes(**SENSITIVE)
        assert desk.save_draft(record.id, everything) is False
        with pytest.raises(CallwiseError):
            desk.close_record(record.id, everything)

        closed = desk.close_record(record.id, CLEAN)  # the clean memo closes the record
        assert closed.state is CallState.CLOSED
        assert phone.calls == []  # nothing here touched the phone
        while_open = _scan(db_dir, log_dir)
    finally:
        store.close()
    after_close = _scan(db_dir, log_dir)  # the WAL checkpointed into the main files
    for found in (while_open, after_close):
        assert {n: files for n, files in found.items() if n != MARKER} == {}
        assert "callwise.log" in found[MARKER]  # the log would have shown a write
        assert any(".sqlite3" in name for name in found[MARKER])
