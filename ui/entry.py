"""The `callwise` console script. Subcommands that need no Qt never import it."""

from __future__ import annotations

import sys

from app.cli import build_parser, normalise_argv


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(normalise_argv(sys.argv[1:] if argv is None else argv, parser))
    func = getattr(args, "func", None)
    if func is not None:
        return int(func(args))
    from ui.application import run  # Qt only for the desktop itself

    return run(args)


if __name__ == "__main__":
    sys.exit(main())
