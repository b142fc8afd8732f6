"""Nothing acknowledged is lost when the desktop process dies mid-write (SQLite, the default).

A child process writes records and prints each id only after its commit returned; the test
SIGKILLs it at random moments, ten times over the same file, and after every kill checks that
every acknowledged record and memo draft is there, the file is intact and the audit chain holds.
"""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from app.domain.agent import Agent
from app.domain.enums import Team
from app.storage import open_store
from tests.integration.storage.conftest import make_customer

ROOT = Path(__file__).resolve().parents[3]
WRITER = Path(__file__).with_name("durability_writer.py")
ROUNDS = 10
SEED = 20250303


def _prepare(url: str) -> None:
    store = open_store(url)
    try:
        with store.unit_of_work() as uow:
            uow.agents.add(Agent("a-1", "Ann", Team.CARE))
            uow.customers.add(make_customer("c-1", "Ana", "García", "ACC-1", "+13125550142"))
            uow.commit()
    finally:
        store.close()


def _run_and_kill(url: str, prefix: str, rng: random.Random, errors: Path) -> list[str]:
    """One round: returns the complete lines the child printed before it was killed."""
    with errors.open("w") as stderr:
        child = subprocess.Popen([sys.executable, str(WRITER), url, prefix], cwd=ROOT,
                                 stdout=subprocess.PIPE, stderr=stderr, text=True,
                                 env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        assert child.stdout is not None
        ready = child.stdout.readline()
        assert ready == "ready\n", f"the writer did not start: {errors.read_text()}"
        lines: list[str] = []
        for _ in range(rng.randint(1, 60)):  # let it acknowledge a random number of writes…
            line = child.stdout.readline()
            assert line, f"the writer died on its own: {errors.read_text()}"
            lines.append(line)
        time.sleep(rng.uniform(0, 0.02))  # …then kill it somewhere in the middle of the next
        child.send_signal(signal.SIGKILL)
        rest, _ = child.communicate(timeout=30)
        lines.extend(rest.splitlines(keepends=True))
        assert child.returncode == -signal.SIGKILL
        return [line.rstrip("\n") for line in lines if line.endswith("\n")]
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()


def test_acknowledged_writes_survive_sigkill(tmp_path: Path) -> None:
    path = tmp_path / "durable.sqlite3"
    url = f"sqlite:///{path}"
    _prepare(url)
    rng = random.Random(SEED)
    acknowledged: set[str] = set()
    drafts: dict[str, str] = {}
    for round_no in range(ROUNDS):
        for line in _run_and_kill(url, f"r{round_no}", rng, tmp_path / "writer.err"):
            kind, record_id, *rest = line.split()
            if kind == "R":
                acknowledged.add(record_id)
            else:
                drafts[record_id] = f"draft {rest[0]}"

        with sqlite3.connect(path) as db:
            assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
            stored = {r for (r,) in db.execute("SELECT id FROM calls")}
            memos = dict(db.execute("SELECT call_id, reason FROM memos"))
        db.close()
        lost = acknowledged - stored
        assert not lost, f"round {round_no} (seed {SEED}): acknowledged but missing: {lost}"
        wrong = {r: (memos.get(r), d) for r, d in drafts.items() if memos.get(r) != d}
        assert not wrong, f"round {round_no} (seed {SEED}): drafts lost: {wrong}"

    store = open_store(url)
    try:
        with store.unit_of_work(read_only=True) as uow:
            assert uow.audit.verify() is None
    finally:
        store.close()
    assert len(acknowledged) >= ROUNDS  # the test did exercise something every round


def test_an_uncommitted_write_leaves_no_trace(tmp_path: Path) -> None:
    """The other half of the promise: what was not acknowledged may be gone, but never half."""
    path = tmp_path / "partial.sqlite3"
    url = f"sqlite:///{path}"
    _prepare(url)
    script = (
        "import os, signal, sys\n"
        "from datetime import UTC, datetime\n"
        "from app.domain.call import CallRecord\n"
        "from app.domain.enums import CallOrigin, CallReason\n"
        "from app.storage import open_store\n"
        "store = open_store(sys.argv[1])\n"
        "at = datetime(2025, 3, 3, tzinfo=UTC)\n"
        "uow = store.unit_of_work().__enter__()\n"
        "uow.calls.add(CallRecord('half', 'c-1', 'a-1', '+13125550142', '1', "
        "CallOrigin.FOLLOW_UP, CallReason.OTHER, at))\n"
        "uow.audit.append('call_attempt', 'half', {}, at)\n"
        "os.kill(os.getpid(), signal.SIGKILL)\n")
    child = subprocess.run([sys.executable, "-c", script, url], cwd=ROOT, timeout=60,
                           capture_output=True, text=True, check=False)
    assert child.returncode == -signal.SIGKILL, child.stderr
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert db.execute("SELECT count(*) FROM calls").fetchone() == (0,)
        assert db.execute("SELECT count(*) FROM memos").fetchone() == (0,)
        assert db.execute("SELECT count(*) FROM audit_log").fetchone() == (0,)
    db.close()
