"""Turning database exceptions into the store's expected errors.

Services may not import SQLAlchemy (import-linter), so whatever they are meant to catch must
leave the adapter as an `app.ports.store.StoreError`. Only failures a person can act on are
translated; anything else stays a bug and reaches the crash handler as it was.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import ParamSpec, TypeVar

from sqlalchemy.exc import DBAPIError, IntegrityError, InterfaceError, OperationalError

from app.ports.store import Conflict, StoreUnavailable

P = ParamSpec("P")
R = TypeVar("R")

_RETRY = ("Your work is still on screen. Try again in a moment; if it keeps happening, "
          "check the network or ask IT about the records database.")


def translate(exc: DBAPIError) -> Exception:
    """The StoreError for `exc`, or `exc` itself when it is not something a user can act on."""
    detail = str(exc.orig).strip().splitlines()[0] if exc.orig is not None else type(exc).__name__
    if isinstance(exc, IntegrityError):
        return Conflict(f"This change clashes with what is already stored ({detail}).",
                        action="Reload the record and make the change again.")
    readonly = "readonly" in detail or "read-only" in detail
    if (isinstance(exc, OperationalError | InterfaceError) or exc.connection_invalidated) \
            and not readonly:
        return StoreUnavailable(f"The records database is not answering ({detail}).",
                                action=_RETRY)
    return exc


def translated(fn: Callable[P, R]) -> Callable[P, R]:
    """Wraps a repository method so database failures surface as StoreErrors."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return fn(*args, **kwargs)
        except DBAPIError as exc:
            mapped = translate(exc)
            if mapped is exc:
                raise
            raise mapped from exc

    return wrapper
