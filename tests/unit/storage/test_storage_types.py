"""UTCDateTime: aware UTC in and out, whichever backend (no database needed to check it)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy.dialects import postgresql, sqlite

from app.storage.types import UTCDateTime

AT = datetime(2025, 3, 3, 15, 0, 0, 123456, tzinfo=UTC)
CHICAGO = timezone(timedelta(hours=-6))


def test_sqlite_gets_naive_utc_and_gives_back_aware_utc() -> None:
    column, dialect = UTCDateTime(), sqlite.dialect()
    stored = column.process_bind_param(AT.astimezone(CHICAGO), dialect)
    assert stored == AT.replace(tzinfo=None)
    back = column.process_result_value(stored, dialect)
    assert back == AT and back is not None and back.tzinfo is UTC


def test_postgresql_gets_aware_utc_and_results_are_converted_to_utc() -> None:
    column, dialect = UTCDateTime(), postgresql.dialect()  # type: ignore[no-untyped-call]
    assert column.process_bind_param(AT.astimezone(CHICAGO), dialect) == AT
    back = column.process_result_value(AT.astimezone(CHICAGO), dialect)
    assert back == AT and back is not None and back.utcoffset() == timedelta(0)


def test_a_naive_datetime_is_refused_rather_than_guessed() -> None:
    with pytest.raises(ValueError, match="naive"):
        UTCDateTime().process_bind_param(datetime(2025, 3, 3, 15, 0), sqlite.dialect())


def test_missing_values_stay_missing() -> None:
    assert UTCDateTime().process_bind_param(None, sqlite.dialect()) is None
    assert UTCDateTime().process_result_value(None, sqlite.dialect()) is None
