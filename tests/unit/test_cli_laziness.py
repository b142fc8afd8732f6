"""The plain desktop start parses its options without importing any subcommand module."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from app.cli import COMMANDS, build_parser, desktop_only, normalise_argv

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(("argv", "desktop"), [
    ([], True),
    (["--demo", "--pack", "x.toml"], True),
    (["tel:+13125550142"], True),  # a bare link is the desktop dialling it
    (["--data-dir", "db"], True),  # "db" is the folder here, not the subcommand
    (["db", "upgrade"], False),
    (["doctor", "--json"], False),
    (["bogus"], False),  # the full parser explains what the commands are
    (["-h"], False),
])
def test_what_counts_as_a_plain_desktop_start(argv: list[str], desktop: bool) -> None:
    parser = build_parser(commands=False)
    assert desktop_only(normalise_argv(argv, parser), parser) is desktop


def test_every_subcommand_is_known_without_importing_it() -> None:
    sub = next(a for a in build_parser()._actions if a.dest == "command")
    assert set(sub.choices or ()) == set(COMMANDS)


def test_the_desktop_parser_imports_no_subcommand_module() -> None:
    probe = ("import sys; from app.cli import build_parser, normalise_argv; "
             "p = build_parser(commands=False); a = p.parse_args(normalise_argv(sys.argv[1:], p)); "
             "print(a.dial, sorted(m for m in sys.modules if m.startswith('app.cli.')))")
    out = subprocess.run([sys.executable, "-c", probe, "--demo", "tel:+13125550142"], cwd=ROOT,
                         capture_output=True, text=True, timeout=60, check=True)
    assert out.stdout.split() == ["tel:+13125550142", "[]"]
