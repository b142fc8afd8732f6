"""Hardening regressions: what a hostile or careless peer must not be able to do."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from app.domain.enums import CallOutcome
from app.ports.phone import CallEnded, CallPhase, IncomingCall, PhoneEvent, SipAccountConfig
from app.sip.engine import SipPhone
from tests.integration.sip.conftest import account_for
from tests.integration.sip.events import EventLog
from tests.peers.kamailio import Kamailio
from tests.peers.procs import LOOPBACK, sip_options_ping
from tests.peers.sipp import Sipp

pytestmark = [pytest.mark.peers, pytest.mark.timeout(60)]

MakePhone = Callable[..., tuple[SipPhone, EventLog]]
StartSipp = Callable[..., Sipp]


def alive(port: int) -> bool:
    return (sip_options_ping(LOOPBACK, port, timeout_s=1.0) or "").startswith("SIP/2.0 200")


def on_known_port(kamailio: Kamailio, make_phone: MakePhone,
                  **account: object) -> tuple[SipPhone, EventLog, int]:
    """A registered phone whose SIP port the test knows, to talk to it without the proxy.

    The phone binds any free port and the test reads it back: a probed port could be taken
    by someone else before the phone binds it.
    """
    phone, log = make_phone(account_for(kamailio, **account))
    log.registered()
    assert phone.local_address is not None
    return phone, log, phone.local_address[1]


@pytest.fixture
def exposed(kamailio: Kamailio, make_phone: MakePhone) -> tuple[SipPhone, EventLog, int]:
    return on_known_port(kamailio, make_phone)


def test_bodyless_invite_from_a_stranger_is_refused_without_aborting(
    exposed: tuple[SipPhone, EventLog, int], sipp: StartSipp
) -> None:
    _, log, port = exposed
    uac = sipp("uac_invite_nosdp.xml", remote=(LOOPBACK, port), service="agent")
    assert uac.wait(10) == 0, uac.report()
    assert "SIP/2.0 403" in uac.messages()  # not from the registrar/proxy: refused
    assert log.count(IncomingCall) == 0  # the agent is never bothered with it
    assert alive(port)


def test_bodyless_invite_via_the_proxy_declined_by_the_agent(
    exposed: tuple[SipPhone, EventLog, int], kamailio: Kamailio, sipp: StartSipp
) -> None:
    phone, log, port = exposed
    uac = sipp("uac_invite_nosdp.xml", remote=(kamailio.host, kamailio.port),
               service=kamailio.user)
    incoming = log.wait_for(IncomingCall)
    phone.hangup(incoming.ref)  # the hang-up pjsua 2.15.1 aborts on inside onIncomingCall
    assert log.ended(incoming.ref).outcome is CallOutcome.DECLINED
    assert uac.wait(10) == 0, uac.report()
    assert alive(port)


def test_presence_subscribe_is_refused(exposed: tuple[SipPhone, EventLog, int],
                                       sipp: StartSipp) -> None:
    _, _, port = exposed
    uac = sipp("uac_subscribe.xml", remote=(LOOPBACK, port), service="agent")
    assert uac.wait(10) == 0, uac.report()  # the scenario requires a 403
    assert "NOTIFY" not in uac.messages()


def test_calls_beyond_max_calls_are_refused_busy(
    kamailio: Kamailio, make_phone: MakePhone, sipp: StartSipp
) -> None:
    phone, log = make_phone(account_for(kamailio, max_calls=1))
    log.registered()
    uas = sipp("uas.xml", rtp_echo=True)
    phone.dial("c1", uas.uri)
    log.phase("c1", CallPhase.CONNECTED)
    uac = sipp("uac_invite_refused.xml", remote=(kamailio.host, kamailio.port),
               service=kamailio.user)
    assert uac.wait(10) == 0, uac.report()
    assert "SIP/2.0 486" in uac.messages()
    assert log.count(IncomingCall) == 0
    phone.dial("c2", uas.uri)  # and the agent's own second call is refused too
    ended = log.ended("c2")
    assert (ended.outcome, ended.code) == (CallOutcome.UNREACHABLE, 0)
    assert ended.reason == "already 1 calls in progress"
    phone.hangup("c1")
    assert log.ended("c1").outcome is CallOutcome.LOCAL_HANGUP


def test_invite_flood_from_a_stranger_is_survived(
    exposed: tuple[SipPhone, EventLog, int], sipp: StartSipp
) -> None:
    phone, log, port = exposed
    # Bounded: 300 INVITEs at 100/s (3 s), at most 100 open at once, loopback only.
    flood = sipp("uac_invite_refused.xml", remote=(LOOPBACK, port), service="agent",
                 calls=300, rate=100, limit=100, timeout_s=30)
    assert flood.wait(40) == 0, flood.report()  # every INVITE got a final refusal
    assert alive(port)
    assert log.count(IncomingCall) == 0
    # Still a working phone: a normal call goes through after the flood.
    uas = sipp("uas.xml", rtp_echo=True)
    phone.dial("after", uas.uri)
    log.phase("after", CallPhase.CONNECTED)
    phone.hangup("after")
    assert log.ended("after").outcome is CallOutcome.LOCAL_HANGUP


def test_a_dial_waits_for_a_call_slot_held_by_refused_strangers(
    kamailio: Kamailio, make_phone: MakePhone, sipp: StartSipp
) -> None:
    phone, log, port = on_known_port(kamailio, make_phone, max_calls=1)
    uas = sipp("uas.xml", rtp_echo=True)
    # With one call allowed pjsua has three call slots, and each refused INVITE holds one for a
    # second (the socket budget): three strangers take them all. The agent's dial must wait
    # for a slot, not end as "unreachable (PJ_ETOOMANY)".
    strangers = sipp("uac_invite_refused.xml", remote=(LOOPBACK, port), service="agent",
                     calls=3, rate=100, limit=3, timeout_s=10)
    time.sleep(0.3)  # three INVITEs at 100/s are in; their slots stay taken for 1 s
    phone.dial("c1", uas.uri)
    log.phase("c1", CallPhase.CONNECTED)
    phone.hangup("c1")
    assert log.ended("c1").outcome is CallOutcome.LOCAL_HANGUP
    assert strangers.wait(10) == 0, strangers.report()


def test_the_agent_can_still_dial_during_a_flood_from_a_stranger(
    kamailio: Kamailio, make_phone: MakePhone, sipp: StartSipp
) -> None:
    phone, log, port = on_known_port(kamailio, make_phone, max_calls=1)
    # A steady flood from a stranger must not lock the agent out of their own phone: refused
    # INVITEs hold pjsua's call slots for a second each, and pjsua turns away the ones beyond;
    # the agent's call still connects. Bounded: 150 INVITEs at 50/s, loopback only.
    flood = sipp("uac_invite_refused.xml", remote=(LOOPBACK, port), service="agent",
                 calls=150, rate=50, limit=50, timeout_s=30)
    time.sleep(1.0)  # the flood is under way and has filled the slots
    uas = sipp("uas.xml", rtp_echo=True)
    phone.dial("during", uas.uri)
    log.phase("during", CallPhase.CONNECTED)
    assert flood.proc.poll() is None, "the flood ended before the dial: the test proved nothing"
    phone.hangup("during")
    assert log.ended("during").outcome is CallOutcome.LOCAL_HANGUP
    flood.wait(40)
    assert alive(port)


def test_invite_flood_through_the_proxy_is_capped_and_survived(
    kamailio: Kamailio, make_phone: MakePhone, sipp: StartSipp
) -> None:
    phone, log, port = on_known_port(kamailio, make_phone, max_calls=2)

    def decline(event: PhoneEvent) -> None:  # runs on the SIP owner thread
        if isinstance(event, IncomingCall):
            phone.hangup(event.ref)

    phone.subscribe(decline)
    flood = sipp("uac_invite_refused.xml", remote=(kamailio.host, kamailio.port),
                 service=kamailio.user, calls=100, rate=50, limit=50, timeout_s=30)
    flood.wait(40)
    assert alive(port)
    announced = [e.ref for e in list(log.events) if isinstance(e, IncomingCall)]
    assert announced
    # A refused inbound call lives at least 1 s (the socket budget), so its end may still be on
    # its way when SIPp exits: wait for each, then check there is exactly one per call.
    for ref in announced:
        log.ended(ref)
    assert log.count(CallEnded) == len(announced)  # exactly one end for every call announced


def test_calls_placed_at_machine_speed_are_paced_not_aborted(
    make_phone: MakePhone, sipp: StartSipp
) -> None:
    # pjsip 2.15.1 recycles a closed socket's ioqueue slot only after 500 ms and asserts when
    # they run out: ~30 calls set up and torn down back to back used to abort the process.
    uas = sipp("uas_bench.xml", calls=1000, timeout_s=60)
    phone, log = make_phone(SipAccountConfig(registrar=uas.uri, username="agent",
                                             domain="callwise.test", max_calls=1))
    log.registered()
    for i in range(60):
        phone.dial(f"c{i}", uas.uri)
        log.phase(f"c{i}", CallPhase.CONNECTED)
        phone.hangup(f"c{i}")
        assert log.ended(f"c{i}").outcome is CallOutcome.LOCAL_HANGUP
    phone.shutdown(1.0)  # SIPp ignores the un-REGISTER (its dialog is over): do not wait 3 s


class _ScaledClock:
    """A monotonic clock whose speed the test sets; continuous across rate changes."""

    def __init__(self) -> None:
        self._real0 = time.monotonic()
        self._at0 = self._real0
        self._rate = 1.0

    def __call__(self) -> float:
        return self._at0 + (time.monotonic() - self._real0) * self._rate

    def set_rate(self, rate: float) -> None:
        self._at0, self._real0, self._rate = self(), time.monotonic(), rate


def test_hanging_up_a_dial_still_waiting_for_sockets_cancels_it(
    make_phone: MakePhone, sipp: StartSipp
) -> None:
    uas = sipp("uas_bench.xml", calls=1000, timeout_s=60)
    # While the calls churn, the engine's clock runs at 1/100 of real speed, so the 500 ms
    # socket-reuse window lasts 50 s of real time and the budget fills however slow each
    # dial-and-cancel is on a loaded machine (with the real clock, a cycle slower than 500/24 ms
    # let sockets recycle as fast as they were used, and the test was flaky). Shutdown runs at
    # real speed again.
    clock = _ScaledClock()
    phone, log = make_phone(SipAccountConfig(registrar=uas.uri, username="agent",
                                             domain="callwise.test", max_calls=1),
                            clock=clock)
    log.registered()
    clock.set_rate(0.01)
    try:
        i = 0
        while True:  # churn until a dial has to wait for the socket budget
            phone.dial(f"c{i}", uas.uri)
            phone.hangup(f"c{i}")
            ended = log.ended(f"c{i}")
            if ended.reason == "hung up before it was placed":
                break
            i += 1
            assert i < 200, f"the socket budget never held a dial back; last: {ended}"
        assert (ended.outcome, ended.code, ended.connected) == (CallOutcome.CANCELLED, 0, False)
    finally:
        clock.set_rate(1.0)  # or a failure here leaves a phone that never finishes shutting down
    phone.shutdown(1.0)
