"""One real test call, timed, for `callwise doctor --test-call`: what IT runs on a workstation.

Starts its own SipPhone (so never while the desktop runs in the same process), registers, dials
the test number, keeps the call up for a couple of seconds, hangs up and shuts the phone down.
The times are taken on the SIP owner thread as the events happen, from an injected monotonic
clock: registration is `start()` to the registrar's 200, call set-up is the INVITE leaving
(CALLING) to the 200 OK (CONNECTED).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from app.domain.enums import CallOutcome
from app.ports.phone import (
    CallEnded,
    CallPhase,
    CallProgressed,
    PhoneEvent,
    PhoneFailed,
    RegistrationChanged,
    SipAccountConfig,
)

ANSWERED = "answered"
NOT_PLACED = "not placed"
_REF = "doctor-test-call"


@dataclass(frozen=True)
class TestCallReport:
    """Plain data for the doctor's table and its JSON; times in milliseconds (None: not reached)."""

    __test__ = False  # not a pytest test class, despite the name

    target: str
    registrar: str
    registered: bool
    registration: str  # plain words: "registered", "401 wrong password", ...
    registration_ms: float | None
    outcome: str  # "answered", a CallOutcome value ("busy", "no_answer", ...) or "not placed"
    code: int
    reason: str
    ringing_ms: float | None  # INVITE sent -> first 180/183
    setup_ms: float | None  # INVITE sent -> 200 OK
    talk_s: float | None  # how long the call stayed up before it ended

    @property
    def ok(self) -> bool:
        return self.registered and self.outcome == ANSWERED


class _Recorder:
    """Phone events with their arrival times (owner thread), waited on by the doctor's thread."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self._cond = threading.Condition()
        self.events: list[tuple[float, PhoneEvent]] = []

    def __call__(self, event: PhoneEvent) -> None:
        at = self._clock()
        with self._cond:
            self.events.append((at, event))
            self._cond.notify_all()

    def wait(self, test: Callable[[PhoneEvent], bool], timeout_s: float
             ) -> tuple[float, PhoneEvent] | None:
        deadline = time.monotonic() + timeout_s
        with self._cond:
            while True:
                for at, event in self.events:
                    if test(event):
                        return at, event
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self._cond.wait(left)

    def first(self, test: Callable[[PhoneEvent], bool]) -> tuple[float, PhoneEvent] | None:
        return self.wait(test, 0.0)


def _ms(start: float | None, end: float | None) -> float | None:
    return None if start is None or end is None else round((end - start) * 1000.0, 1)


def _phase(phase: CallPhase) -> Callable[[PhoneEvent], bool]:
    return lambda e: isinstance(e, CallProgressed) and e.ref == _REF and e.phase is phase


def _ended(e: PhoneEvent) -> bool:
    return isinstance(e, CallEnded) and e.ref == _REF


def run_test_call(account: SipAccountConfig, target: str, *, talk_s: float = 2.0,
                  answer_timeout_s: float = 30.0, register_timeout_s: float = 10.0,
                  bind_host: str = "127.0.0.1",
                  clock: Callable[[], float] = time.monotonic) -> TestCallReport:
    """Register, call `target` (a SIP URI or a number in the account's domain), report.

    Blocks for the whole call (registration + ringing + `talk_s`); never raises for a SIP
    failure, which is what the report is for. A call not answered within `answer_timeout_s`
    is cancelled and reported as no answer.
    """
    from app.sip.engine import SipPhone

    phone = SipPhone(bind_host=bind_host, media_timeout_s=max(20.0, talk_s + 10.0),
                     clock=clock)
    recorder = _Recorder(clock)
    phone.subscribe(recorder)
    started = clock()
    try:
        phone.start(account)
        reg = recorder.wait(lambda e: isinstance(e, (RegistrationChanged, PhoneFailed)),
                            register_timeout_s)
        if reg is None or not (isinstance(reg[1], RegistrationChanged) and reg[1].registered):
            return _unregistered(account, target, reg)
        registered_at = reg[0]
        phone.dial(_REF, target)
        answered = recorder.wait(lambda e: _phase(CallPhase.CONNECTED)(e) or _ended(e),
                                 answer_timeout_s)
        timed_out = answered is None
        if answered is not None and _phase(CallPhase.CONNECTED)(answered[1]):
            recorder.wait(_ended, talk_s)  # the far end may hang up first (voicemail)
        phone.hangup(_REF)  # a no-op when it already ended
        ended = recorder.wait(_ended, 10.0)
    finally:
        phone.shutdown(5.0)
    return _report(account, target, recorder, started, registered_at, ended, timed_out,
                   answer_timeout_s)


def _unregistered(account: SipAccountConfig, target: str,
                  reg: tuple[float, PhoneEvent] | None) -> TestCallReport:
    if reg is None:
        text, code = "no answer from the registrar", 0
    elif isinstance(reg[1], RegistrationChanged):
        text, code = reg[1].reason, reg[1].code
    else:
        assert isinstance(reg[1], PhoneFailed)
        text, code = reg[1].reason, 0
    return TestCallReport(target=target, registrar=account.registrar, registered=False,
                          registration=text, registration_ms=None, outcome=NOT_PLACED,
                          code=code, reason="not registered", ringing_ms=None, setup_ms=None,
                          talk_s=None)


def _report(account: SipAccountConfig, target: str, recorder: _Recorder, started: float,
            registered_at: float, ended: tuple[float, PhoneEvent] | None, timed_out: bool,
            answer_timeout_s: float) -> TestCallReport:
    calling = recorder.first(_phase(CallPhase.CALLING))
    ringing = recorder.first(_phase(CallPhase.RINGING))
    connected = recorder.first(_phase(CallPhase.CONNECTED))
    t_calling = calling[0] if calling else None
    outcome, code, reason = NOT_PLACED, 0, "the call never ended"
    if ended is not None:
        end = ended[1]
        assert isinstance(end, CallEnded)
        code, reason = end.code, end.reason
        if end.connected:
            outcome = ANSWERED
        elif timed_out and end.outcome is CallOutcome.CANCELLED:
            outcome = CallOutcome.NO_ANSWER.value
            reason = f"no answer within {answer_timeout_s:g} s (cancelled)"
        else:
            outcome = end.outcome.value
    talk = None
    if connected is not None and ended is not None:
        talk = round(ended[0] - connected[0], 2)
    return TestCallReport(
        target=target, registrar=account.registrar, registered=True, registration="registered",
        registration_ms=_ms(started, registered_at), outcome=outcome, code=code, reason=reason,
        ringing_ms=_ms(t_calling, ringing[0] if ringing else None),
        setup_ms=_ms(t_calling, connected[0] if connected else None), talk_s=talk)


__all__ = ["ANSWERED", "NOT_PLACED", "TestCallReport", "run_test_call"]
