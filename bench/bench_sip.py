"""SIP engine benchmark: dial() to INVITE on the wire, against a SIPp UAS on loopback.

    .venv/bin/python bench/bench_sip.py [--calls 200] [--soak 1000]

Measures, in one run:
- Callwise: `SipPhone.dial()` called from another thread (as the GUI does), through the
  command queue and the owner thread's wake-up, to the INVITE reaching SIPp;
- bare pjsua2: a minimal loop (one thread, `makeCall` right on the polling thread, same
  pjsua2 settings) in a child process, to the INVITE reaching SIPp;
- optionally a soak: N more calls through SipPhone, resident memory sampled after a warm-up.

"On the wire" is SIPp's receive timestamp (its -trace_msg log, wall clock) minus the wall-clock
time taken just before dialling; both processes read the same clock. Calls are sequential
(dial, answer, hang up, next), SIPp answers at once. Prints a Markdown block for
docs/benchmarks/sip.md. Network traffic stays on 127.0.0.1.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import re
import statistics
import subprocess
import sys
import threading
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from app.ports.phone import (  # noqa: E402
    CallEnded,
    CallPhase,
    CallProgressed,
    PhoneEvent,
    RegistrationChanged,
    SipAccountConfig,
)
from tests.peers.sipp import Sipp, running_sipp  # noqa: E402

_STAMP = re.compile(
    r"^-{10,} (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+)\n\w+ message received \[\d+\] bytes :\n\n"
    r"(INVITE [^\n]*)\n(.*?)(?=^-{10,} |\Z)",
    re.MULTILINE | re.DOTALL,
)


def invite_arrivals(uas: Sipp) -> list[float]:
    """Wall-clock arrival of each new INVITE (first per Call-ID), in order."""
    seen: set[str] = set()
    arrivals: list[float] = []
    for stamp, _, rest in _STAMP.findall(uas.messages()):
        call_id = re.search(r"^Call-ID:\s*(\S+)", rest, re.MULTILINE | re.IGNORECASE)
        key = call_id.group(1) if call_id else stamp
        if key in seen:
            continue
        seen.add(key)
        arrivals.append(datetime.strptime(stamp, "%Y-%m-%d %H:%M:%S.%f").timestamp())
    return arrivals


def rss_kib() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


class Waiter:
    """Turns phone events (owner thread) into waits for the bench thread."""

    def __init__(self) -> None:
        self.cond = threading.Condition()
        self.events: list[PhoneEvent] = []

    def __call__(self, event: PhoneEvent) -> None:
        with self.cond:
            self.events.append(event)
            self.cond.notify_all()

    def until(self, test: object, timeout_s: float = 10.0) -> list[PhoneEvent]:
        """Pop events up to and including the first that passes `test`."""
        deadline = time.monotonic() + timeout_s
        with self.cond:
            while True:
                for i, event in enumerate(self.events):
                    if test(event):  # type: ignore[operator]
                        taken = self.events[: i + 1]
                        del self.events[: i + 1]
                        return taken
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"no event; have {self.events[-5:]}")
                self.cond.wait(left)

    def wait(self, test: object, timeout_s: float = 10.0) -> PhoneEvent:
        """The first event that passes `test`; the ones before it are dropped."""
        return self.until(test, timeout_s)[-1]


def sample_soak(memory: dict[str, float], i: int | None, calls: int, soak: int) -> None:
    """RSS after the soak's 100 warm-up calls (call `i` just ended) and at its end (`i` None)."""
    if not soak:
        return
    if i is None:
        gc.collect()
        memory["rss_end_kib"] = rss_kib()
        memory["soak_calls"] = soak - 100
    elif i + 1 == calls + 100:
        gc.collect()
        memory["rss_after_warmup_kib"] = rss_kib()


def run_callwise(uas: Sipp, calls: int, soak: int, gap_s: float
                 ) -> tuple[list[float], dict[str, float]]:
    from app.sip.engine import SipPhone

    phone = SipPhone()
    waiter = Waiter()
    phone.subscribe(waiter)
    phone.start(SipAccountConfig(registrar=f"sip:127.0.0.1:{uas.port}", username="bench",
                                 domain="127.0.0.1", max_calls=1))
    waiter.wait(lambda e: isinstance(e, RegistrationChanged) and e.registered)
    dialled: list[float] = []
    memory: dict[str, float] = {}
    try:
        for i in range(calls + soak):
            ref = f"b{i}"
            time.sleep(gap_s)
            t0 = time.time()
            phone.dial(ref, f"sip:bench@127.0.0.1:{uas.port}")
            if i < calls:
                dialled.append(t0)
            waiter.wait(lambda e, r=ref: isinstance(e, CallProgressed) and e.ref == r
                        and e.phase is CallPhase.CONNECTED)
            phone.hangup(ref)
            ended = waiter.wait(lambda e, r=ref: isinstance(e, CallEnded) and e.ref == r)
            assert isinstance(ended, CallEnded) and ended.connected, ended
            sample_soak(memory, i, calls, soak)
        sample_soak(memory, None, calls, soak)
    finally:
        phone.shutdown()
    return dialled, memory


def run_bare(uas: Sipp, calls: int, soak: int, gap_ms: int
             ) -> tuple[list[float], dict[str, float]]:
    out = subprocess.run(
        [sys.executable, __file__, "--bare-child", str(uas.port), str(calls), str(soak),
         str(gap_ms)],
        capture_output=True, text=True, check=True, timeout=3600,
    )
    result = json.loads(out.stdout.strip().splitlines()[-1])
    return [float(x) for x in result["dialled"]], {k: float(v) for k, v in result["memory"].items()}


def bare_child(port: int, calls: int, soak: int, gap_ms: int) -> None:
    """The baseline: one thread, pjsua2 polled in a loop, makeCall right on it; the same soak
    (warm-up, then RSS before and after) as `run_callwise`, so the layers' cost is a ratio."""
    import ctypes

    import pjsua2 as pj
    import pjsua2.pjsua2 as bindings

    ctypes.CDLL(bindings._pjsua2.__file__).pj_log_set_level(0)
    state: dict[str, int] = {}

    class Call(pj.Call):  # type: ignore[misc]
        def onCallState(self, prm: object) -> None:
            state["call"] = self.getInfo().state

    class Account(pj.Account):  # type: ignore[misc]
        def onRegState(self, prm: object) -> None:
            state["reg"] = prm.code  # type: ignore[attr-defined]

    ep = pj.Endpoint()
    ep.libCreate()
    cfg = pj.EpConfig()
    cfg.uaConfig.threadCnt = 0
    cfg.uaConfig.mainThreadOnly = False
    cfg.medConfig.threadCnt = 0
    cfg.logConfig.level = 0
    cfg.logConfig.consoleLevel = 0
    ep.libInit(cfg)
    ep.audDevManager().setNullDev()
    tc = pj.TransportConfig()
    tc.boundAddress = "127.0.0.1"
    tid = ep.transportCreate(pj.PJSIP_TRANSPORT_UDP, tc)
    ep.libStart()
    ac = pj.AccountConfig()
    ac.idUri = "sip:bare@127.0.0.1"
    ac.regConfig.registrarUri = f"sip:127.0.0.1:{port}"
    ac.sipConfig.proxies.append(f"sip:127.0.0.1:{port};lr")
    ac.sipConfig.transportId = tid
    acc = Account()
    acc.create(ac)
    while state.get("reg") != 200:
        ep.libHandleEvents(5)
    dialled = []
    memory: dict[str, float] = {}
    for i in range(calls + soak):
        call = Call(acc)
        end_gap = time.monotonic() + gap_ms / 1000.0
        while time.monotonic() < end_gap:  # keep polling during the gap, as a phone would
            ep.libHandleEvents(max(0, int((end_gap - time.monotonic()) * 1000)))
        t0 = time.time()
        call.makeCall(f"sip:bench@127.0.0.1:{port}", pj.CallOpParam(True))
        if i < calls:
            dialled.append(t0)
        deadline = time.monotonic() + 10
        while state.get("call") != pj.PJSIP_INV_STATE_CONFIRMED:
            if state.get("call") == pj.PJSIP_INV_STATE_DISCONNECTED or time.monotonic() > deadline:
                raise RuntimeError(f"bare call {i} did not connect")
            ep.libHandleEvents(5)
        call.hangup(pj.CallOpParam(True))
        while state.get("call") != pj.PJSIP_INV_STATE_DISCONNECTED:
            ep.libHandleEvents(5)
        del call
        sample_soak(memory, i, calls, soak)
    sample_soak(memory, None, calls, soak)
    acc.shutdown()
    del acc
    ep.libDestroy()
    print(json.dumps({"dialled": dialled, "memory": memory}))


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def latencies(dialled: list[float], arrivals: list[float]) -> list[float]:
    if len(arrivals) != len(dialled):
        raise RuntimeError(f"{len(dialled)} dials but {len(arrivals)} INVITEs seen by SIPp")
    return [(a - d) * 1000.0 for d, a in zip(dialled, arrivals, strict=True)]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--soak", type=int, default=0, help="extra calls for the memory soak")
    parser.add_argument("--gap-ms", type=int, default=60,
                        help="pause before each dial: pjsip 2.15.1 aborts if calls are set up "
                        "and torn down faster than its ioqueue recycles sockets (500 ms), and "
                        "SipPhone paces dials beyond 16 calls per 600 ms (measured as latency)")
    parser.add_argument("--bare-child", nargs=4, type=int, metavar=("PORT", "CALLS", "SOAK", "GAP"),
                        help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.bare_child:
        bare_child(*args.bare_child)
        return 0
    soak = args.soak + 100 if args.soak else 0  # 100 warm-up calls before the first sample
    with running_sipp("uas_bench.xml", calls=1_000_000, timeout_s=3600) as uas:
        dialled, memory = run_callwise(uas, args.calls, soak, args.gap_ms / 1000.0)
        ours = latencies(dialled, invite_arrivals(uas)[: args.calls])
    with running_sipp("uas_bench.xml", calls=1_000_000, timeout_s=3600) as uas:
        bare_dialled, bare_memory = run_bare(uas, args.calls, soak, args.gap_ms)
        bare = latencies(bare_dialled, invite_arrivals(uas)[: args.calls])

    ours_p50, ours_p99 = percentile(ours, 0.5), percentile(ours, 0.99)
    bare_p50, bare_p99 = percentile(bare, 0.5), percentile(bare, 0.99)
    print(f"## Run {datetime.now().strftime('%Y-%m-%d %H:%M')} on {os.cpu_count()} CPUs, "
          f"{args.calls} calls each, {args.gap_ms} ms between calls\n")
    print("| dial -> INVITE on the wire | p50 ms | p99 ms | mean ms |")
    print("|---|---|---|---|")
    print(f"| bare pjsua2 loop | {bare_p50:.3f} | {bare_p99:.3f} | {statistics.mean(bare):.3f} |")
    print(f"| Callwise SipPhone | {ours_p50:.3f} | {ours_p99:.3f} | {statistics.mean(ours):.3f} |")
    print(f"\np50 difference: {ours_p50 - bare_p50:+.3f} ms (bar: within 3 ms); "
          f"ratio {ours_p50 / bare_p50:.2f}; Callwise p99 {ours_p99:.3f} ms (bar: under 15 ms)")
    if memory:
        print(f"\nSoak: {int(memory['soak_calls'])} calls each after 100 warm-up calls; every "
              "call connected and ended\n")
        print("| soak | RSS after warm-up MiB | RSS at end MiB | growth bytes/call |")
        print("|---|---|---|---|")
        growth = {}
        for name, m in (("bare pjsua2 loop", bare_memory), ("Callwise SipPhone", memory)):
            growth[name] = (m["rss_end_kib"] - m["rss_after_warmup_kib"]) * 1024 / m["soak_calls"]
            print(f"| {name} | {m['rss_after_warmup_kib'] / 1024:.1f} | "
                  f"{m['rss_end_kib'] / 1024:.1f} | {growth[name]:.0f} |")
        print(f"\nCallwise growth {growth['Callwise SipPhone']:.0f} bytes/call (bar: under 1 kB/call); "
              f"bare {growth['bare pjsua2 loop']:.0f} bytes/call; difference "
              f"{growth['Callwise SipPhone'] - growth['bare pjsua2 loop']:+.0f} bytes/call")
    return 0


if __name__ == "__main__":
    sys.exit(main())
