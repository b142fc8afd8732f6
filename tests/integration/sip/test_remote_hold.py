"""The far end puts the agent on hold (a re-INVITE offering sendonly or inactive) and takes
the call off hold again: the agent's screen must say so (HELD, RESUMED), and the call stays up."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest

from app.domain.enums import CallOutcome
from app.ports.phone import CallEnded, CallPhase
from app.sip.engine import SipPhone
from tests.integration.sip.conftest import account_for
from tests.integration.sip.events import EventLog
from tests.peers.kamailio import Kamailio
from tests.peers.sipp import Sipp

pytestmark = [pytest.mark.peers, pytest.mark.timeout(30)]

Agent = tuple[SipPhone, EventLog]
StartSipp = Callable[..., Sipp]
SCENARIO = str(Path(__file__).resolve().parent / "scenarios" / "uas_remote_hold.xml")


@pytest.mark.parametrize(("direction", "answer"), [("sendonly", "recvonly"),
                                                   ("inactive", "inactive")])
def test_remote_hold_and_resume_are_reported(agent: Agent, sipp: StartSipp, direction: str,
                                             answer: str) -> None:
    phone, log = agent
    uas = sipp(SCENARIO, pause_ms=400, keys={"direction": direction})
    phone.dial("c1", uas.uri)
    log.phase("c1", CallPhase.CONNECTED)
    log.phase("c1", CallPhase.HELD)
    log.phase("c1", CallPhase.RESUMED)
    assert log.phases("c1") == [CallPhase.CALLING, CallPhase.CONNECTED, CallPhase.HELD,
                                CallPhase.RESUMED]
    assert log.count(CallEnded, "c1") == 0  # hold is not an ending
    phone.hangup("c1")
    ended = log.ended("c1")
    assert (ended.outcome, ended.connected) == (CallOutcome.LOCAL_HANGUP, True)
    assert uas.wait(5) == 0, uas.report()
    # The phone answered the hold offer with the mirrored direction, then sendrecv again.
    assert reinvite_answers(uas.messages()) == [answer, "sendrecv"]


def reinvite_answers(trace: str) -> list[str]:
    """The SDP direction of every 200 OK to an INVITE that SIPp received (its re-INVITEs)."""
    found = []
    for block in re.split(r"^-{10,}.*$", trace, flags=re.MULTILINE):
        body = block.strip()
        if not body.startswith(("UDP message received", "TCP message received")):
            continue
        message = body.split("\n\n", 1)[-1]
        if message.startswith("SIP/2.0 200") and re.search(r"^CSeq:\s*\d+ INVITE", message,
                                                           re.MULTILINE | re.IGNORECASE):
            direction = re.search(r"^a=(sendrecv|sendonly|recvonly|inactive)", message,
                                  re.MULTILINE)
            found.append(direction.group(1) if direction else "sendrecv")
    return found


def test_a_long_remote_hold_is_not_mistaken_for_a_dead_line(
    make_phone: Callable[..., Agent], kamailio: Kamailio, sipp: StartSipp
) -> None:
    """No RTP arrives while the far end holds ("inactive"); the media watchdog must not hang up."""
    phone, log = make_phone(account_for(kamailio), media_timeout_s=1.0)
    log.registered()
    uas = sipp(SCENARIO, pause_ms=2500, keys={"direction": "inactive"}, rtp_echo=True)
    phone.dial("c1", uas.uri)
    log.phase("c1", CallPhase.HELD, timeout_s=8)
    log.phase("c1", CallPhase.RESUMED, timeout_s=8)  # 2.5 s on hold, over twice the timeout
    assert log.count(CallEnded, "c1") == 0
    phone.hangup("c1")
    ended = log.ended("c1")
    assert (ended.outcome, ended.connected) == (CallOutcome.LOCAL_HANGUP, True)
    assert uas.wait(5) == 0, uas.report()
