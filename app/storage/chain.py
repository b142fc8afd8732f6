"""The audit trail's hash chain, as pure functions so the rule is testable without a database.

Each entry's hash covers its predecessor's hash and a canonical JSON of its own content
(seq, kind, record id, time, payload): editing an entry breaks its own hash, deleting one breaks
its successor's `prev_hash`. Deleting the newest entries cannot be seen from the chain alone;
`docs/storage.md` says how to anchor the head elsewhere.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

GENESIS = "0" * 64


def canonical_json(value: Any) -> str:
    """One spelling per value: sorted keys, no spaces, UTF-8 kept, NaN refused."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False)


def utc_text(at: datetime) -> str:
    if at.tzinfo is None:
        raise ValueError("audit times must be aware datetimes")
    return at.astimezone(UTC).isoformat(timespec="microseconds")


def entry_hash(prev_hash: str, seq: int, kind: str, record_id: str, at: datetime,
               payload: Mapping[str, Any]) -> str:
    body = canonical_json({"seq": seq, "kind": kind, "record_id": record_id,
                           "at": utc_text(at), "payload": payload})
    return hashlib.sha256((prev_hash + body).encode("utf-8")).hexdigest()
