"""`callwise audit verify`: is the audit trail whole? (docs/storage.md, "Audit trail").

Walks the hash chain from the first entry, checks every entry's hash and its link to the one
before, then compares the last entry with the head recorded separately, which catches a removed
tail. Prints one line; exit status 0 intact, 1 broken (the first broken link and why), 2 the
database cannot be checked (schema too old, no database), 3 unreachable.
"""

from __future__ import annotations

import argparse
import json
import sys

from app.ports.store import StoreError, StoreUnavailable

EXIT_OK = 0
EXIT_BROKEN = 1
EXIT_CANNOT_CHECK = 2
EXIT_UNAVAILABLE = 3


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    audit = sub.add_parser("audit", help="verify the tamper-evident audit trail",
                           description="Work with the append-only, hash-chained audit trail.")
    commands = audit.add_subparsers(dest="audit_command", metavar="COMMAND", required=True)
    verify = commands.add_parser(
        "verify", help="check the whole chain and report the first broken link",
        description="Check every entry's hash and link, and that the chain reaches its "
                    "recorded head. Exit 0 intact, 1 broken, 2 cannot check, 3 unreachable.")
    verify.add_argument("--json", action="store_true", help="machine-readable output")
    verify.add_argument("--database", metavar="URL", default=argparse.SUPPRESS,
                        help="database to verify (default: the configured records database; "
                             "on a desktop with a local copy, give the central one)")
    verify.add_argument("--central", metavar="URL", default=None,
                        help="with --database naming a desktop's local copy: also compare its "
                             "chain with the head the central database anchored for it")
    verify.add_argument("--data-dir", metavar="DIR", default=argparse.SUPPRESS,
                        help=argparse.SUPPRESS)
    verify.set_defaults(func=run_verify)


def run_verify(args: argparse.Namespace) -> int:
    from app.cli.db import database_url
    from app.storage.health import verify_audit_chain

    try:
        check = verify_audit_chain(database_url(args), args.central)
    except StoreUnavailable as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return EXIT_UNAVAILABLE
    except StoreError as exc:
        print("error: " + exc.said("\n"), file=sys.stderr)
        return EXIT_CANNOT_CHECK
    if args.json:
        print(json.dumps({"ok": check.ok, "entries": check.entries, "head_seq": check.head_seq,
                          "head_hash": check.head_hash, "first_broken": check.first_broken,
                          "reason": check.reason}))
    elif check.ok:
        print(f"audit chain intact: {check.entries} entries, head seq {check.head_seq} "
              f"({check.head_hash[:16]})")
    else:
        print(f"audit chain BROKEN at seq {check.first_broken}: {check.reason}")
    return EXIT_OK if check.ok else EXIT_BROKEN
