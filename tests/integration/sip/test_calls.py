"""Outbound calls from a phone registered at Kamailio to SIPp callees behind it.

Kamailio relays any R-URI that is not its own host:port (here the SIPp UAS), record-routing,
so every call crosses the real proxy, including its 407 challenge of the agent's INVITE.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from app.domain.enums import CallOutcome
from app.ports.phone import CallEnded, CallPhase
from app.sip.engine import SipPhone
from tests.integration.sip.conftest import account_for
from tests.integration.sip.events import EventLog
from tests.peers.kamailio import Kamailio
from tests.peers.procs import LOOPBACK, free_port
from tests.peers.sipp import Sipp

pytestmark = [pytest.mark.peers, pytest.mark.timeout(30)]

Agent = tuple[SipPhone, EventLog]
StartSipp = Callable[..., Sipp]


def test_answered_call_hung_up_by_the_agent(agent: Agent, sipp: StartSipp) -> None:
    phone, log = agent
    uas = sipp("uas.xml", pause_ms=200, rtp_echo=True)
    phone.dial("c1", uas.uri)
    log.phase("c1", CallPhase.CONNECTED)
    phone.hangup("c1")
    ended = log.ended("c1")
    assert ended == CallEnded("c1", CallOutcome.LOCAL_HANGUP, ended.code, ended.reason, True)
    assert log.phases("c1") == [CallPhase.CALLING, CallPhase.RINGING, CallPhase.CONNECTED]
    assert uas.wait(5) == 0, uas.report()
    assert log.count(CallEnded, "c1") == 1


@pytest.mark.parametrize(
    ("code", "reason", "outcome", "seen"),
    [
        ("486", "Busy Here", CallOutcome.BUSY, "486 Busy Here"),
        ("480", "Temporarily Unavailable", CallOutcome.NO_ANSWER, "480 Temporarily Unavailable"),
        ("603", "Decline", CallOutcome.DECLINED, "603 Decline"),
        ("404", "Not Found", CallOutcome.NOT_FOUND, "404 Not Found"),
        # A proxy must not forward a 503 (RFC 3261 16.7): Kamailio turns it into a 500.
        ("503", "Service Unavailable", CallOutcome.UNREACHABLE, "500 Service Unavailable"),
    ],
)
def test_refused_calls_map_to_plain_outcomes(
    agent: Agent, sipp: StartSipp, code: str, reason: str, outcome: CallOutcome, seen: str
) -> None:
    phone, log = agent
    uas = sipp("uas_reject.xml", pause_ms=300, fill={"code": code, "reason": reason})
    phone.dial("c1", uas.uri)
    ended = log.ended("c1")
    assert (ended.outcome, ended.reason, ended.connected) == (outcome, seen, False)
    assert ended.code == int(seen[:3])
    assert CallPhase.RINGING in log.phases("c1")
    assert uas.wait(5) == 0, uas.report()


def test_callee_hangs_up(agent: Agent, sipp: StartSipp) -> None:
    phone, log = agent
    uas = sipp("uas_remote_bye.xml", pause_ms=500, rtp_echo=True)
    phone.dial("c1", uas.uri)
    ended = log.ended("c1")
    assert (ended.outcome, ended.connected) == (CallOutcome.REMOTE_HANGUP, True)
    assert uas.wait(5) == 0, uas.report()


def test_cancelled_while_ringing(agent: Agent, sipp: StartSipp) -> None:
    phone, log = agent
    uas = sipp("uas_cancel.xml")
    phone.dial("c1", uas.uri)
    log.phase("c1", CallPhase.RINGING)
    phone.hangup("c1")
    ended = log.ended("c1")
    assert (ended.outcome, ended.code, ended.connected) == (CallOutcome.CANCELLED, 487, False)
    assert uas.wait(5) == 0, uas.report()


def test_line_that_goes_silent_is_reported_dropped(
    kamailio: Kamailio, make_phone: Callable[..., Agent], sipp: StartSipp
) -> None:
    phone, log = make_phone(account_for(kamailio), media_timeout_s=1.5)
    log.registered()
    uas = sipp("uas.xml", rtp_echo=False)  # answers, then never sends a single RTP packet
    phone.dial("c1", uas.uri)
    log.phase("c1", CallPhase.CONNECTED)
    ended = log.ended("c1", timeout_s=6)
    assert (ended.outcome, ended.connected) == (CallOutcome.DROPPED, True)
    assert ended.reason == "no audio received (media timeout)"
    assert uas.wait(5) == 0, uas.report()  # we hung it up properly with a BYE


def test_nobody_listening_is_unreachable(agent: Agent) -> None:
    phone, log = agent
    dead = free_port()
    phone.dial("c1", f"sip:customer@{LOOPBACK}:{dead}")  # Kamailio times out: 408, no ringing
    ended = log.ended("c1", timeout_s=8)
    assert (ended.outcome, ended.connected) == (CallOutcome.UNREACHABLE, False)
    assert CallPhase.RINGING not in log.phases("c1")


def test_invalid_address_ends_the_call_at_once(agent: Agent) -> None:
    phone, log = agent
    phone.dial("c1", "sip:")
    ended = log.ended("c1")
    assert (ended.outcome, ended.code, ended.connected) == (CallOutcome.UNREACHABLE, 0, False)
    assert ended.reason.startswith("could not place the call")


def test_a_ref_in_use_cannot_be_dialled_twice(agent: Agent, sipp: StartSipp) -> None:
    phone, log = agent
    uas = sipp("uas.xml", pause_ms=200, rtp_echo=True)
    phone.dial("c1", uas.uri)
    with pytest.raises(ValueError, match="already in use"):
        phone.dial("c1", uas.uri)
    log.phase("c1", CallPhase.CONNECTED)
    phone.hangup("c1")
    log.ended("c1")
    assert uas.wait(5) == 0, uas.report()
