"""`callwise doctor`: what IT runs on a workstation before blaming the network.

Checks Python, the SIP stack, audio devices, the keyring backend and the record store, and prints
a readable table (or JSON for fleet tooling). Exit status 0 only when every check passes.

`callwise doctor --test-call NUMBER` instead places one real call through the company account
(settings + keyring), or through the demo line with `--demo`, and reports registration, call
set-up time and the outcome; exit status 0 only when the call was answered. It needs the
desktop closed: pjsua allows one SIP stack per process, and the doctor runs its own.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from app.bootstrap import DemoLine
    from app.ports.phone import SipAccountConfig
    from app.sip.testcall import TestCallReport


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str


def _python() -> Check:
    ok = (3, 11) <= sys.version_info[:2] <= (3, 12)
    return Check("python", ok, f"{platform.python_version()} ({sys.executable})"
                 + ("" if ok else "; Callwise needs CPython 3.11 or 3.12"))


def _sip() -> Check:
    from app.sip.probe import probe_stack

    info = probe_stack()
    return Check("sip stack", info.version.startswith("2.15"), f"pjsua2 {info.version}")


def _audio() -> Check:
    from app.sip.probe import probe_stack

    devices = probe_stack().audio_devices
    if not devices:
        return Check("audio", False, "no audio device found (the null device still works)")
    return Check("audio", True, "; ".join(devices[:6]) + (" …" if len(devices) > 6 else ""))


def _keyring() -> Check:
    from app.keyring.secrets import KeyringUnavailable, SipSecrets, backend_name

    try:
        SipSecrets().get_password("callwise-doctor-probe")
    except KeyringUnavailable as e:
        return Check("keyring", False, f"{e.message} {e.action or ''}".strip())
    return Check("keyring", True, backend_name())


def _database(url: str) -> Callable[[], Check]:
    def check() -> Check:
        from app.storage.health import check_database

        ok, detail = check_database(url)
        return Check("database", ok, detail)
    return check


def run_checks(database_url: str) -> list[Check]:
    results = []
    for check in (_python, _sip, _audio, _keyring, _database(database_url)):
        try:
            results.append(check())
        except Exception as e:  # a doctor reports what broke instead of breaking
            name = getattr(check, "__name__", "check").strip("_")
            results.append(Check(name, False, f"{type(e).__name__}: {e}"))
    return results


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f} ms"


def format_test_call(report: TestCallReport, via: str) -> list[str]:
    """The three lines IT reads: registration, call set-up, outcome."""
    rows = [("registration", report.registered,
             f"{report.registration} in {_ms(report.registration_ms)} at {report.registrar}"
             f" ({via})" if report.registered
             else f"{report.registration} at {report.registrar} ({via})")]
    if report.setup_ms is not None:
        setup = f"INVITE to 200 OK in {_ms(report.setup_ms)}"
        if report.ringing_ms is not None:
            setup += f" (ringing after {_ms(report.ringing_ms)})"
        rows.append(("call setup", True, setup))
    elif report.registered:
        rows.append(("call setup", False, f"not answered: {report.reason}"))
    if report.outcome == "answered":
        text = f"answered; hung up after {report.talk_s or 0:.1f} s"
        if report.reason and not report.reason.startswith("200"):
            text += f" ({report.reason})"
    else:
        text = report.outcome.replace("_", " ")
        if report.reason:
            text += f" ({report.reason})"
    rows.append(("outcome", report.ok, text))
    return [f"{name:<12}  {'OK  ' if ok else 'FAIL'}  {detail}" for name, ok, detail in rows]


def _account(args: argparse.Namespace) -> tuple[SipAccountConfig, str, str, DemoLine | None]:
    """(account, the address to bind, how it was reached, the demo line to stop afterwards)."""
    from dataclasses import replace

    from app.bootstrap import DemoLine, company_account
    from app.ports.phone import SipAccountConfig, Transport
    from app.settings import load_app_settings

    if getattr(args, "demo", False):
        line = DemoLine()
        line.start()
        domain = f"127.0.0.1:{line.port}"
        account = SipAccountConfig(registrar=f"sip:{domain}", username="it-doctor",
                                   domain=domain, transport=Transport.UDP, null_audio=True)
        return account, "127.0.0.1", "demo line", line
    # The doctor never opens the agent's headset: the call is about signalling and the network.
    account = replace(company_account(load_app_settings()), null_audio=True)
    return account, "0.0.0.0", "company account", None


def _run_test_call(args: argparse.Namespace) -> int:
    from app.domain.errors import CallwiseError
    from app.sip.testcall import run_test_call

    try:
        account, bind_host, via, line = _account(args)
    except (CallwiseError, ValueError) as e:  # ValueError: a setting with an unknown value
        message = (f"{e.message} {e.action or ''}".strip() if isinstance(e, CallwiseError)
                   else f"the SIP settings are not valid: {e}")
        if args.json:
            print(json.dumps({"ok": False, "error": message}, indent=2))
        else:
            print(f"test call: {message}", file=sys.stderr)
        return 2
    try:
        report = run_test_call(account, args.test_call, talk_s=args.talk_s,
                               answer_timeout_s=args.answer_timeout_s, bind_host=bind_host)
    finally:
        if line is not None:
            line.stop()
    if args.json:
        print(json.dumps({"ok": report.ok, "via": via,
                          "test_call": {**asdict(report), "ok": report.ok}}, indent=2))
    else:
        print(f"Test call to {report.target} as {account.username}@{account.domain}")
        for line_text in format_test_call(report, via):
            print(line_text)
    return 0 if report.ok else 1


def _run(args: argparse.Namespace) -> int:
    if args.test_call:
        return _run_test_call(args)
    from app.bootstrap import database_url_for
    from app.settings import load_app_settings

    settings = load_app_settings()
    url = database_url_for(settings, args.database, args.data_dir, getattr(args, "demo", False))
    results = run_checks(url)
    if args.json:
        print(json.dumps({"ok": all(c.ok for c in results),
                          "checks": [asdict(c) for c in results]}, indent=2))
    else:
        width = max(len(c.name) for c in results)
        for c in results:
            print(f"{c.name:<{width}}  {'OK  ' if c.ok else 'FAIL'}  {c.detail}")
    return 0 if all(c.ok for c in results) else 1


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("doctor", help="check SIP, audio, keyring and database on this machine")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    # Also accepted after the subcommand; SUPPRESS keeps the global value when absent here.
    p.add_argument("--database", metavar="URL", default=argparse.SUPPRESS,
                   help="record store URL to check")
    p.add_argument("--data-dir", metavar="DIR", default=argparse.SUPPRESS,
                   help="folder of the embedded database")
    p.add_argument("--demo", action="store_true", default=argparse.SUPPRESS,
                   help="with --test-call: call through a local demo line instead of the "
                        "company account (numbers ending 1 answer, 2 busy, 3 no answer)")
    p.add_argument("--test-call", metavar="NUMBER_OR_URI", default=None,
                   help="place one real call to this test number (a SIP URI, or a number in "
                        "the account's domain) and report registration, set-up time and outcome")
    p.add_argument("--talk-s", type=float, default=2.0, metavar="SECONDS",
                   help="with --test-call: how long to stay on an answered call (default 2)")
    p.add_argument("--answer-timeout-s", type=float, default=30.0, metavar="SECONDS",
                   help="with --test-call: give up on a call not answered by then (default 30)")
    p.set_defaults(func=_run)
