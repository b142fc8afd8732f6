"""The `callwise` console script. Subcommands that need no Qt never import it."""

from __future__ import annotations

import gc
import sys

from app.cli import build_parser, desktop_only, normalise_argv


def main(argv: list[str] | None = None) -> int:
    given = sys.argv[1:] if argv is None else argv
    desktop = build_parser(commands=False)
    normalised = normalise_argv(given, desktop)
    # The desktop's start imports no subcommand module; anything else gets the full parser.
    parser = desktop if desktop_only(normalised, desktop) else build_parser()
    args = parser.parse_args(normalised if parser is desktop else normalise_argv(given, parser))
    func = getattr(args, "func", None)
    if func is not None:
        return int(func(args))
    # The objects made from here to the first frame (modules, classes, widgets) live as long as
    # the desktop: the cyclic collector would scan them some 70 times while they are made and
    # free nothing (about 10 ms). `ui.application.open_records` turns it back on.
    gc.disable()
    # First of all, from the settings alone: the keyring lookup runs in a child process while
    # this one imports Qt and builds the window; the phone starts its SIP stack without
    # waiting for it and registers once it answers.
    from app.keyring.lookup import company_password_lookup
    from app.settings import load_app_settings

    settings = load_app_settings()
    password = company_password_lookup(settings, demo=args.demo)
    try:
        from ui.pyside_feature import read_sources_lightly

        read_sources_lightly()  # before the widgets: PySide6 would keep every module's source
        from ui.application import run  # Qt only for the desktop itself

        return run(args, settings=settings, password=password)
    finally:
        gc.enable()
        if password is not None:
            password.cancel()


if __name__ == "__main__":
    sys.exit(main())
