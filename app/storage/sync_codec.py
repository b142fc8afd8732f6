"""The outbox's JSON: repository arguments (domain objects) written down so they can be replayed.

Self-describing tags rather than per-type code: a dataclass is `{"$dc": name, "f": {...}}`, an
enum `{"$enum": name, "v": value}`, times `{"$dt": iso}` / `{"$date": …}` / `{"$time": …}`, a
tuple `{"$tuple": […]}` and a plain dict `{"$dict": {…}}`. Only the classes listed below can be
rebuilt, so an outbox row can never name something arbitrary to construct. A new domain type in
a write needs one line here (and a test round-trips every one of them).
"""

from __future__ import annotations

import dataclasses
import json
from datetime import date, datetime, time
from enum import Enum
from typing import Any

from app.domain.agent import Agent
from app.domain.call import CallRecord, CallState
from app.domain.customer import Consent, Customer, PhoneNumber
from app.domain.enums import AgentState, CallOrigin, CallOutcome, CallReason, Team
from app.domain.memo import Memo, PaymentTopic
from app.ports.store import Callback, CallbackStatus, Notification, Shift

_CLASSES: dict[str, type[Any]] = {c.__name__: c for c in (
    Agent, CallRecord, Consent, Customer, PhoneNumber, Memo, Callback, Notification, Shift)}
_ENUMS: dict[str, type[Enum]] = {e.__name__: e for e in (
    AgentState, CallOrigin, CallOutcome, CallReason, CallState, Team, PaymentTopic,
    CallbackStatus)}


def encode(value: Any) -> Any:
    """JSON data for `value`; raises TypeError for anything the outbox cannot rebuild."""
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, Enum):  # before str: StrEnum members are strs too
        name = type(value).__name__
        if _ENUMS.get(name) is not type(value):
            raise TypeError(f"the outbox cannot carry {type(value)!r}")
        return {"$enum": name, "v": value.value}
    if isinstance(value, str):
        return value
    if isinstance(value, datetime):  # before date: a datetime is a date too
        return {"$dt": value.isoformat()}
    if isinstance(value, date):
        return {"$date": value.isoformat()}
    if isinstance(value, time):
        return {"$time": value.isoformat()}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        name = type(value).__name__
        if _CLASSES.get(name) is not type(value):
            raise TypeError(f"the outbox cannot carry {type(value)!r}")
        return {"$dc": name, "f": {f.name: encode(getattr(value, f.name))
                                   for f in dataclasses.fields(value) if f.init}}
    if isinstance(value, tuple):
        return {"$tuple": [encode(v) for v in value]}
    if isinstance(value, list):
        return [encode(v) for v in value]
    if isinstance(value, dict):
        if not all(isinstance(k, str) for k in value):
            raise TypeError("outbox dicts need string keys")
        return {"$dict": {k: encode(v) for k, v in value.items()}}
    raise TypeError(f"the outbox cannot carry {type(value)!r}")


def decode(data: Any) -> Any:
    if isinstance(data, list):
        return [decode(v) for v in data]
    if not isinstance(data, dict):
        return data
    if "$dc" in data:
        cls = _CLASSES[data["$dc"]]
        return cls(**{k: decode(v) for k, v in data["f"].items()})
    if "$enum" in data:
        return _ENUMS[data["$enum"]](data["v"])
    if "$dt" in data:
        return datetime.fromisoformat(data["$dt"])
    if "$date" in data:
        return date.fromisoformat(data["$date"])
    if "$time" in data:
        return time.fromisoformat(data["$time"])
    if "$tuple" in data:
        return tuple(decode(v) for v in data["$tuple"])
    if "$dict" in data:
        return {k: decode(v) for k, v in data["$dict"].items()}
    raise ValueError(f"not an outbox value: {sorted(data)}")


def dumps(kwargs: dict[str, Any]) -> str:
    return json.dumps(encode(kwargs), ensure_ascii=False, separators=(",", ":"),
                      allow_nan=False)


def loads(text: str) -> dict[str, Any]:
    value = decode(json.loads(text))
    if not isinstance(value, dict):
        raise ValueError("an outbox row's arguments must be a dict")
    return value
