"""The audit hash chain: one spelling per entry, and any change to an entry changes its hash."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from app.storage.chain import GENESIS, canonical_json, entry_hash

AT = datetime(2025, 3, 3, 15, 0, tzinfo=UTC)


def test_canonical_json_is_one_spelling_per_value() -> None:
    assert canonical_json({"b": 1, "a": [True, None, "é"]}) == '{"a":[true,null,"é"],"b":1}'
    assert canonical_json({"a": 1, "b": 2}) == canonical_json({"b": 2, "a": 1})
    with pytest.raises(ValueError):
        canonical_json({"x": float("nan")})


def test_the_same_entry_hashes_the_same_in_any_time_zone() -> None:
    chicago = timezone(timedelta(hours=-6))
    assert entry_hash(GENESIS, 1, "k", "r", AT, {"x": 1}) == \
        entry_hash(GENESIS, 1, "k", "r", AT.astimezone(chicago), {"x": 1})


@pytest.mark.parametrize("change", ["prev", "seq", "kind", "record", "at", "payload"])
def test_any_change_to_an_entry_changes_its_hash(change: str) -> None:
    base: dict[str, Any] = dict(prev_hash=GENESIS, seq=1, kind="record_closed",
                                record_id="r1", at=AT, payload={"outcome": "answered"})
    changes: dict[str, dict[str, Any]] = {
        "prev": {"prev_hash": "1" * 64}, "seq": {"seq": 2}, "kind": {"kind": "record_opened"},
        "record": {"record_id": "r2"}, "at": {"at": AT + timedelta(microseconds=1)},
        "payload": {"payload": {"outcome": "busy"}},
    }
    assert entry_hash(**base) != entry_hash(**{**base, **changes[change]})


def test_naive_times_are_refused() -> None:
    with pytest.raises(ValueError):
        entry_hash(GENESIS, 1, "k", "r", AT.replace(tzinfo=None), {})
