"""`callwise doctor`: what IT runs on a workstation before blaming the network.

Checks Python, the SIP stack, audio devices, the keyring backend and the record store, and prints
a readable table (or JSON for fleet tooling). Exit status 0 only when every check passes.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
from collections.abc import Callable
from dataclasses import asdict, dataclass


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


def _run(args: argparse.Namespace) -> int:
    from app.bootstrap import database_url_for, load_app_settings

    settings = load_app_settings()
    url = database_url_for(settings, args.database, args.data_dir)
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
    p.set_defaults(func=_run)
