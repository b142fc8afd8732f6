"""The `callwise` command line: subcommands that need no Qt live here; the GUI is started by
`ui.entry`, which owns this parser and is the only console-script entry point."""

from __future__ import annotations

import argparse

from app import __version__

LINK_SCHEMES = ("tel:", "sip:", "sips:", "callto:")
# The subcommand modules are imported only when one of them may be asked for: the plain
# desktop start needs none of them (see `build_parser(commands=False)`).
COMMANDS = ("doctor", "policy", "audit", "customers", "db", "password")


def _value_options(parser: argparse.ArgumentParser) -> set[str]:
    """Every option string, in the parser and its subcommands, that takes a value."""
    found: set[str] = set()
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                found |= _value_options(sub)
        elif action.option_strings and action.nargs != 0:
            found.update(action.option_strings)
    return found


def normalise_argv(argv: list[str], parser: argparse.ArgumentParser | None = None) -> list[str]:
    """Desktop files and browsers pass the link bare (`callwise tel:+13125550142`).

    Only a bare argument is a link: `--test-call sip:...` keeps its value."""
    takes_value = _value_options(parser or build_parser())
    out: list[str] = []
    for i, arg in enumerate(argv):
        is_value = i > 0 and argv[i - 1] in takes_value
        bare_link = arg.lower().startswith(LINK_SCHEMES) and not is_value
        out.append(f"--dial={arg}" if bare_link else arg)
    return out


def desktop_only(argv: list[str], desktop: argparse.ArgumentParser) -> bool:
    """True when `argv` (already normalised) can only mean the desktop: no positional argument
    (a subcommand, or a mistake the full parser should explain) and no request for help.
    `desktop`: the parser `build_parser(commands=False)` made."""
    takes_value = _value_options(desktop)
    for i, arg in enumerate(argv):
        if arg in ("-h", "--help"):
            return False
        is_value = i > 0 and argv[i - 1] in takes_value
        if not arg.startswith("-") and not is_value:
            return False
    return True


def build_parser(*, commands: bool = True) -> argparse.ArgumentParser:
    """The whole command line, or (`commands=False`) only the desktop's options."""
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
    if not commands:
        return parser
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    from app.cli import (  # local: each registers its own subcommand
        audit,
        customers,
        db,
        doctor,
        password,
        policy,
    )

    doctor.add_parser(sub)
    policy.add_parser(sub)
    audit.add_parser(sub)
    customers.add_parser(sub)
    db.add_parser(sub)
    password.add_parser(sub)
    return parser
