"""Collects a phone's events (delivered on its SIP owner thread) for a test thread to wait on."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TypeVar

from app.ports.phone import CallEnded, CallPhase, CallProgressed, PhoneEvent, RegistrationChanged

E = TypeVar("E")


class EventLog:
    def __init__(self) -> None:
        self._events: list[PhoneEvent] = []
        self._cond = threading.Condition()

    def __call__(self, event: PhoneEvent) -> None:
        with self._cond:
            self._events.append(event)
            self._cond.notify_all()

    @property
    def events(self) -> list[PhoneEvent]:
        with self._cond:
            return list(self._events)

    def wait_for(self, kind: type[E], match: Callable[[E], bool] = lambda _: True,
                 timeout_s: float = 5.0) -> E:
        """The first event of `kind` satisfying `match`, waiting up to `timeout_s`."""
        deadline = time.monotonic() + timeout_s
        with self._cond:
            while True:
                for event in self._events:
                    if isinstance(event, kind) and match(event):
                        return event
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(
                        f"no {kind.__name__} matching within {timeout_s} s; got {self._events!r}"
                    )
                self._cond.wait(left)

    def registered(self, timeout_s: float = 5.0) -> RegistrationChanged:
        return self.wait_for(RegistrationChanged, lambda e: e.registered, timeout_s)

    def phase(self, ref: str, phase: CallPhase, timeout_s: float = 5.0) -> CallProgressed:
        return self.wait_for(CallProgressed, lambda e: e.ref == ref and e.phase is phase, timeout_s)

    def ended(self, ref: str, timeout_s: float = 10.0) -> CallEnded:
        return self.wait_for(CallEnded, lambda e: e.ref == ref, timeout_s)

    def phases(self, ref: str) -> list[CallPhase]:
        return [e.phase for e in self.events if isinstance(e, CallProgressed) and e.ref == ref]

    def count(self, kind: type[object], ref: str | None = None) -> int:
        return sum(
            1
            for e in self.events
            if isinstance(e, kind) and (ref is None or getattr(e, "ref", None) == ref)
        )
