"""Column types that keep the same meaning on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import DateTime, String
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator, TypeEngine


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC in, aware UTC out, on every backend.

    SQLite has no time zone type and SQLAlchemy's SQLite DATETIME drops tzinfo, so values are
    stored as naive UTC text there (fixed width, so text order is time order) and made aware again
    on the way out. PostgreSQL stores `timestamptz` and returns it in the session's zone, which is
    converted back to UTC. Naive datetimes are refused: guessing their zone is how records drift
    by hours.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime {value!r}: pass an aware UTC datetime")
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def key_string(length: int) -> TypeEngine[str]:
    """A search-key column compared byte-wise: PostgreSQL gets COLLATE "C" so prefix ranges
    (`key >= 'mar' AND key < 'mas'`) mean what they say whatever the database's locale is."""
    return String(length).with_variant(String(length, collation="C"), "postgresql")
