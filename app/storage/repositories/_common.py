"""Small helpers shared by the repositories."""

from __future__ import annotations

from collections.abc import Iterable
from enum import Enum
from typing import Any, cast

from sqlalchemy import ColumnElement, Connection, CursorResult, Result, and_, or_
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import InstrumentedAttribute, Session

from app.storage.models import Base

Column = ColumnElement[Any] | InstrumentedAttribute[Any]


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


def connection(session: Session) -> Connection:
    """The connection of the session's transaction, for Core statements on the dial path.

    `Session.execute` runs even a Core statement through the ORM's execution layer, which costs
    several times what the statement itself does on SQLite; the repositories hold no ORM objects
    (nothing waits to be flushed), so going to the connection changes nothing but the time.
    Statements executed this way are built once (`functools.cache`) with bound parameters, so
    SQLAlchemy finds their compiled form in its cache without rebuilding the expression.
    """
    return session.connection()


def one_of(column: Column, values: Iterable[str]) -> ColumnElement[bool]:
    """`column IN (values)` for a fixed vocabulary, spelled as ORs of plain parameters.

    An IN list is an "expanding" parameter that SQLAlchemy re-renders into the cached SQL at
    every execution (about 25 us each, several per dial); equalities are compiled once. SQLite
    turns the ORs back into an IN lookup on the index, PostgreSQL plans them alike."""
    return or_(*(column == value for value in values))


def none_of(column: Column, values: Iterable[str]) -> ColumnElement[bool]:
    """`column NOT IN (values)` as `one_of` spells it (NULL stays NULL, as with NOT IN)."""
    return and_(*(column != value for value in values))


def insert_ignore(session: Session, model: type[Base], values: dict[str, Any]) -> None:
    """INSERT unless the primary key exists, atomically even when several desktops race."""
    if dialect_name(session) == "postgresql":
        session.execute(pg_insert(model).values(**values).on_conflict_do_nothing())
    else:
        session.execute(sqlite_insert(model).values(**values).on_conflict_do_nothing())
