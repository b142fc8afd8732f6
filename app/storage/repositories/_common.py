"""Small helpers shared by the repositories."""

from __future__ import annotations

from enum import Enum
from typing import Any, cast

from sqlalchemy import CursorResult, Result
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from app.storage.models import Base


def code(value: str | Enum) -> str:
    """The stored spelling of a vocabulary value. `str()` of a str-Enum is "Class.MEMBER" on
    Python 3.11, never the value, so it is never used for this."""
    if isinstance(value, Enum):
        return str(value.value)
    return value


def rowcount(result: Result[Any]) -> int:
    """Rows matched by an UPDATE (SQLAlchemy types `Session.execute` as a plain Result)."""
    return cast(CursorResult[Any], result).rowcount


def dialect_name(session: Session) -> str:
    return session.get_bind().dialect.name


def insert_ignore(session: Session, model: type[Base], values: dict[str, Any]) -> None:
    """INSERT unless the primary key exists, atomically even when several desktops race."""
    if dialect_name(session) == "postgresql":
        session.execute(pg_insert(model).values(**values).on_conflict_do_nothing())
    else:
        session.execute(sqlite_insert(model).values(**values).on_conflict_do_nothing())
