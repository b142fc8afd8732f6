"""Inbound calls, hold/unhold, DTMF and SIP MESSAGE against real peers."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest

from app.domain.enums import CallOutcome
from app.ports.phone import CallPhase, IncomingCall, MessageResult
from app.sip.engine import SipPhone
from tests.integration.sip.conftest import account_for, line_account
from tests.integration.sip.events import EventLog
from tests.peers.demo_line import DemoLine
from tests.peers.kamailio import Kamailio
from tests.peers.sipp import Sipp

pytestmark = [pytest.mark.peers, pytest.mark.timeout(30)]

Agent = tuple[SipPhone, EventLog]
StartSipp = Callable[..., Sipp]


def test_hold_and_unhold_by_reinvite(agent: Agent, sipp: StartSipp) -> None:
    phone, log = agent
    uas = sipp("uas.xml", pause_ms=100, rtp_echo=True)
    phone.dial("c1", uas.uri)
    log.phase("c1", CallPhase.CONNECTED)
    phone.hold("c1")
    log.phase("c1", CallPhase.HELD)
    phone.unhold("c1")
    log.phase("c1", CallPhase.RESUMED)
    phone.hangup("c1")
    assert log.ended("c1").outcome is CallOutcome.LOCAL_HANGUP
    assert uas.wait(5) == 0, uas.report()
    # What crossed the wire: initial offer, hold offer (sendonly), resume offer (sendrecv).
    offers = re.findall(r"message received.*?a=(sendrecv|sendonly|inactive)", uas.messages(),
                        re.DOTALL)
    assert offers == ["sendrecv", "sendonly", "sendrecv"]


def test_dtmf_reaches_the_far_end_as_rfc4733(make_phone: Callable[..., Agent],
                                            demo_line: DemoLine) -> None:
    phone, log = make_phone(line_account(demo_line))
    log.registered()
    phone.dial("c1", demo_line.number("5550101"))
    log.phase("c1", CallPhase.CONNECTED)
    phone.send_dtmf("c1", "5#")
    demo_line.wait_for(r"^dtmf 5$")
    demo_line.wait_for(r"^dtmf #$")
    phone.hangup("c1")
    assert log.ended("c1").outcome is CallOutcome.LOCAL_HANGUP


def test_inbound_call_answered_then_the_caller_hangs_up(
    agent: Agent, kamailio: Kamailio, sipp: StartSipp
) -> None:
    phone, log = agent
    uac = sipp("uac_inbound.xml", remote=(kamailio.host, kamailio.port), service=kamailio.user,
               pause_ms=500)
    incoming = log.wait_for(IncomingCall)
    assert incoming.remote_uri.startswith('"Customer" <sip:customer@127.0.0.1')
    phone.answer(incoming.ref)
    log.phase(incoming.ref, CallPhase.CONNECTED)
    ended = log.ended(incoming.ref)
    assert (ended.outcome, ended.connected) == (CallOutcome.REMOTE_HANGUP, True)
    assert uac.wait(5) == 0, uac.report()


def test_inbound_call_declined_by_the_agent(agent: Agent, kamailio: Kamailio,
                                            sipp: StartSipp) -> None:
    phone, log = agent
    uac = sipp("uac_invite_refused.xml", remote=(kamailio.host, kamailio.port),
               service=kamailio.user)
    incoming = log.wait_for(IncomingCall)
    phone.hangup(incoming.ref)
    ended = log.ended(incoming.ref)
    assert (ended.outcome, ended.code, ended.connected) == (CallOutcome.DECLINED, 603, False)
    assert uac.wait(5) == 0, uac.report()
    assert "SIP/2.0 603" in uac.messages()


def test_inbound_call_refused_busy_while_the_agent_is_on_another(
        agent: Agent, kamailio: Kamailio, sipp: StartSipp) -> None:
    phone, log = agent
    uac = sipp("uac_invite_refused.xml", remote=(kamailio.host, kamailio.port),
               service=kamailio.user)
    incoming = log.wait_for(IncomingCall)
    phone.hangup(incoming.ref, busy=True)
    ended = log.ended(incoming.ref)
    # Refused by the agent's side either way: declined, with the code the caller heard.
    assert (ended.outcome, ended.code, ended.connected) == (CallOutcome.DECLINED, 486, False)
    assert uac.wait(5) == 0, uac.report()
    assert "SIP/2.0 486" in uac.messages()


def test_inbound_call_not_answered_in_time(kamailio: Kamailio, make_phone: Callable[..., Agent],
                                           sipp: StartSipp) -> None:
    _phone, log = make_phone(account_for(kamailio), answer_timeout_s=1.0)
    log.registered()
    uac = sipp("uac_invite_refused.xml", remote=(kamailio.host, kamailio.port),
               service=kamailio.user)
    incoming = log.wait_for(IncomingCall)
    ended = log.ended(incoming.ref, timeout_s=5)
    assert (ended.outcome, ended.code) == (CallOutcome.NO_ANSWER, 480)
    assert uac.wait(5) == 0, uac.report()


def test_inbound_call_cancelled_by_the_caller(agent: Agent, kamailio: Kamailio,
                                              sipp: StartSipp) -> None:
    _phone, log = agent
    uac = sipp("uac_inbound_cancel.xml", remote=(kamailio.host, kamailio.port),
               service=kamailio.user, pause_ms=300)
    incoming = log.wait_for(IncomingCall)
    ended = log.ended(incoming.ref)
    assert (ended.outcome, ended.code, ended.connected) == (CallOutcome.CANCELLED, 487, False)
    assert uac.wait(5) == 0, uac.report()


@pytest.mark.parametrize(("code", "reason", "delivered"),
                         [("200", "OK", True), ("404", "Not Found", False)])
def test_message_through_the_proxy(agent: Agent, sipp: StartSipp, code: str, reason: str,
                                   delivered: bool) -> None:
    phone, log = agent
    uas = sipp("uas_message.xml", fill={"code": code, "reason": reason})
    phone.send_message("m1", uas.uri, "Your callback is at 3 pm. - Callwise")
    result = log.wait_for(MessageResult)
    assert result == MessageResult("m1", delivered, int(code), reason)
    assert uas.wait(5) == 0, uas.report()
    assert "Your callback is at 3 pm. - Callwise" in uas.messages()
