"""`callwise policy …`: evaluate scenario files, explain and validate policy packs.

For IT and compliance, before a changed pack is rolled out:
  callwise policy validate PACK                         exit 0 valid, 1 with FILE:LINE: problem
  callwise policy explain [--pack PACK]                 every rule in plain words, with sources
  callwise policy evaluate FILE [--pack PACK] [--check] one JSON verdict per scenario line;
                                                        --check: exit 1 listing mismatches
A scenario file with an unreadable line, or an unusable pack, exits 2 and prints nothing on
stdout: a half-evaluated file would be mistaken for a whole one.
"""

from __future__ import annotations

import argparse
import json
import sys
import textwrap
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from app.policy.engine import evaluate, rule_texts
from app.policy.pack import PackError, PolicyPack, load_pack
from app.policy.scenarios import mismatches, read_scenarios, verdict_json

EXIT_OK = 0
EXIT_MISMATCH = 1
EXIT_BAD_INPUT = 2


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register `policy` and its commands; each sets `func(args) -> exit code`."""
    policy = subparsers.add_parser("policy", help="evaluate scenarios, explain or validate a "
                                                  "policy pack", description=_DESCRIPTION)
    _add_commands(policy)


_DESCRIPTION = ("Work with the outbound-call policy pack: try it on scenario files, read it in "
                "plain words, check it before rollout.")


def _add_commands(policy: argparse.ArgumentParser) -> None:
    commands = policy.add_subparsers(dest="policy_command", metavar="COMMAND", required=True)

    ev = commands.add_parser(
        "evaluate", help="print the verdict for each scenario of a JSON Lines file",
        description="Read one scenario per line (JSON Lines; '-' reads stdin) and print one JSON "
                    "verdict per scenario. With --check, compare each verdict with the "
                    "scenario's \"expect\" and exit 1 listing every mismatch.")
    ev.add_argument("file", help="scenario file (.jsonl), or - for stdin")
    ev.add_argument("--pack", metavar="PATH", help="policy pack to use (default: the shipped one)")
    ev.add_argument("--check", action="store_true",
                    help="compare with each scenario's expect; exit 1 on any mismatch")
    ev.set_defaults(func=run_evaluate)

    ex = commands.add_parser("explain", help="print every rule of the pack in plain words",
                             description="Print the pack's rules with their source sentences, "
                                         "settings and decisions.")
    ex.add_argument("--pack", metavar="PATH", help="policy pack to explain (default: shipped)")
    ex.set_defaults(func=run_explain)

    va = commands.add_parser("validate", help="check a policy pack file",
                             description="Exit 0 and print its version and checksum when the "
                                         "pack is usable; exit 1 with FILE:LINE: problem if not.")
    va.add_argument("pack", metavar="PACK", help="policy pack file (.toml)")
    va.set_defaults(func=run_validate)


def _load(path: str | None, err: TextIO) -> PolicyPack | None:
    try:
        return load_pack(path)
    except PackError as exc:
        print(f"error: {exc}", file=err)
        return None


def run_evaluate(args: argparse.Namespace) -> int:
    out, err = sys.stdout, sys.stderr
    pack = _load(args.pack, err)
    if pack is None:
        return EXIT_BAD_INPUT
    label = "<stdin>" if args.file == "-" else str(args.file)
    try:
        text = (sys.stdin.read() if args.file == "-"
                else Path(args.file).read_text(encoding="utf-8"))
    except FileNotFoundError:
        print(f"error: {label}: no such file", file=err)
        return EXIT_BAD_INPUT
    except (OSError, UnicodeDecodeError) as exc:
        print(f"error: {label}: cannot be read: {exc}", file=err)
        return EXIT_BAD_INPUT
    scenarios, errors = read_scenarios(text, label)
    if errors:
        for e in errors:
            print(f"error: {e}", file=err)
        print(f"{len(errors)} unreadable line(s); nothing was evaluated.", file=err)
        return EXIT_BAD_INPUT
    failed: list[str] = []
    failing = 0
    unchecked = 0
    for scenario in scenarios:
        verdict = evaluate(pack, scenario.facts, scenario.now)
        out.write(json.dumps(verdict_json(scenario.name, verdict), ensure_ascii=False) + "\n")
        if args.check:
            if scenario.expect is None:
                unchecked += 1
            problems = mismatches(scenario, verdict)
            failing += bool(problems)
            failed += [f"{label}:{scenario.line}: {scenario.name}: {p}" for p in problems]
    out.flush()
    if not args.check:
        return EXIT_OK
    for line in failed:
        print(f"mismatch: {line}", file=err)
    note = f" ({unchecked} without expect, not checked)" if unchecked else ""
    if failed:
        print(f"{failing} of {len(scenarios)} scenario(s) not as expected{note}; pack "
              f"{pack.version} ({pack.checksum[:12]})", file=err)
        return EXIT_MISMATCH
    print(f"{len(scenarios)} scenario(s), all as expected{note}; pack {pack.version} "
          f"({pack.checksum[:12]})", file=err)
    return EXIT_OK


def _wrap(text: str, indent: str) -> str:
    return textwrap.fill(text, width=100, initial_indent=indent, subsequent_indent=indent)


def run_explain(args: argparse.Namespace) -> int:
    out = sys.stdout
    pack = _load(args.pack, sys.stderr)
    if pack is None:
        return EXIT_BAD_INPUT
    lines = [f"Policy pack “{pack.name}”, version {pack.version}",
             f"File: {pack.path}", f"Checksum (sha256): {pack.checksum}",
             f"Source: {pack.source_document}"]
    if pack.dial_plan.decision:
        lines += ["", "Dial plan:", _wrap(pack.dial_plan.decision, "  ")]
    for rule in rule_texts(pack):
        lines += ["", f"{rule.id} — {rule.title} [{rule.stage.label}]"]
        if rule.source_document != pack.source_document:
            lines.append(f"  Source ({rule.source_document}):")
        else:
            lines.append("  Policy says:")
        lines += [_wrap(f"“{s}”", "    ") for s in rule.source]
        lines += ["  What Callwise does:", _wrap(rule.description, "    ")]
        if rule.settings:
            lines.append("  Settings:")
            lines += [_wrap(s, "    ") for s in rule.settings]
        if rule.decision:
            lines += ["  Decision where the policy is silent:", _wrap(rule.decision, "    ")]
    out.write("\n".join(lines) + "\n")
    return EXIT_OK


def run_validate(args: argparse.Namespace) -> int:
    try:
        pack = load_pack(args.pack)
    except PackError as exc:
        print(str(exc), file=sys.stderr)
        return EXIT_MISMATCH
    print(f"valid: version {pack.version}, checksum {pack.checksum}")
    return EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    """Stand-alone entry (`python -m app.cli.policy …`) until the app's entry point wires it."""
    parser = argparse.ArgumentParser(prog="callwise policy", description=_DESCRIPTION)
    _add_commands(parser)
    args = parser.parse_args(list(argv) if argv is not None else None)
    code: int = args.func(args)
    return code


if __name__ == "__main__":
    sys.exit(main())
