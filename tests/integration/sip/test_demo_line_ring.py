"""A demo customer calls the agent: the demo line's caller side against the real SipPhone.

The agent's phone asks with a SIP MESSAGE to `ring-me` at the line (what the desktop's
"Demo: have a customer call me" sends); the line then INVITEs the contact the phone registered.
"""

from __future__ import annotations

import re
import socket
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

import pytest

from app.bootstrap import DEMO_RING_USER
from app.demo.customers import demo_customers
from app.demo.line import DEMO_CALLERS, RING_ME_USER
from app.domain.enums import CallOutcome
from app.ports.phone import CallEnded, CallPhase, IncomingCall, MessageResult
from app.sip.engine import SipPhone
from tests.integration.sip.conftest import _enter, line_account
from tests.integration.sip.events import EventLog
from tests.peers.demo_line import DemoLine, running_demo_line
from tests.peers.procs import wait_until

pytestmark = [pytest.mark.peers, pytest.mark.timeout(40)]

MakePhone = Callable[..., tuple[SipPhone, EventLog]]


def registered_agent(make_phone: MakePhone, line: DemoLine, **kwargs: Any
                     ) -> tuple[SipPhone, EventLog]:
    phone, log = make_phone(line_account(line), **kwargs)
    log.registered()
    line.wait_for(r"^registered sip:agent@demo at ")
    return phone, log


def ask_for_a_call(phone: SipPhone, log: EventLog, line: DemoLine, ref: str,
                   text: str = "ring") -> IncomingCall:
    """The MESSAGE is answered 200 and the customer's INVITE reaches the phone."""
    seen = log.count(IncomingCall)
    phone.send_message(ref, line.ring_me, text)
    assert log.wait_for(MessageResult, lambda m: m.ref == ref) == MessageResult(ref, True, 200,
                                                                                 "OK")
    log.wait_for(IncomingCall, lambda _e: log.count(IncomingCall) > seen)
    return [e for e in log.events if isinstance(e, IncomingCall)][seen]


def test_every_demo_caller_is_a_seeded_customer() -> None:
    seeded = {n.number: c.full_name for c in demo_customers() for n in c.numbers}
    assert {c.number: c.name for c in DEMO_CALLERS}.items() <= seeded.items()
    assert DEMO_RING_USER == RING_ME_USER  # the desktop asks where the line listens


def test_a_customer_rings_the_agent_who_answers_talks_and_hangs_up(
        make_phone: MakePhone, demo_line: DemoLine) -> None:
    # A 1 s media timeout: the call only survives the pause below if the line sends audio.
    phone, log = registered_agent(make_phone, demo_line, media_timeout_s=1.0)
    incoming = ask_for_a_call(phone, log, demo_line, "ask-1")
    assert "+13125550141@" in incoming.remote_uri and "Ana Garc" in incoming.remote_uri
    demo_line.wait_for(r"^ring \S+: \+13125550141 \(Ana García\) calls sip:agent@demo$")
    demo_line.wait_for(r"^ring \S+: agent's phone rings$")
    phone.answer(incoming.ref)
    log.phase(incoming.ref, CallPhase.CONNECTED)
    demo_line.wait_for(r"^ring \S+: agent answered$")
    phone.send_dtmf(incoming.ref, "5")
    demo_line.wait_for(r"^dtmf 5$")  # our audio reaches the customer
    time.sleep(2.0)
    assert log.count(CallEnded, incoming.ref) == 0, log.events  # theirs reaches us
    phone.hold(incoming.ref)  # a re-INVITE inside the line's own call
    log.phase(incoming.ref, CallPhase.HELD)
    demo_line.wait_for(r"^call \S+: held$")
    phone.hangup(incoming.ref)
    ended = log.ended(incoming.ref)
    assert (ended.outcome, ended.connected) == (CallOutcome.LOCAL_HANGUP, True)
    demo_line.wait_for(r"^ring \S+: agent hung up$")


def test_a_declined_call_ends_with_603_at_the_line_and_the_next_caller_is_another_customer(
        make_phone: MakePhone, demo_line: DemoLine) -> None:
    phone, log = registered_agent(make_phone, demo_line)
    first = ask_for_a_call(phone, log, demo_line, "ask-1")
    demo_line.wait_for(r"^ring \S+: agent's phone rings$")
    phone.hangup(first.ref)
    ended = log.ended(first.ref)
    assert (ended.outcome, ended.connected) == (CallOutcome.DECLINED, False)
    demo_line.wait_for(r"^ring \S+: 603 Decline$")

    second = ask_for_a_call(phone, log, demo_line, "ask-2")
    assert "+17735550119@" in second.remote_uri  # Liam O'Connor, the next demo caller
    third = ask_for_a_call(phone, log, demo_line, "ask-3", "+12125550190")
    assert "+12125550190@" in third.remote_uri and "Sofia Rossi" in third.remote_uri
    for call in (second, third):
        phone.hangup(call.ref)
        assert log.ended(call.ref).outcome is CallOutcome.DECLINED
    assert wait_until(
        lambda: len(re.findall(r"(?m)^ring \S+: 603 Decline$", demo_line.output())) == 3, 5)


def test_the_customer_hangs_up_an_answered_call(make_phone: MakePhone,
                                                demo_line: DemoLine) -> None:
    phone, log = registered_agent(make_phone, demo_line)
    incoming = ask_for_a_call(phone, log, demo_line, "ask-1")
    phone.answer(incoming.ref)
    log.phase(incoming.ref, CallPhase.CONNECTED)
    demo_line.wait_for(r"^ring \S+: agent answered$")
    phone.send_message("bye", demo_line.ring_me, "hang up")
    ended = log.ended(incoming.ref)
    assert (ended.outcome, ended.connected) == (CallOutcome.REMOTE_HANGUP, True)
    demo_line.wait_for(r"^ring \S+: customer hung up$")


def test_a_call_nobody_answers_is_cancelled_by_the_customer(
        make_phone: MakePhone, peers: list[AbstractContextManager[Any]]) -> None:
    line = _enter(peers, running_demo_line(ring_agent_s=1.5))
    phone, log = registered_agent(make_phone, line)
    incoming = ask_for_a_call(phone, log, line, "ask-1")
    ended = log.ended(incoming.ref, timeout_s=8)
    assert (ended.outcome, ended.connected) == (CallOutcome.CANCELLED, False)
    line.wait_for(r"^ring \S+: not answered in 1\.5 s, customer hangs up$")
    line.wait_for(r"^ring \S+: 487 Request Terminated$")


def test_a_ring_request_from_someone_not_registered_is_refused(demo_line: DemoLine) -> None:
    request = (f"MESSAGE {demo_line.ring_me} SIP/2.0\r\n"
               "Via: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bKtest1\r\n"
               "From: <sip:stranger@demo>;tag=1\r\nTo: <sip:ring-me@demo>\r\n"
               "Call-ID: ring-stranger\r\nCSeq: 1 MESSAGE\r\nContent-Type: text/plain\r\n"
               "Content-Length: 4\r\n\r\nring").encode()
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind((demo_line.host, 0))
        sock.settimeout(3)
        sock.sendto(request, (demo_line.host, demo_line.port))
        answer = sock.recv(4096).decode()
    assert answer.startswith("SIP/2.0 404 Not Registered Here")
    demo_line.wait_for(r"^ring-me from sip:stranger@demo: not registered here")
