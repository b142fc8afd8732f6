"""Process start to a ready agent desktop registered at Kamailio; and its idle memory.

    .venv/bin/python bench/bench_startup.py [--runs 10] [--platform xcb|offscreen] [--idle-s 3]

Three kinds of process are started, interleaved, `--runs` times each (after one discarded warm-up
of each), all from this script so they share one clock (CLOCK_MONOTONIC is system-wide):

- **app**: the real `callwise` desktop (`ui.entry.main`, the console script's own function)
  with the company account: a machine config (`CALLWISE_MACHINE_CONFIG`) naming Kamailio as
  registrar over UDP, the user's config naming the SIP user, and the password in a real
  Secret Service keyring (gnome-keyring-daemon on a private D-Bus, as in the keyring tests). So
  the time includes Python start, every import, settings, the keyring lookup over D-Bus (in the
  app's own child process), building the window, starting pjsua2 and the digest-challenged
  REGISTER at Kamailio. Ready = both the main window's first Expose event (mapped, paintable) and
  the controller's "phone registration: registered" log line have happened, whichever is later.
  The app opens its record store after that, on its worker: the time until the store is open
  and the customer search enabled (the "records open: customer search enabled" log line) is
  reported as its own row, and the idle memory is read only once that has happened too. The
  probes only note the time: logging handlers installed before `main` runs, and a Qt event
  filter installed when the app first calls `ui.application.open_desktop` (the app imports Qt
  and makes its QApplication itself, where the console script does).
- **bare window**: Python + PySide6, a 1366x768 QMainWindow shown, to its first Expose event.
- **bare registration**: Python + pjsua2, an Endpoint, a UDP transport and an account
  registering (with the same digest challenge) at the same Kamailio, to the 200 OK.

The bar: app <= 1.5 x (bare window + bare registration), medians of the same run.

Memory: each child reports its VmRSS after `--idle-s` seconds of idling once ready; for the
app that is the agent desktop open, registered, nothing happening. A last app run uses
`--demo` (the demo line and six demo customers listed) for the same figure; the demo line is a
separate process and not counted.

`--platform xcb` (default) runs everything under a private Xvfb display, `offscreen` uses Qt's
offscreen platform. Python byte-code is cached (in the temporary folder, `PYTHONPYCACHEPREFIX`)
as it is on an installed workstation, even where PYTHONDONTWRITEBYTECODE is set. Network
traffic stays on 127.0.0.1.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

SIP_USER, SIP_PASSWORD, SIP_DOMAIN = "agent", "bench-secret", "callwise.test"


def rss_kib(pid: int | str = "self") -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


# ------------------------------------------------------------------------------------ children
# Each child prints "READY <monotonic seconds>" once ready, "RSS <KiB>" after idling, and exits.
# Heavy imports happen inside these functions, after the interpreter started: they are timed.


def _watch_expose(widget: Any, on_exposed: Callable[[], None]) -> object:
    """Notes the first Expose of `widget`'s window: call right after `widget.show()`, which made
    the window handle; Qt delivers the Expose later, from the event loop. The filter sits on
    that one QWindow, as the app's own `WhenUp` does: on the whole QApplication it would see
    every object's events, and PySide6 makes a Python wrapper (and its enums) for each new
    class it hands to Python, which cost the desktop about 35 ms of its window build."""
    from PySide6.QtCore import QEvent, QObject

    class Watch(QObject):
        def eventFilter(self, obj: QObject, event: QEvent) -> bool:
            if event.type() == QEvent.Type.Expose and obj.isExposed():  # type: ignore[attr-defined]
                on_exposed()
            return False

    watch = Watch()
    widget.windowHandle().installEventFilter(watch)
    return watch


def child_window(idle_s: float) -> int:
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication, QMainWindow

    app = QApplication(sys.argv[:1])
    window = QMainWindow()
    window.resize(1366, 768)
    done: list[float] = []

    def exposed() -> None:
        if not done:
            done.append(time.monotonic())
            print(f"READY {done[0]:.6f}", flush=True)
            QTimer.singleShot(int(idle_s * 1000), lambda: (
                print(f"RSS {rss_kib()}", flush=True), app.quit()))

    window.show()
    _keep = _watch_expose(window, exposed)
    app.exec()
    del _keep
    return 0


def child_register(port: int, idle_s: float) -> int:
    import threading

    import pjsua2 as pj

    registered = threading.Event()

    class Account(pj.Account):  # type: ignore[misc]
        def onRegState(self, prm: object) -> None:
            if prm.code == 200 and prm.expiration > 0:  # type: ignore[attr-defined]
                registered.set()

    ep = pj.Endpoint()
    ep.libCreate()
    cfg = pj.EpConfig()
    cfg.logConfig.level = 0
    cfg.logConfig.consoleLevel = 0
    ep.libInit(cfg)
    ep.audDevManager().setNullDev()
    tc = pj.TransportConfig()
    tc.boundAddress = "127.0.0.1"
    ep.transportCreate(pj.PJSIP_TRANSPORT_UDP, tc)
    ep.libStart()
    ac = pj.AccountConfig()
    ac.idUri = f"sip:{SIP_USER}@{SIP_DOMAIN}"
    ac.regConfig.registrarUri = f"sip:127.0.0.1:{port}"
    ac.sipConfig.authCreds.append(pj.AuthCredInfo("digest", "*", SIP_USER, 0, SIP_PASSWORD))
    acc = Account()
    acc.create(ac)
    if not registered.wait(10):
        print("FAILED not registered", flush=True)
        return 1
    print(f"READY {time.monotonic():.6f}", flush=True)
    time.sleep(idle_s)
    print(f"RSS {rss_kib()}", flush=True)
    acc.shutdown()
    del acc
    ep.libDestroy()
    return 0


def _around(owner: object, name: str, label: str, mark: Callable[[str], None]) -> None:
    original = getattr(owner, name)

    def timed(*args: object, **kwargs: object) -> object:
        mark(f"{label} start")
        try:
            return original(*args, **kwargs)
        finally:
            mark(f"{label} end")

    setattr(owner, name, timed)


def _timeline_hooks(mark: Callable[[str], None]) -> None:
    """Note when the start-up steps begin and end (only in the `--timeline` run). Imports only
    what `ui.entry` imports before Qt, so the run is not slowed by the probe itself; the steps
    of `app.bootstrap` are wrapped once `ui.application` has imported it (`_bootstrap_hooks`)."""
    from app.keyring import lookup

    _around(lookup, "company_password_lookup", "keyring lookup process started", mark)


def _bootstrap_hooks(mark: Callable[[str], None]) -> None:
    from app import bootstrap

    _around(bootstrap, "prepare", "bootstrap.prepare (settings, phone; no policy, no store)", mark)
    _around(bootstrap.AppGraph, "start_phone", "start_phone", mark)
    _around(bootstrap.CompanyPassword, "result", "SIP password collected, on the SIP thread", mark)
    _around(bootstrap.AppGraph, "open_records", "open_records on the worker (policy, store, desk)",
            mark)


def _when_imported(module_name: str, then: Callable[[Any], None],
                   mark: Callable[[str], None] | None = None) -> None:
    """Calls `then(module)` right after `module_name` is first imported (by the app itself)."""
    import builtins

    real_import = builtins.__import__

    def watch(name: str, *args: object, **kwargs: object) -> object:
        if name == module_name and module_name not in sys.modules:
            if mark is not None:
                mark(f"importing {module_name} (Qt, widgets) start")
            module = real_import(name, *args, **kwargs)  # type: ignore[arg-type]
            if mark is not None:
                mark(f"importing {module_name} (Qt, widgets) end")
            builtins.__import__ = real_import
            then(sys.modules[module_name])
            return module
        return real_import(name, *args, **kwargs)  # type: ignore[arg-type]

    builtins.__import__ = watch  # type: ignore[assignment]


def child_app(argv: list[str], idle_s: float, timeline: bool = False) -> int:
    """The app imports Qt itself, where and when it does as the console script: the probes that
    need Qt (the expose filter, the idle timer) are installed when `open_desktop` is first
    called, once `run` has made the QApplication and before the window exists."""
    import logging

    marks: dict[str, float] = {}

    def report() -> None:
        from PySide6.QtWidgets import QApplication

        print(f"RSS {rss_kib()}", flush=True)
        QApplication.closeAllWindows()  # the app's own staged shutdown follows

    def maybe_ready() -> None:
        if "window" in marks and "registered" in marks and "ready" not in marks:
            marks["ready"] = max(marks["window"], marks["registered"])
            if timeline:
                print(f"MARK {marks['window']:.6f} main window exposed", flush=True)
                print(f"MARK {marks['registered']:.6f} registration logged by the controller",
                      flush=True)
            print(f"READY {marks['ready']:.6f} window={marks['window']:.6f} "
                  f"registered={marks['registered']:.6f}", flush=True)
        # Memory is read with the desktop fully open: ready, and the records open too.
        if "ready" in marks and "records" in marks and "idle" not in marks:
            from PySide6.QtCore import QTimer

            marks["idle"] = time.monotonic()
            QTimer.singleShot(int(idle_s * 1000), report)

    def exposed() -> None:
        if "window" not in marks:
            marks["window"] = time.monotonic()
            maybe_ready()

    class Registered(logging.Handler):
        """The controller logs this on the GUI thread when the registration event arrives."""

        def emit(self, record: logging.LogRecord) -> None:
            if "registered" not in marks and record.getMessage().startswith(
                    "phone registration: registered"):
                marks["registered"] = time.monotonic()
                maybe_ready()

    class RecordsOpen(logging.Handler):
        """Logged on the GUI thread when the store is open and the search enabled."""

        def emit(self, record: logging.LogRecord) -> None:
            if "records" not in marks and record.getMessage().startswith(
                    "records open: customer search enabled"):
                marks["records"] = time.monotonic()
                print(f"RECORDS {marks['records']:.6f}", flush=True)
                if timeline:
                    print(f"MARK {marks['records']:.6f} records open, customer search enabled",
                          flush=True)
                maybe_ready()

    keep: list[object] = []

    def mark(label: str) -> None:
        print(f"MARK {time.monotonic():.6f} {label}", flush=True)

    def probe(application: Any) -> None:
        if timeline:
            _bootstrap_hooks(mark)
        original = application.open_desktop

        def open_desktop(*args: object, **kwargs: object) -> object:
            if timeline:
                mark("open_desktop (window built) start")
            try:
                desktop = original(*args, **kwargs)
            finally:
                if timeline:
                    mark("open_desktop (window built) end")
            window = desktop.window
            show = window.show

            def shown() -> None:
                show()
                keep.append(_watch_expose(window, exposed))

            window.show = shown  # `run` shows the window right after this returns
            return desktop

        application.open_desktop = open_desktop

    logging.getLogger("ui.controller").addHandler(Registered())
    logging.getLogger("callwise").addHandler(RecordsOpen())
    if timeline:
        mark("bench child started (Python up, ui.entry not yet imported)")
        _timeline_hooks(mark)
    _when_imported("ui.application", probe, mark if timeline else None)
    from ui.entry import main

    code = main(argv)
    keep.clear()
    return code


# ------------------------------------------------------------------------------------ parent


@contextmanager
def display(platform: str, env: dict[str, str]) -> Iterator[None]:
    if platform != "xcb":
        env["QT_QPA_PLATFORM"] = platform
        yield
        return
    number = next(n for n in range(90, 200)
                  if not Path(f"/tmp/.X11-unix/X{n}").exists() and not Path(f"/tmp/.X{n}-lock").exists())
    xvfb = subprocess.Popen(["Xvfb", f":{number}", "-screen", "0", "1366x768x24", "-nolisten", "tcp"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 10
        while not Path(f"/tmp/.X11-unix/X{number}").exists():
            if xvfb.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("Xvfb did not start")
            time.sleep(0.02)
        env["DISPLAY"] = f":{number}"
        env["QT_QPA_PLATFORM"] = "xcb"
        yield
    finally:
        xvfb.terminate()
        xvfb.wait(5)


def run_child(kind: list[str], env: dict[str, str], idle_s: float,
              marks: list[tuple[float, str]] | None = None,
              records: list[float] | None = None) -> tuple[float, int, str]:
    """(seconds from just before the process was created to READY, its idle RSS KiB, READY line);
    `marks` receives the timeline child's (ms since start, step) pairs, `records` the app's
    seconds to its records being open (customer search usable)."""
    t0 = time.monotonic()
    proc = subprocess.Popen([sys.executable, __file__, "--child", *kind, "--idle-s", str(idle_s)],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        out, err = proc.communicate(timeout=90)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
    ready = next((ln for ln in out.splitlines() if ln.startswith("READY ")), None)
    rss = next((int(ln.split()[1]) for ln in out.splitlines() if ln.startswith("RSS ")), 0)
    if ready is None or proc.returncode != 0:
        raise RuntimeError(f"{kind} failed ({proc.returncode}):\n{out}\n{err}")
    if records is not None:
        records.extend(float(ln.split()[1]) - t0 for ln in out.splitlines()
                       if ln.startswith("RECORDS "))
    if marks is not None:
        for line in out.splitlines():
            if line.startswith("MARK "):
                _, at, label = line.split(" ", 2)
                marks.append(((float(at) - t0) * 1000.0, label))
    return float(ready.split()[1]) - t0, rss, ready


def setup_company_account(home: Path, env: dict[str, str], kamailio_port: int) -> None:
    machine = home / "machine.toml"
    machine.write_text(f'[sip]\nregistrar = "sip:127.0.0.1:{kamailio_port}"\n'
                       f'domain = "{SIP_DOMAIN}"\ntransport = "udp"\n')
    env["CALLWISE_MACHINE_CONFIG"] = str(machine)
    user = Path(env["XDG_CONFIG_HOME"]) / "Callwise" / "callwise.toml"
    user.parent.mkdir(parents=True, exist_ok=True)
    user.write_text(f'[sip]\nusername = "{SIP_USER}"\n[agent]\nid = "bench-agent"\n'
                    'name = "Bench Agent"\n')
    subprocess.run([sys.executable, "-c",
                    "import sys; from app.keyring.secrets import SipSecrets; "
                    "SipSecrets().set_password(sys.argv[1], sys.argv[2])", SIP_USER, SIP_PASSWORD],
                   env=env, check=True, timeout=60, cwd=ROOT)


IMPORT_COSTS = (
    ("PySide6.QtWidgets", "import PySide6.QtWidgets"),
    ("pjsua2 + app.sip.engine", "import app.sip.engine"),
    ("sqlalchemy.orm", "import sqlalchemy.orm"),
    ("alembic (only when a migration is due)",
     "import alembic.command, alembic.runtime.migration"),
    ("app.storage (all of the above it needs)", "import app.storage"),
    ("keyring + Secret Service backend (now in a child process)",
     "import keyring; keyring.get_keyring()"),
    ("app.keyring.lookup (what the desktop itself loads)", "import app.keyring.lookup"),
    ("app.policy.engine (+ phonenumbers)", "import app.policy.engine"),
    ("app.cli, every subcommand (a `callwise COMMAND` start)",
     "import app.cli; app.cli.build_parser()"),
    ("app.cli, desktop options only (a plain `callwise` start)",
     "import app.cli; app.cli.build_parser(commands=False)"),
    ("ui.application (all widgets)", "import ui.application"),
)


def import_costs(env: dict[str, str]) -> list[str]:
    """What each big dependency adds to start time and resident memory, each in a fresh
    interpreter (second of two runs, so byte-code is cached), against an empty interpreter."""
    probe = ("import time, sys; t = time.perf_counter(); {stmt}; ms = (time.perf_counter() - t) "
             "* 1000; rss = [l for l in open('/proc/self/status') if l.startswith('VmRSS:')][0]; "
             "print(ms, rss.split()[1])")

    def measure(stmt: str) -> tuple[float, int]:
        result = (0.0, 0)
        for _ in range(2):
            out = subprocess.run([sys.executable, "-c", probe.format(stmt=stmt)], env=env,
                                 capture_output=True, text=True, check=True, timeout=60, cwd=ROOT)
            ms, kib = out.stdout.split()
            result = (float(ms), int(kib))
        return result

    _, empty = measure("pass")
    lines = ["| import (fresh interpreter) | ms | + RSS MiB |", "|---|---|---|"]
    for label, stmt in IMPORT_COSTS:
        ms, kib = measure(stmt)
        lines.append(f"| {label} | {ms:.0f} | {(kib - empty) / 1024:.1f} |")
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--platform", choices=("xcb", "offscreen"), default="xcb")
    parser.add_argument("--idle-s", type=float, default=3.0,
                        help="idle time after ready before the resident memory is read")
    parser.add_argument("--import-costs", action=argparse.BooleanOptionalAction, default=True,
                        help="also time each big import and its memory in a fresh interpreter")
    parser.add_argument("--timeline", action=argparse.BooleanOptionalAction, default=True,
                        help="also run the app once more, noting when each start-up step ran")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args, rest = parser.parse_known_args()
    if args.child:
        kind = args.child[0]
        if kind == "window":
            return child_window(args.idle_s)
        if kind == "register":
            return child_register(int(args.child[1]), args.idle_s)
        with_marks = "--timeline-child" in rest
        rest = [a for a in rest if a != "--timeline-child"]
        return child_app([*args.child[1:], *rest, "--quit-after", "60"], args.idle_s, with_marks)

    import tempfile

    from tests.peers.kamailio import running_kamailio
    from tests.support.keyring_daemon import secret_service

    samples: dict[str, list[float]] = {"window": [], "register": [], "app": []}
    memory: dict[str, list[int]] = {"window": [], "register": [], "app": []}
    records_s: list[float] = []
    with tempfile.TemporaryDirectory(prefix="callwise-bench-startup-") as tmp:
        home = Path(tmp)
        with secret_service(home) as keyring_env, \
                running_kamailio(home, user=SIP_USER, password=SIP_PASSWORD,
                                 domain=SIP_DOMAIN) as kam:
            env = {**os.environ, **keyring_env, "PYTHONPATH": str(ROOT),
                   "XDG_STATE_HOME": str(home / "state"), "XDG_CACHE_HOME": str(home / "cache"),
                   # Byte-code cached as on an installed workstation (the warm-up writes it),
                   # into the temporary folder rather than the source tree.
                   "PYTHONPYCACHEPREFIX": str(home / "pycache")}
            env.pop("PYTHONDONTWRITEBYTECODE", None)
            setup_company_account(home, env, kam.port)
            with display(args.platform, env):
                kinds = {"window": ["window"], "register": ["register", str(kam.port)],
                         "app": ["app"]}
                for kind in kinds.values():  # warm-up: page cache, database creation
                    run_child(kind, env, 0.1)
                for i in range(args.runs):
                    order = list(kinds)[i % 3:] + list(kinds)[: i % 3]
                    for name in order:
                        seconds, rss, _ = run_child(kinds[name], env, args.idle_s,
                                                    records=records_s if name == "app" else None)
                        samples[name].append(seconds * 1000.0)
                        memory[name].append(rss)
                demo_s, demo_rss, _ = run_child(["app", "--demo", "--data-dir",
                                                 str(home / "demo-data")], env, args.idle_s)
                costs = import_costs(env) if args.import_costs else []
                timeline: list[tuple[float, str]] = []
                if args.timeline:
                    run_child(["app", "--timeline-child"], env, 0.2, timeline)

    med = {name: statistics.median(values) for name, values in samples.items()}
    bare = med["window"] + med["register"]
    print(f"## Run {datetime.now().strftime('%Y-%m-%d %H:%M')} on {os.cpu_count()} CPUs, "
          f"{args.runs} runs each, Qt platform {args.platform}\n")
    print("| process start to ready | median ms | min ms | max ms | idle RSS MiB (median) |")
    print("|---|---|---|---|---|")
    labels = {"window": "bare PySide6 window (first expose)",
              "register": "bare pjsua2 registration at Kamailio (200 OK)",
              "app": "Callwise desktop, window exposed and registered at Kamailio"}
    for name, label in labels.items():
        values = samples[name]
        print(f"| {label} | {med[name]:.0f} | {min(values):.0f} | {max(values):.0f} | "
              f"{statistics.median(memory[name]) / 1024:.1f} |")
    if records_s:
        records_ms = [r * 1000.0 for r in records_s]
        print(f"| Callwise desktop, records open and customer search usable (not part of the "
              f"bar) | {statistics.median(records_ms):.0f} | {min(records_ms):.0f} | "
              f"{max(records_ms):.0f} | |")
    print(f"\nbare window + bare registration: {bare:.0f} ms; Callwise / bare = "
          f"**{med['app'] / bare:.2f}** (bar: at most 1.5)")
    print(f"\nIdle resident memory, agent desktop open and registered: "
          f"**{statistics.median(memory['app']) / 1024:.1f} MiB** (bar: under 100 MB); "
          f"with `--demo` (demo customers listed): {demo_rss / 1024:.1f} MiB, ready in "
          f"{demo_s * 1000:.0f} ms")
    if timeline:
        print("\nOne more app start, its steps (ms since the process was created):\n")
        print("| ms | step |\n|---|---|")
        for at, label in sorted(timeline):
            print(f"| {at:.0f} | {label} |")
    if costs:
        print("\nWhere it goes (each import alone, in a fresh interpreter):\n")
        print("\n".join(costs))
    return 0


if __name__ == "__main__":
    sys.exit(main())
