"""Offline catch-up benchmark: a desktop works through an outage of N call records, then sends them.

    .venv/bin/python bench/bench_sync.py                    # 10,000 records, throw-away PostgreSQL
    .venv/bin/python bench/bench_sync.py --records 2000 --dir /path/on/the/real/disk

What happens, end to end through the public store API (`open_resilient_store`, units of work,
repositories, domain objects), against a real PostgreSQL 15 that is really stopped and started:

1. online: the desktop dials each of `--customers` customers once (so it has them locally);
2. outage: the server is stopped (`pg_ctl stop -m fast`); the desktop writes `--records` call
   records, each as an agent makes it: the attempt with its audit link, the ending with the
   agent's state change, a memo draft, the close with its audit link (4 units of work, 7
   writes per record, every one committed and fsync'd locally);
3. catch-up: the server is started; `catch_up(limit=500)` is called until nothing waits, as the
   app's worker thread does, and each call is timed (how long the worker is busy per call);
4. the central database is checked: every record exactly once, closed, the audit chain whole;
5. baseline, same run: the same writes replayed straight into a fresh central database through
   the same repositories in the same 500-write transactions, without the outbox, its decoding,
   the high-water mark and the local bookkeeping, so the ratio shows what exactly-once costs.

The throw-away server runs with fsync=off (tests/support/postgres.py): central commit times
leave out the disk flush a production server pays; the desktop's SQLite runs as shipped
(WAL, synchronous=FULL). Prints a Markdown report for docs/benchmarks/storage.md.
"""

from __future__ import annotations

import argparse
import copy
import os
import platform
import sqlite3
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from app.domain.agent import Agent
from app.domain.call import CallRecord, new_record_id
from app.domain.customer import Customer, PhoneNumber
from app.domain.enums import AgentState, CallOrigin, CallOutcome, CallReason, Team
from app.domain.memo import Memo
from app.storage import open_resilient_store, open_store
from app.storage.sync import SEND_BATCH, apply_op

ROOT = Path(__file__).resolve().parent.parent
T0 = datetime(2025, 3, 3, 15, 0, tzinfo=UTC)
AGENT = Agent("ann", "Ann Agent", Team.CARE)
MEMO = Memo(reason="Follow-up", voicemail_left=True,
            account_note="No answer; left the callback voicemail with the case number.")


def customers(count: int) -> list[Customer]:
    return [Customer(f"c-{i:05d}", f"First{i}", f"Last{i}", f"ACC-{i:05d}",
                     (PhoneNumber(f"+1312555{i % 10_000:04d}"),)) for i in range(count)]


def one_record(store: object, customer_id: str, at: datetime,
               ops: list[tuple[str, dict[str, object]]] | None = None) -> int:
    """Writes one record as the desk does (4 units of work); returns the writes made. With
    `ops`, also keeps the writes (for the baseline's replay)."""
    record = CallRecord(new_record_id(), customer_id, AGENT.id, "+13125550000", "13125550000",
                        CallOrigin.FOLLOW_UP, CallReason.TROUBLESHOOTING, at,
                        pack_version="bench", verdicts={"OB-WINDOW": "pass"})
    steps: list[list[tuple[str, dict[str, object]]]] = [
        [("calls.add", {"record": copy.deepcopy(record)}),
         ("audit.append", {"kind": "call_attempt", "record_id": record.id,
                           "payload": {"customer": customer_id}, "at": at})]]
    ended = at + timedelta(seconds=40)
    record.ended(ended, CallOutcome.NO_ANSWER, 480, "no answer")
    steps.append([("calls.save", {"record": copy.deepcopy(record)}),
                  ("agents.record_state", {"agent_id": AGENT.id,
                                           "state": AgentState.AFTER_CALL_WORK, "at": ended})])
    steps.append([("calls.save_draft", {"record_id": record.id, "memo": MEMO,
                                        "at": ended + timedelta(seconds=20)})])
    record.memo = MEMO
    record.close(ended + timedelta(seconds=30))
    steps.append([("calls.save", {"record": record}),
                  ("audit.append", {"kind": "record_closed", "record_id": record.id,
                                    "payload": {"outcome": "no_answer"},
                                    "at": ended + timedelta(seconds=30)})])
    count = 0
    for step in steps:
        with store.unit_of_work() as uow:  # type: ignore[attr-defined]
            for op, kwargs in step:
                repository, method = op.split(".")
                getattr(getattr(uow, repository), method)(**kwargs)
                count += 1
                if ops is not None:
                    ops.append((op, kwargs))
            uow.commit()
    return count


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=10_000)
    parser.add_argument("--customers", type=int, default=50)
    parser.add_argument("--dir", help="folder for the desktop's SQLite (default: a temp dir)")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))  # the test helper that runs a throw-away server
    from tests.support.postgres import running_postgres

    report = [f"Run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {platform.node()}: "
              f"Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}, "
              f"{platform.machine()}, {len(os.sched_getaffinity(0))} CPUs; "
              f"{args.records:,} records over {args.customers} customers.", ""]
    people = customers(args.customers)
    with tempfile.TemporaryDirectory(prefix="callwise-sync-", dir=args.dir) as tmp, \
            running_postgres() as server:
        _, central_url = server.create_database("central")
        seed = open_store(central_url)
        with seed.unit_of_work() as uow:
            uow.agents.add(AGENT)
            uow.customers.add_many(people)
            uow.commit()
        seed.close()

        desktop = open_resilient_store(central_url, f"sqlite:///{Path(tmp) / 'desktop.sqlite3'}")
        for i, customer in enumerate(people):  # a morning online
            one_record(desktop, customer.id, T0 + timedelta(minutes=i))
        assert desktop.sync_status().pending == 0

        server.stop()
        started = time.perf_counter()
        writes = 0
        for i in range(args.records):
            writes += one_record(desktop, people[i % len(people)].id,
                                 T0 + timedelta(hours=2, seconds=30 * i))
        offline_s = time.perf_counter() - started
        status = desktop.sync_status()
        assert not status.online and status.pending == writes, status

        assert server._start().returncode == 0, server.log_tail()
        calls_s: list[float] = []
        started = time.perf_counter()
        while True:
            t = time.perf_counter()
            status = desktop.catch_up(limit=SEND_BATCH)
            calls_s.append(time.perf_counter() - t)
            if status.pending == 0:
                break
            assert status.online, status
        catch_up_s = time.perf_counter() - started
        assert status.rejected == 0, status
        desktop.close()

        check = open_store(central_url, migrate=False)
        with check.engine.connect() as conn:
            stored = conn.exec_driver_sql("SELECT count(*), count(DISTINCT id), "
                                          "sum(CASE WHEN state = 'closed' THEN 1 ELSE 0 END) "
                                          "FROM calls").one()
        with check.unit_of_work(read_only=True) as uow:
            chain = uow.audit.check()
        check.close()
        expected = args.records + len(people)
        assert tuple(stored) == (expected, expected, expected), stored
        assert chain.ok and chain.entries == 2 * expected, chain

        # Baseline: the same writes, straight into a fresh central database, same batching.
        _, direct_url = server.create_database("direct")
        direct = open_store(direct_url)
        with direct.unit_of_work() as uow:
            uow.agents.add(AGENT)
            uow.customers.add_many(people)
            uow.commit()
        recorded: list[tuple[str, dict[str, object]]] = []
        scratch = open_store(f"sqlite:///{Path(tmp) / 'scratch.sqlite3'}")
        with scratch.unit_of_work() as uow:
            uow.agents.add(AGENT)
            uow.customers.add_many(people)
            uow.commit()
        for i in range(args.records):
            one_record(scratch, people[i % len(people)].id,
                       T0 + timedelta(hours=2, seconds=30 * i), recorded)
        scratch.close()
        started = time.perf_counter()
        for start in range(0, len(recorded), SEND_BATCH):
            with direct.unit_of_work() as uow:
                for op, kwargs in recorded[start:start + SEND_BATCH]:
                    apply_op(uow, op, kwargs)
                uow.commit()
        direct_s = time.perf_counter() - started
        direct.close()

    report += [
        "| phase | records | writes | seconds | records/s | writes/s |",
        "|---|---:|---:|---:|---:|---:|",
        f"| offline: written locally (4 commits per record) | {args.records:,} | {writes:,} | "
        f"{offline_s:.1f} | {args.records / offline_s:,.0f} | {writes / offline_s:,.0f} |",
        f"| **catch-up** after the outage | {args.records:,} | {writes:,} | "
        f"**{catch_up_s:.1f}** | **{args.records / catch_up_s:,.0f}** | "
        f"{writes / catch_up_s:,.0f} |",
        f"| baseline: same writes straight to PostgreSQL, same batches | {args.records:,} | "
        f"{len(recorded):,} | {direct_s:.1f} | {args.records / direct_s:,.0f} | "
        f"{len(recorded) / direct_s:,.0f} |",
        "",
        f"Catch-up / baseline: **{catch_up_s / direct_s:.2f}x**. "
        f"The worker thread was busy {statistics.median(calls_s) * 1000:.0f} ms (p50), "
        f"{percentile(calls_s, 0.99) * 1000:.0f} ms (p99), "
        f"{max(calls_s) * 1000:.0f} ms (max) per `catch_up(limit={SEND_BATCH})` call, "
        f"{len(calls_s)} calls. Afterwards: {stored[0]:,} calls stored centrally, "
        f"{stored[1]:,} distinct, all closed; audit chain of {chain.entries:,} entries intact.",
    ]
    print("\n".join(report))


if __name__ == "__main__":
    main()
