"""Dial click to SIP INVITE on the wire, with the policy re-check and the attempt's database write.

    .venv/bin/python bench/bench_dial.py [--calls 200] [--gap-ms 60]

What one "dial click" costs here is exactly what the desktop's worker thread runs when the agent
presses Dial: `Desk.place_call` (load the customer and contact history, evaluate the whole policy
pack, write the call record and its audit entry in one SQLite transaction with
`synchronous=FULL`, commit), then `SipPhone.dial` (queue hand-off to the SIP owner thread,
wake-up, `makeCall`). The clock starts just before `place_call` and stops when SIPp receives the
INVITE (its `-trace_msg` timestamp; both read the same wall clock).

Measured in the same run, each against its own SIPp UAS on loopback (tests/peers/sipp/
uas_bench.xml: registrar + instant answer):
- bare pjsua2: one thread, `makeCall` right on the polling thread (bench_sip.bare_child);
- SipPhone.dial alone (bench_sip.run_callwise): the SIP adapter without the desk;
- Desk.place_call: the whole path above.

Set-up, outside the timed region: a real SQLite store in a temporary directory, migrated and
seeded with the demo customers (`app.demo.customers.seed_demo`); a FixedClock at 10:00 in
Chicago, so Ana García (Chicago) is inside OB-WINDOW; the agent switched to
"Not Ready – Follow-Up" (OB-STATE); before each call a delivered "Customer Callback"
notification is stored (OB-NOTIFY) and the clock moves 10 s. After each call (answered at once,
hung up by us) the record is closed with a complete memo and the agent leaves after-call work,
as the agent would, so the next dial is not refused. Every verdict is a real one: a blocked
dial aborts the run.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
for entry in (str(ROOT), str(ROOT / "bench")):
    if entry not in sys.path:
        sys.path.insert(0, entry)

import bench_sip  # noqa: E402

from app.domain.enums import AgentState, NotificationTemplate  # noqa: E402
from app.domain.memo import Memo, PaymentTopic  # noqa: E402
from app.ports.phone import (  # noqa: E402
    CallEnded,
    CallPhase,
    CallProgressed,
    RegistrationChanged,
    SipAccountConfig,
)
from tests.peers.sipp import Sipp, running_sipp  # noqa: E402

CHICAGO_10AM = datetime(2026, 11, 20, 16, 0, tzinfo=UTC)
CUSTOMER = "demo-ana-garcia"
NUMBER = "+13125550141"


class Breakdown:
    """Where `place_call`'s time goes: each storage call and the policy evaluation it makes,
    timed by wrapping those functions (a separate pass, so the wrappers never touch the timed
    run)."""

    TARGETS = (
        ("app.storage.repositories.customers", "SqlCustomerRepository", ("get", "contact_history")),
        ("app.storage.repositories.commitments", "SqlNotificationRepository",
         ("templates_sent",)),
        ("app.storage.repositories.calls", "SqlCallRepository", ("open_records", "add")),
        ("app.storage.repositories.audit", "SqlAuditLog", ("append",)),
        ("app.storage.uow", "SqlUnitOfWork", ("__enter__", "commit", "__exit__")),
    )

    def __init__(self) -> None:
        self.inside = False
        self.samples: dict[str, list[float]] = {}
        self._undo: list[tuple[object, str, object]] = []

    def _wrap(self, owner: object, name: str, label: str) -> None:
        original = getattr(owner, name)

        def timed(*args: object, **kwargs: object) -> object:
            if not self.inside:
                return original(*args, **kwargs)
            t0 = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                self.samples.setdefault(label, []).append((time.perf_counter() - t0) * 1000.0)

        self._undo.append((owner, name, original))
        setattr(owner, name, timed)

    def __enter__(self) -> Breakdown:
        import importlib

        import app.services.desk as desk_module

        for module_name, class_name, methods in self.TARGETS:
            cls = getattr(importlib.import_module(module_name), class_name)
            for method in methods:
                self._wrap(cls, method, f"{class_name}.{method}")
        self._wrap(desk_module, "evaluate", "policy evaluate()")
        return self

    def __exit__(self, *exc: object) -> None:
        for owner, name, original in reversed(self._undo):
            setattr(owner, name, original)

    def table(self, calls: int) -> list[str]:
        lines = ["| step inside place_call | calls per dial | median ms each |", "|---|---|---|"]
        for label, values in self.samples.items():
            lines.append(f"| {label} | {len(values) / calls:g} | "
                         f"{statistics.median(values):.3f} |")
        return lines


def run_desk(uas: Sipp, workdir: Path, calls: int, gap_s: float,
             breakdown: Breakdown | None = None) -> tuple[list[float], list[float]]:
    """(wall-clock time before each place_call, place_call's own duration in ms)."""
    from app.demo.customers import demo_agent, seed_demo
    from app.domain.call import CallContext
    from app.domain.clock import FixedClock
    from app.policy.pack import load_pack
    from app.ports.store import Notification
    from app.services.desk import Desk
    from app.sip.engine import SipPhone
    from app.storage import open_store

    store = open_store(f"sqlite:///{workdir / 'bench.sqlite3'}")
    seed_demo(store)
    agent = demo_agent()
    with store.unit_of_work() as uow:
        if uow.agents.get(agent.id) is None:
            uow.agents.add(agent)
            uow.commit()
    clock = FixedClock(CHICAGO_10AM)
    phone = SipPhone()
    events = bench_sip.Waiter()
    phone.subscribe(events)
    domain = f"127.0.0.1:{uas.port}"
    phone.start(SipAccountConfig(registrar=f"sip:{domain}", username="bench", domain=domain,
                                 max_calls=1))
    desk = Desk(store=store, pack=load_pack(None), phone=phone, clock=clock, agent=agent,
                sip_domain=domain)
    started: list[float] = []
    durations: list[float] = []
    try:
        events.until(lambda e: isinstance(e, RegistrationChanged) and e.registered)
        desk.set_state(AgentState.NOT_READY_FOLLOW_UP)
        context = CallContext()
        memo_done = Memo(summary="Bench call.", customer_response="Fine.",
                         payment_topic=PaymentTopic.NOT_DISCUSSED)
        for i in range(calls):
            clock.advance(timedelta(seconds=10))
            with store.unit_of_work() as uow:
                uow.notifications.add(Notification(
                    id=f"bench-n{i}", customer_id=CUSTOMER, agent_id=agent.id,
                    channel="sip_message", template=NotificationTemplate.CUSTOMER_CALLBACK.value,
                    destination=f"sip:13125550141@{domain}", body="Customer Callback",
                    sent_at=clock.now(), delivered=True, detail="200 OK"))
                uow.commit()
            time.sleep(gap_s)
            t0 = time.time()
            p0 = time.perf_counter()
            if breakdown is not None:
                breakdown.inside = True
            record = desk.place_call(CUSTOMER, NUMBER, context)
            durations.append((time.perf_counter() - p0) * 1000.0)
            if breakdown is not None:
                breakdown.inside = False
            started.append(t0)
            ref = record.id
            for event in events.until(lambda e, r=ref: isinstance(e, CallProgressed)
                                      and e.ref == r and e.phase is CallPhase.CONNECTED):
                desk.on_phone_event(event)
            desk.hangup(ref)
            for event in events.until(lambda e, r=ref: isinstance(e, CallEnded) and e.ref == r):
                desk.on_phone_event(event)
                if isinstance(event, CallEnded) and not event.connected:
                    raise RuntimeError(f"call {i} was not answered: {event}")
            desk.verify_customer(ref)
            desk.confirm_recording_notice(ref)
            desk.close_record(ref, memo_done.with_changes(reason=record.memo.reason))
            desk.set_state(AgentState.NOT_READY_FOLLOW_UP)  # after-call work is over
    finally:
        phone.shutdown()
        store.close()
    return started, durations


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--gap-ms", type=int, default=60,
                        help="pause before each dial (see bench_sip.py: pjsip's socket recycling)")
    parser.add_argument("--breakdown", type=int, default=50, metavar="CALLS",
                        help="calls in the separate pass that times each step of place_call "
                        "(0: skip)")
    args = parser.parse_args()
    gap_s = args.gap_ms / 1000.0
    with tempfile.TemporaryDirectory(prefix="callwise-bench-dial-") as tmp:
        with running_sipp("uas_bench.xml", calls=1_000_000, timeout_s=3600) as uas:
            started, durations = run_desk(uas, Path(tmp), args.calls, gap_s)
            desk = bench_sip.latencies(started, bench_sip.invite_arrivals(uas)[: args.calls])
        with running_sipp("uas_bench.xml", calls=1_000_000, timeout_s=3600) as uas:
            dialled, _ = bench_sip.run_callwise(uas, args.calls, 0, gap_s)
            engine = bench_sip.latencies(dialled, bench_sip.invite_arrivals(uas)[: args.calls])
        with running_sipp("uas_bench.xml", calls=1_000_000, timeout_s=3600) as uas:
            bare_dialled, _ = bench_sip.run_bare(uas, args.calls, 0, args.gap_ms)
            bare = bench_sip.latencies(bare_dialled, bench_sip.invite_arrivals(uas))
        breakdown = Breakdown()
        if args.breakdown:
            workdir = Path(tmp) / "breakdown"
            workdir.mkdir()
            with running_sipp("uas_bench.xml", calls=1_000_000, timeout_s=3600) as uas, breakdown:
                run_desk(uas, workdir, args.breakdown, gap_s, breakdown)

    pct = bench_sip.percentile
    rows = [("bare pjsua2 loop (makeCall)", bare), ("SipPhone.dial", engine),
            ("Desk.place_call (policy + DB write + dial)", desk)]
    print(f"## Run {datetime.now().strftime('%Y-%m-%d %H:%M')} on {os.cpu_count()} CPUs, "
          f"{args.calls} calls each, {args.gap_ms} ms between calls\n")
    print("| click -> INVITE on the wire | p50 ms | p99 ms | max ms | mean ms |")
    print("|---|---|---|---|---|")
    for name, values in rows:
        print(f"| {name} | {pct(values, 0.5):.3f} | {pct(values, 0.99):.3f} | "
              f"{max(values):.3f} | {statistics.mean(values):.3f} |")
    print(f"\n`place_call` itself (returns after the commit and the dial hand-off): "
          f"p50 {pct(durations, 0.5):.3f} ms, p99 {pct(durations, 0.99):.3f} ms")
    if args.breakdown:
        print(f"\nWhere place_call's time goes (separate pass of {args.breakdown} calls, "
              "each step timed on its own):\n")
        print("\n".join(breakdown.table(args.breakdown)))
    diff = pct(desk, 0.5) - pct(bare, 0.5)
    print(f"\np50 difference to bare pjsua2: {diff:+.3f} ms (bar: within 3 ms); "
          f"ratio {pct(desk, 0.5) / pct(bare, 0.5):.2f}; "
          f"Desk.place_call p99 {pct(desk, 0.99):.3f} ms (bar: under 15 ms)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
