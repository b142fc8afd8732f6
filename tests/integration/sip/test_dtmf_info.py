"""DTMF as SIP INFO (setting `sip.dtmf_method = "sip_info"`) against a real SIPp PBX.

The scenario (tests/peers/sipp/uas_dtmf_info.xml) answers, then checks each INFO itself: its
Content-Type must be application/dtmf-relay and its body must carry the expected digit, or SIPp
fails the call and exits non-zero. The RFC 4733 path is proven against the demo line in
test_inbound_hold_message.py; here, that it sends no INFO at all.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest

from app.domain.enums import CallOutcome
from app.ports.phone import CallPhase, DtmfMethod
from app.sip.engine import SipPhone
from tests.integration.sip.conftest import account_for
from tests.integration.sip.events import EventLog
from tests.peers.kamailio import Kamailio
from tests.peers.procs import wait_until
from tests.peers.sipp import Sipp

pytestmark = [pytest.mark.peers, pytest.mark.timeout(30)]

MakePhone = Callable[..., tuple[SipPhone, EventLog]]
StartSipp = Callable[..., Sipp]


def info_bodies(uas: Sipp) -> list[tuple[str, str]]:
    """(Content-Type, body) of every INFO SIPp received, from its message trace."""
    found = []
    for block in uas.messages().split("message received")[1:]:
        if not re.search(r"^\s*INFO sip:", block, re.MULTILINE):
            continue
        ctype = re.search(r"^Content-Type:\s*(\S+)", block, re.MULTILINE | re.IGNORECASE)
        body = re.search(r"(Signal=\S+)\s+(Duration=\d+)", block)
        found.append((ctype.group(1) if ctype else "", " ".join(body.groups()) if body else ""))
    return found


def press_5_hash_on_a_pbx_expecting(first: str, kamailio: Kamailio, make_phone: MakePhone,
                                    sipp: StartSipp) -> tuple[SipPhone, EventLog, Sipp]:
    """A SIP-INFO phone in a call with a PBX (SIPp) that expects `first`, then "#"; the agent
    types "5#"."""
    phone, log = make_phone(account_for(kamailio, dtmf_method=DtmfMethod.SIP_INFO))
    log.registered()
    uas = sipp("uas_dtmf_info.xml", fill={"first": first, "second": "#"})
    phone.dial("c1", uas.uri)
    log.phase("c1", CallPhase.CONNECTED)
    phone.send_dtmf("c1", "5#")
    return phone, log, uas


def test_digits_reach_the_pbx_as_sip_info(kamailio: Kamailio, make_phone: MakePhone,
                                          sipp: StartSipp) -> None:
    phone, log, uas = press_5_hash_on_a_pbx_expecting("5", kamailio, make_phone, sipp)
    # Both INFOs answered before the hang-up: SIPp's trace shows the second 200 went out.
    assert wait_until(lambda: len(info_bodies(uas)) == 2, 5.0), uas.report()
    phone.hangup("c1")
    assert log.ended("c1").outcome is CallOutcome.LOCAL_HANGUP
    assert uas.wait(10) == 0, uas.report()
    assert info_bodies(uas) == [("application/dtmf-relay", "Signal=5 Duration=160"),
                                ("application/dtmf-relay", "Signal=# Duration=160")]


def test_the_scenario_refuses_a_wrong_digit(kamailio: Kamailio, make_phone: MakePhone,
                                            sipp: StartSipp) -> None:
    """The check above can fail: the PBX expects 9 and gets 5."""
    phone, log, uas = press_5_hash_on_a_pbx_expecting("9", kamailio, make_phone, sipp)
    errors = uas.workdir / "errors.log"
    assert wait_until(lambda: errors.is_file() and "Failed regexp" in errors.read_text(), 5.0)
    assert "looking in 'Signal=5" in errors.read_text()
    phone.hangup("c1")
    log.ended("c1")
    assert uas.wait(15) != 0


def test_rfc4733_is_the_default_and_sends_no_info(agent: tuple[SipPhone, EventLog],
                                                  sipp: StartSipp) -> None:
    phone, log = agent
    uas = sipp("uas.xml")  # any INFO would be an unexpected message: SIPp would fail the call
    phone.dial("c1", uas.uri)
    log.phase("c1", CallPhase.CONNECTED)
    phone.send_dtmf("c1", "5#")
    phone.hangup("c1")
    assert log.ended("c1").outcome is CallOutcome.LOCAL_HANGUP
    assert uas.wait(10) == 0, uas.report()
    assert info_bodies(uas) == [] and "INFO sip:" not in uas.messages()
