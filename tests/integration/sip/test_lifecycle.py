"""Starting and stopping the engine: the misuses that would otherwise abort the process."""

from __future__ import annotations

import re
import socket
from collections.abc import Callable

import pytest

from app.ports.phone import PhoneFailed, SipAccountConfig
from app.sip.engine import SipPhone
from tests.integration.sip.conftest import line_account
from tests.integration.sip.events import EventLog
from tests.peers.demo_line import DemoLine
from tests.peers.procs import LOOPBACK, sip_options_ping

pytestmark = [pytest.mark.peers, pytest.mark.timeout(30)]

MakePhone = Callable[..., tuple[SipPhone, EventLog]]
NOWHERE = SipAccountConfig(registrar=f"sip:{LOOPBACK}:9", username="agent", domain="d")


def test_only_one_phone_runs_per_process(make_phone: MakePhone) -> None:
    # pjsua2's Endpoint is a singleton; a second one throws through SWIG and terminates.
    first, _ = make_phone(NOWHERE)
    second = SipPhone()
    with pytest.raises(RuntimeError, match="another SipPhone is running"):
        second.start(NOWHERE)
    with pytest.raises(RuntimeError, match="may be called once"):
        first.start(NOWHERE)
    first.shutdown(1.0)
    third, log = make_phone(NOWHERE)  # the slot is free again once shutdown returned
    third.shutdown(1.0)
    assert not any(isinstance(e, PhoneFailed) for e in log.events)


def test_a_port_in_use_is_reported_not_raised(make_phone: MakePhone) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as taken:
        taken.bind((LOOPBACK, 0))
        port = taken.getsockname()[1]
        account = SipAccountConfig(registrar=f"sip:{LOOPBACK}:9", username="agent", domain="d",
                                   local_port=port)
        phone, log = make_phone(account)
        failed = log.wait_for(PhoneFailed)
    assert failed.reason.startswith("SIP engine could not start: ")
    phone.shutdown(1.0)
    again, _ = make_phone(NOWHERE)  # a failed start does not keep the process's slot
    again.shutdown(1.0)


def test_the_port_the_phone_bound_is_read_back(make_phone: MakePhone,
                                               demo_line: DemoLine) -> None:
    # local_port 0 (any free port): tests reach the phone directly at the port read back.
    phone, log = make_phone()
    assert phone.local_address is None  # not started
    phone.start(line_account(demo_line))
    log.registered()
    address = phone.local_address
    assert address is not None
    host, port = address
    assert host == LOOPBACK and port > 0
    # It is the phone's own socket: the registrar got that contact and the phone answers there.
    demo_line.wait_for(rf"^registered \S+ at sip:agent@{re.escape(LOOPBACK)}:{port}\b")
    assert (sip_options_ping(host, port, timeout_s=2.0) or "").startswith("SIP/2.0 200")
    phone.shutdown(3.0)
    assert phone.local_address is None  # its socket is closed
