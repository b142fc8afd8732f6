"""How long the GUI thread is ever unresponsive while the desktop places a burst of real calls.

    .venv/bin/python bench/bench_gui_latency.py [--calls 20] [--platform xcb|offscreen]

The real desktop (`ui.application.open_desktop`) over the real graph (`app.bootstrap.build` with
`demo=True`: SQLite in a temporary folder, the demo customers, the demo line as a separate
process, a real SipPhone) runs in this process. A 5 ms `QTimer` (PreciseTimer) on the GUI
thread is the probe: each tick notes how late it fired; any work that holds the GUI thread
(SIP, network, keyring, database, or Qt itself) shows up as a late tick. A watcher thread samples
the GUI thread's Python stack whenever the probe has not ticked for 30 ms, so a long stall comes
with where it was spent.

The burst is what an agent does, as fast as the screens allow, `--calls` times, alternating two
demo customers who answer (Ana García, Liam O'Connor): pick the customer, switch to
"Not Ready – Follow-Up", send the "Customer Callback" notification (a SIP MESSAGE to the demo
line), dial once the gate opens, wait for the answer (the demo line rings ~1 s), verify the name,
confirm the recording notice, hang up, write the memo, close the record. The driver waits for the
controller's signals in nested event loops, so it never blocks the GUI thread itself. The clock
is fixed at 12:00 in Chicago so the calling window is open; it moves 30 s per call.

Bar: the GUI thread never blocks for more than 50 ms.
"""

from __future__ import annotations

import argparse
import gc
import os
import statistics
import sys
import tempfile
import threading
import time
import traceback
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
for entry in (str(ROOT), str(ROOT / "bench")):
    if entry not in sys.path:
        sys.path.insert(0, entry)

CHICAGO_NOON = datetime(2026, 11, 20, 18, 0, tzinfo=UTC)
CUSTOMERS = ("demo-ana-garcia", "demo-liam-oconnor")
PROBE_MS = 5
STALL_S = 0.030


class Probe:
    """Ticks every PROBE_MS on the GUI thread; records how late each tick was (ms)."""

    def __init__(self) -> None:
        from PySide6.QtCore import Qt, QTimer

        self.last = time.perf_counter()
        self.lags: list[float] = []
        self.recording = False
        self.timer = QTimer()
        self.timer.setTimerType(Qt.TimerType.PreciseTimer)
        self.timer.setInterval(PROBE_MS)
        self.timer.timeout.connect(self._tick)

    def start(self) -> None:
        self.last = time.perf_counter()
        self.timer.start()

    def _tick(self) -> None:
        now = time.perf_counter()
        if self.recording:
            self.lags.append(max(0.0, (now - self.last) * 1000.0 - PROBE_MS))
        self.last = now


class StallWatcher(threading.Thread):
    """Samples the GUI thread while the probe is late, one report per stall.

    Each sample notes the GUI thread's Python stack, whether the kernel had it running (state R
    in /proc: Qt busy in C++) or sleeping (waiting: for the GIL, a lock, or the X server), and
    where the other Python threads were (one of them holds the GIL when the GUI thread waits
    for it).
    """

    def __init__(self, probe: Probe) -> None:
        super().__init__(name="stall-watcher", daemon=True)
        self.probe = probe
        main = threading.main_thread()
        self.main_id = main.ident or 0
        self.stat = Path(f"/proc/self/task/{main.native_id}/stat")
        self.stop = threading.Event()
        self.stalls: list[tuple[float, str]] = []  # (length ms, summary)
        self._current: tuple[float, Counter[str], Counter[str], list[bool]] | None = None

    def _running(self) -> bool:
        try:
            return self.stat.read_text().rsplit(")", 1)[1].split()[0] == "R"
        except (OSError, IndexError):
            return False

    def run(self) -> None:
        # The frames sampled below can be the last reference to a finished frame of the SIP
        # thread, whose locals may hold pjsua2 objects: freed here, their destructors call
        # pjlib, which aborts the process from a thread it does not know (seen once in 4 runs).
        import pjsua2 as pj

        pj.Endpoint.instance().libRegisterThread("stall-watcher")
        while not self.stop.wait(0.005):
            last = self.probe.last
            late = time.perf_counter() - last
            if self.probe.recording and late > STALL_S:
                running = self._running()
                frames = sys._current_frames()
                if self._current is None or self._current[0] != last:
                    self._flush()
                    self._current = (last, Counter(), Counter(), [])
                self._current[1][_where(frames.get(self.main_id))] += 1
                self._current[3].append(running)
                for thread in threading.enumerate():
                    if thread.ident in (self.main_id, self.ident) or thread.ident not in frames:
                        continue
                    where = _where(frames[thread.ident], own_only=True)
                    if where:
                        self._current[2][f"{thread.name}: {where}"] += 1
            elif self._current is not None and self._current[0] != last:
                self._flush()

    def _flush(self) -> None:
        if self._current is None:
            return
        last, places, others, running = self._current
        self._current = None
        length = (self.probe.last - last) * 1000.0 if self.probe.last != last else 0.0
        busy = sum(running) / len(running)
        summary = (f"GUI thread {'running' if busy >= 0.5 else 'waiting'} "
                   f"({busy:.0%} of samples on a CPU): {places.most_common(1)[0][0]}")
        if others:
            summary += "; meanwhile " + "; ".join(w for w, _ in others.most_common(2))
        self.stalls.append((length, summary))


def _where(frame: Any, *, own_only: bool = False) -> str:
    """The innermost frames of our own code (app/, ui/) and what they were calling."""
    if frame is None:
        return "?"
    stack = traceback.extract_stack(frame)
    ours = [f for f in stack if "/app/" in f.filename or "/ui/" in f.filename]
    inner = stack[-1]
    if own_only and (not ours or inner.name in ("get", "wait", "_pump", "libHandleEvents")):
        return ""  # idle: a worker waiting for work, the SIP thread polling
    if not ours and Path(inner.filename).name == Path(__file__).name:
        return "in Qt's event processing, no app code on the stack"
    parts = [f"{Path(f.filename).parent.name}/{Path(f.filename).name}:{f.lineno} {f.name}"
             for f in ours[-2:]]
    parts.append(f"-> {Path(inner.filename).name}:{inner.lineno} {inner.name}")
    return " | ".join(parts)


_WAITING: dict[tuple[int, str], list[Expect]] = {}


class Expect:
    """Register first, trigger, then wait in a nested event loop (the GUI keeps running).

    Each signal is connected once, to a dispatcher, and never disconnected: disconnecting
    Python callables from PySide6 signals over and over corrupted a reference count and crashed
    the interpreter at exit (PySide6 6.x; seen with two calls' worth of waits).
    """

    def __init__(self, owner: Any, name: str, test: Callable[..., bool] = lambda *_: True) -> None:
        from PySide6.QtCore import QEventLoop

        self.name, self.test = name, test
        self.loop = QEventLoop()
        self.args: tuple[Any, ...] | None = None
        key = (id(owner), name)
        if key not in _WAITING:
            _WAITING[key] = []
            getattr(owner, name).connect(lambda *args, k=key: _dispatch(k, args))
        self._waiting = _WAITING[key]
        self._waiting.append(self)

    def wait(self, timeout_ms: int = 15_000) -> tuple[Any, ...]:
        from PySide6.QtCore import QTimer

        if self.args is None:
            QTimer.singleShot(timeout_ms, self.loop.quit)
            self.loop.exec()
        if self in self._waiting:
            self._waiting.remove(self)
        if self.args is None:
            raise TimeoutError(f"no {self.name} within {timeout_ms} ms")
        return self.args

    def cancel(self) -> None:
        if self in self._waiting:
            self._waiting.remove(self)


def _dispatch(key: tuple[int, str], args: tuple[Any, ...]) -> None:
    for waiter in list(_WAITING.get(key, ())):
        if waiter.args is None and waiter.test(*args):
            waiter.args = args
            waiter._waiting.remove(waiter)
            waiter.loop.quit()


def one_call(controller: Any, customer_id: str) -> None:
    from app.domain.enums import AgentState, NotificationTemplate
    from app.domain.memo import Memo, PaymentTopic

    c = controller
    card = Expect(c, "verdict_did_change")
    controller.select_customer(customer_id)
    card.wait()
    if controller.desk.agent.state is not AgentState.NOT_READY_FOLLOW_UP:
        state = Expect(c, "verdict_did_change")
        controller.set_agent_state(AgentState.NOT_READY_FOLLOW_UP)
        state.wait()
    gate = Expect(c, "verdict_did_change", lambda v: v.allowed)
    sent = Expect(c, "notification_did_finish")
    controller.send_notification(NotificationTemplate.CUSTOMER_CALLBACK)
    (notification,) = sent.wait()
    if not notification.delivered:
        raise RuntimeError(f"notification not delivered: {notification.detail}")
    gate.wait()
    started = Expect(c, "call_did_start")
    connected = Expect(c, "call_did_change", lambda r: r.connected_at is not None)
    controller.dial()
    started.wait()
    connected.wait()
    verified = Expect(c, "call_did_change", lambda r: r.verified_at is not None)
    controller.verify_customer()
    verified.wait()
    notice = Expect(c, "call_did_change", lambda r: r.recording_notice_at is not None)
    controller.confirm_recording_notice()
    notice.wait()
    ended = Expect(c, "call_did_end")
    controller.hangup()
    (record,) = ended.wait()
    closed = Expect(c, "record_did_close")
    controller.close_record(record.memo.with_changes(
        summary="Checked the line together.", customer_response="Customer confirmed it works.",
        payment_topic=PaymentTopic.NOT_DISCUSSED) if record.memo else Memo())
    closed.wait()


def run(calls: int, idle_s: float, workdir: Path) -> dict[str, Any]:
    from PySide6.QtWidgets import QApplication

    from app import bootstrap
    from app.domain.clock import FixedClock
    from app.ports.phone import RegistrationChanged
    from app.settings import load_settings
    from ui.application import open_desktop, route_qt_messages

    app = QApplication.instance() or QApplication(sys.argv[:1])
    route_qt_messages()  # Qt's warnings to logging, as the app does
    clock = FixedClock(CHICAGO_NOON)
    settings = load_settings(None, workdir / "no-machine-config.toml")
    graph = bootstrap.build(demo=True, data_dir_override=str(workdir / "data"), settings=settings,
                            clock=clock)
    desktop = open_desktop(graph)
    probe = Probe()
    watcher = StallWatcher(probe)
    result: dict[str, Any] = {}
    try:
        desktop.window.show()
        registered = Expect(desktop.controller, "registration_did_change",
                            lambda e: isinstance(e, RegistrationChanged) and e.registered)
        loaded = Expect(desktop.controller, "customers_did_load")
        graph.start_phone()
        desktop.controller.start()
        registered.wait()
        loaded.wait()
        probe.start()
        watcher.start()
        # Idle first: what the probe reads when nothing happens (timer jitter, painting).
        probe.recording = True
        idle = Expect(desktop.controller, "message_did_arrive", lambda *_: False)
        from PySide6.QtCore import QTimer

        QTimer.singleShot(int(idle_s * 1000), idle.loop.quit)
        idle.loop.exec()
        idle.cancel()
        result["idle"] = list(probe.lags)
        probe.lags.clear()
        started = time.perf_counter()
        for i in range(calls):
            one_call(desktop.controller, CUSTOMERS[i % len(CUSTOMERS)])
            clock.advance(timedelta(seconds=30))
        result["burst_s"] = time.perf_counter() - started
        probe.recording = False
        result["burst"] = list(probe.lags)
        watcher.stop.set()
        watcher.join(1)
        result["stalls"] = sorted(watcher.stalls, reverse=True)
    finally:
        watcher.stop.set()
        probe.timer.stop()
        desktop.window.close()
        desktop.close()
        graph.close()
        # Delete the window now, while the QApplication is alive: left to the garbage collector
        # at interpreter exit, this harness's window crashed PySide6 (bool_dealloc) there. The
        # app itself deletes nothing this way; its own exit after calls was checked clean.
        desktop.window.deleteLater()
        app.processEvents()
        del desktop
        gc.collect()
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=20)
    parser.add_argument("--idle-s", type=float, default=3.0)
    parser.add_argument("--platform", choices=("xcb", "offscreen"), default="xcb")
    args = parser.parse_args()
    import logging

    from bench_startup import display

    logging.basicConfig(level=logging.ERROR)  # pjsip and the app log quietly, as in the app
    env: dict[str, str] = {}
    with tempfile.TemporaryDirectory(prefix="callwise-bench-gui-") as tmp, \
            display(args.platform, env):
        os.environ.update(env)
        result = run(args.calls, args.idle_s, Path(tmp))

    def row(name: str, lags: list[float]) -> str:
        ordered = sorted(lags) or [0.0]
        p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
        over = sum(1 for lag in lags if lag > 50.0)
        return (f"| {name} | {len(lags)} | {statistics.median(ordered):.2f} | {p99:.2f} | "
                f"{ordered[-1]:.2f} | {over} |")

    print(f"## Run {datetime.now().strftime('%Y-%m-%d %H:%M')} on {os.cpu_count()} CPUs, "
          f"Qt platform {args.platform}, {args.calls} calls in {result['burst_s']:.1f} s\n")
    print(f"| GUI thread, {PROBE_MS} ms probe | ticks | median lag ms | p99 ms | max ms | "
          "ticks > 50 ms |")
    print("|---|---|---|---|---|---|")
    print(row(f"idle, {args.idle_s:g} s", result["idle"]))
    print(row("call burst", result["burst"]))
    stalls = [s for s in result["stalls"] if s[0] > STALL_S * 1000]
    if stalls:
        print(f"\nLongest stalls (> {STALL_S * 1000:.0f} ms) and where the GUI thread was:\n")
        for length, where in stalls[:8]:
            print(f"- {length:.0f} ms: `{where}`")
    worst = max(result["burst"], default=0.0)
    print(f"\nWorst GUI-thread stall during the burst: **{worst:.1f} ms** (bar: never over 50 ms)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
