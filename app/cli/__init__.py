"""The `callwise` command line: subcommands that need no Qt live here; the GUI is started by
`ui.entry`, which owns this parser and is the only console-script entry point."""

from __future__ import annotations

import argparse

from app import __version__

LINK_SCHEMES = ("tel:", "sip:", "sips:", "callto:")


def normalise_argv(argv: list[str]) -> list[str]:
    """Desktop files and browsers pass the link bare (`callwise tel:+13125550142`)."""
    return [f"--dial={a}" if a.lower().startswith(LINK_SCHEMES) else a for a in argv]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="callwise",
        description="Callwise: the outbound-call desktop that keeps every call inside the policy.")
    parser.add_argument("--version", action="version", version=f"callwise {__version__}")
    parser.add_argument("--demo", action="store_true",
                        help="start the local demo line and demo customers (SQLite, no setup)")
    parser.add_argument("--quit-after", type=float, metavar="SECONDS", default=None,
                        help="quit cleanly after SECONDS (for scripts and CI)")
    parser.add_argument("--database", metavar="URL", default=None,
                        help="record store URL (overrides settings unless IT locked it)")
    parser.add_argument("--data-dir", metavar="DIR", default=None,
                        help="folder for the embedded database and drafts (default: user data folder)")
    parser.add_argument("--pack", metavar="PATH", default=None,
                        help="policy pack to use instead of the configured one")
    parser.add_argument("--dial", metavar="URI", default=None,
                        help="a tel: or sip: link to dial (goes through the same dial gate); a bare "
                             "tel:/sip: argument means the same")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    from app.cli import doctor, policy  # local: each registers its own subcommand

    doctor.add_parser(sub)
    policy.add_parser(sub)
    return parser
