"""Storage benchmark: customer search over 100,000 customers, and the writes a call makes.

    .venv/bin/python bench/bench_storage.py                      # SQLite in a temp dir
    .venv/bin/python bench/bench_storage.py --start-postgres     # and a throw-away PostgreSQL
    .venv/bin/python bench/bench_storage.py --pg-url postgresql+psycopg://user@host/db

Measures, end to end through the public store API (unit of work, repository, domain objects):
- search: p50/p99 per kind of query (name prefix, "first last", account prefix, a number typed
  "(312) 555-0142", its last four digits, E.164);
- dial write: the attempt and its audit entry, committed (what happens before the INVITE);
- close write: load the record, close it with its memo, save, ticket update, audit entry, commit;
- baseline: a bare sqlite3 one-row INSERT + COMMIT with the same WAL/synchronous=FULL settings,
  the floor set by the disk's fsync, run in the same process so ratios survive a noisy machine.

Prints a Markdown report (copied into docs/benchmarks/storage.md).
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from app.domain.agent import Agent
from app.domain.call import CallRecord
from app.domain.customer import Customer, PhoneNumber
from app.domain.enums import CallOrigin, CallOutcome, CallReason, Team
from app.domain.memo import Memo, PaymentTopic
from app.storage import SqlStore, open_store

ROOT = Path(__file__).resolve().parent.parent

T0 = datetime(2025, 3, 3, 15, 0, tzinfo=UTC)
FIRST = ["Ana", "Ben", "Carla", "Dev", "Elena", "Farid", "Grace", "Hiro", "Ines", "Jamal", "Kate",
         "Luis", "Mina", "Noah", "Olga", "Pedro", "Quinn", "Rosa", "Sam", "Tara", "Umar", "Vera",
         "Wen", "Ximena", "Yusuf", "Zoe"]
LAST = ["García", "Smith", "Johnson", "Nguyen", "Patel", "Kim", "Müller", "Rossi", "Okafor",
        "Brown", "Davis", "Lopez", "Wilson", "Taylor", "Moore", "Martin", "Lee", "Clark", "Lewis",
        "Walker", "Hall", "Young", "King", "Wright", "Scott", "Green", "Baker", "Adams", "Nelson",
        "Hill", "Campbell", "Mitchell", "Roberts", "Carter", "Phillips", "Evans", "Turner"]
AREAS = ["312", "773", "212", "646", "602", "808", "208", "303", "404", "415", "213", "617"]
DONE = Memo(reason="Troubleshooting follow-up", ticket_numbers="TCK-1",
            summary="Reset network settings; signal back. " * 4,
            customer_response="Confirmed working; no concerns.",
            payment_topic=PaymentTopic.NOT_DISCUSSED, ticket_findings="APN reset fixed it")


def make_customers(count: int, rng: random.Random) -> list[Customer]:
    out = []
    for i in range(count):
        numbers = [PhoneNumber(f"+1{rng.choice(AREAS)}{rng.randint(200, 999)}"
                               f"{rng.randint(0, 9999):04d}")]
        if rng.random() < 0.3:
            numbers.append(PhoneNumber(f"+1{rng.choice(AREAS)}{rng.randint(200, 999)}"
                                       f"{rng.randint(0, 9999):04d}", "mobile"))
        out.append(Customer(f"cust-{i:06d}", rng.choice(FIRST), f"{rng.choice(LAST)}{i % 97}",
                            f"8800 {i:08d}", tuple(numbers), last_bill_amount="$80.00",
                            device="Pixel 8", last_care_call=date(2025, 1, 1)))
    return out


def pct(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def timed(fn: Callable[[], object], runs: int) -> list[float]:
    out = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        out.append((time.perf_counter() - start) * 1000)
    return out


def row(label: str, samples: list[float], extra: str = "") -> str:
    return (f"| {label} | {len(samples)} | {statistics.median(samples):.2f} | "
            f"{pct(samples, 0.99):.2f} | {max(samples):.2f} | {extra} |")


def seed(store: SqlStore, customers: list[Customer]) -> float:
    start = time.perf_counter()
    with store.unit_of_work() as uow:
        uow.agents.add(Agent("bench-agent", "Bench Agent", Team.CARE))
        uow.customers.add_many(customers)
        uow.commit()
    seconds = time.perf_counter() - start
    # Planner statistics, as PostgreSQL's autovacuum and SQLite's `PRAGMA optimize` (run by
    # SqlStore.close) would have gathered after a bulk import; without them PostgreSQL guesses.
    with store.engine.begin() as conn:
        conn.exec_driver_sql("ANALYZE")
    return seconds


def search_report(store: SqlStore, customers: list[Customer], runs: int,
                  rng: random.Random) -> list[str]:
    def pick() -> Customer:
        return customers[rng.randrange(len(customers))]

    def national(c: Customer) -> str:
        return c.primary_number[-10:]

    kinds: dict[str, Callable[[], str]] = {
        "last name prefix (3 letters)": lambda: pick().last_name[:3],
        "\"first last\"": lambda: (lambda c: f"{c.first_name} {c.last_name}")(pick()),
        "account prefix": lambda: pick().account_number[:9],
        "number \"(312) 555-0142\"": lambda: (lambda n: f"({n[:3]}) {n[3:6]}-{n[6:]}")(
            national(pick())),
        "last four digits": lambda: national(pick())[-4:],
        "E.164": lambda: pick().primary_number,
    }
    for make_query in kinds.values():  # warm caches and the pool; not measured
        with store.unit_of_work(read_only=True) as uow:
            uow.customers.search(make_query())
    lines = []
    everything: list[float] = []
    for label, make_query in kinds.items():
        queries = [make_query() for _ in range(runs)]
        found: list[int] = []

        def one(queries: list[str] = queries, found: list[int] = found) -> None:
            with store.unit_of_work(read_only=True) as uow:
                found.append(len(uow.customers.search(queries[len(found)])))

        samples = timed(one, runs)
        everything += samples
        lines.append(row(label, samples, f"{statistics.mean(found):.1f} hits"))
    lines.append(row("**all searches**", everything))
    return lines


def _open_record(i: int, rng: random.Random, customers: list[Customer]) -> CallRecord:
    customer = customers[rng.randrange(len(customers))]
    return CallRecord(f"bench-{i:06d}", customer.id, "bench-agent", customer.primary_number,
                      customer.primary_number[1:], CallOrigin.TICKET, CallReason.TICKET_UPDATE,
                      T0 + timedelta(seconds=i), pack_version="2025.1", pack_checksum="x" * 64,
                      verdicts={f"OB-RULE-{k}": "pass" for k in range(20)}, ticket_ref="TCK-1")


def write_report(store: SqlStore, customers: list[Customer], runs: int,
                 rng: random.Random) -> list[str]:
    records = [_open_record(i, rng, customers) for i in range(runs)]
    it = iter(records)

    def dial() -> None:
        record = next(it)
        with store.unit_of_work() as uow:
            uow.calls.add(record)
            uow.audit.append("call_attempt", record.id,
                             {"customer": record.customer_id, "verdicts": record.verdicts},
                             record.dialed_at)
            uow.commit()

    dial_samples = timed(dial, runs)
    with store.unit_of_work() as uow:  # not timed: the call happens
        for record in records:
            record.connected(record.dialed_at + timedelta(seconds=10))
            record.confirm_recording_notice(record.dialed_at + timedelta(seconds=15))
            record.ended(record.dialed_at + timedelta(minutes=5), CallOutcome.REMOTE_HANGUP)
            uow.calls.save(record)
        uow.commit()
    it = iter(records)

    def close() -> None:
        record_id = next(it).id
        with store.unit_of_work() as uow:
            record = uow.calls.get(record_id)
            assert record is not None
            record.memo = DONE
            closed_at = record.dialed_at + timedelta(minutes=7)
            record.close(closed_at)
            uow.calls.save(record)
            uow.tickets.add_update("TCK-1", record.id, DONE.ticket_findings, closed_at)
            uow.audit.append("record_closed", record.id, {"outcome": "remote_hangup"}, closed_at)
            uow.commit()

    close_samples = timed(close, runs)
    return [row("dial: attempt + audit, commit", dial_samples),
            row("close: load, memo, save, ticket update, audit, commit", close_samples)]


def sqlite_baseline(folder: Path, runs: int) -> list[str]:
    db = sqlite3.connect(folder / "baseline.sqlite3", isolation_level=None)
    try:
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=FULL")
        db.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, body TEXT)")
        body = "x" * 600

        def one() -> None:
            db.execute("BEGIN IMMEDIATE")
            db.execute("INSERT INTO t (body) VALUES (?)", (body,))
            db.execute("COMMIT")

        return [row("baseline: bare sqlite3 INSERT + COMMIT (WAL, FULL)", timed(one, runs))]
    finally:
        db.close()


@contextmanager
def maybe_postgres(args: argparse.Namespace) -> Iterator[str | None]:
    if args.pg_url:
        yield args.pg_url
    elif args.start_postgres:
        sys.path.insert(0, str(ROOT))  # the test helper that runs a throw-away server
        from tests.support.postgres import running_postgres

        with running_postgres() as server:
            _, url = server.create_database("bench")
            yield url
    else:
        yield None


def bench_backend(label: str, url: str, customers: list[Customer], args: argparse.Namespace,
                  folder: Path | None) -> list[str]:
    rng = random.Random(args.seed)
    store = open_store(url)
    try:
        seconds = seed(store, customers)
        lines = [f"### {label}", "",
                 f"Seeded {len(customers):,} customers in {seconds:.1f} s "
                 f"({len(customers) / seconds:,.0f}/s, one transaction).", "",
                 "| operation | runs | p50 ms | p99 ms | max ms | notes |",
                 "|---|---:|---:|---:|---:|---|"]
        lines += search_report(store, customers, args.searches, rng)
        lines += write_report(store, customers, args.writes, rng)
        if folder is not None:
            lines += sqlite_baseline(folder, args.writes)
        return [*lines, ""]
    finally:
        store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--searches", type=int, default=300, help="per kind of query")
    parser.add_argument("--writes", type=int, default=500)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--dir", help="folder for the SQLite file (default: a temp dir)")
    parser.add_argument("--pg-url", help="also run against this (empty) PostgreSQL database")
    parser.add_argument("--start-postgres", action="store_true",
                        help="also run against a throw-away local PostgreSQL (needs the server)")
    args = parser.parse_args()
    customers = make_customers(args.customers, random.Random(args.seed))
    # The 100,000 test customers live for the whole run; keep the collector from rescanning
    # them mid-measurement (a harness artefact of 100+ ms, not a cost the app would pay).
    gc.collect()
    gc.freeze()
    report = [f"Run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {platform.node()}: "
              f"Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}, "
              f"{platform.machine()}, {len(os.sched_getaffinity(0))} CPUs.", ""]
    with tempfile.TemporaryDirectory(prefix="callwise-bench-", dir=args.dir) as tmp:
        folder = Path(tmp)
        report += bench_backend("SQLite (WAL, synchronous=FULL)",
                                f"sqlite:///{folder / 'bench.sqlite3'}", customers, args, folder)
        with maybe_postgres(args) as pg_url:
            if pg_url:
                report += bench_backend("PostgreSQL", pg_url, customers, args, None)
    print("\n".join(report))


if __name__ == "__main__":
    main()
