"""The demo line end to end: the real softphone registers at it and dials every behaviour."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
from collections.abc import Callable

import pytest

from app.demo.line import DEMO_BEHAVIOURS, Behaviour
from app.domain.enums import CallOutcome
from app.ports.phone import CallPhase, MessageResult, RegistrationChanged
from app.sip.engine import SipPhone
from tests.integration.sip.conftest import line_account
from tests.integration.sip.events import EventLog
from tests.peers.demo_line import READY_LINE, DemoLine
from tests.peers.procs import LOOPBACK, sip_options_ping, wait_until

pytestmark = [pytest.mark.peers, pytest.mark.timeout(40)]

MakePhone = Callable[..., tuple[SipPhone, EventLog]]


def number_for(behaviour: Behaviour) -> str:
    digit = min(d for d, b in DEMO_BEHAVIOURS.items() if b is behaviour)
    return f"+1312555010{digit}"


def test_every_behaviour_gives_its_outcome(make_phone: MakePhone, demo_line: DemoLine) -> None:
    phone, log = make_phone(line_account(demo_line), media_timeout_s=1.0)
    assert log.registered() == RegistrationChanged(True, 200, "registered")
    demo_line.wait_for(r"^registered sip:agent@demo at sip:agent@127\.0\.0\.1:\d+")
    for behaviour in Behaviour:
        ref = behaviour.value
        phone.dial(ref, demo_line.number(number_for(behaviour)))
        if behaviour is Behaviour.ANSWER:
            log.phase(ref, CallPhase.CONNECTED)
            phone.hangup(ref)
        ended = log.ended(ref, timeout_s=8)
        assert ended.outcome is behaviour.expected_outcome, (behaviour, ended)
        demo_line.wait_for(rf"^call to {number_for(behaviour).replace('+', '[+]')}: {ref}$")


def test_messages_are_printed_by_the_line(make_phone: MakePhone, demo_line: DemoLine) -> None:
    phone, log = make_phone(line_account(demo_line))
    log.registered()
    phone.send_message("m1", demo_line.number("5550101"), "Customer Callback: we call at 3 pm")
    assert log.wait_for(MessageResult) == MessageResult("m1", True, 200, "OK")
    demo_line.wait_for(r"^message from sip:agent@demo to 5550101: Customer Callback: we call at 3 pm$")


def test_voicemail_hangs_up_by_itself(make_phone: MakePhone, demo_line: DemoLine) -> None:
    phone, log = make_phone(line_account(demo_line))
    log.registered()
    phone.dial("v", demo_line.number(number_for(Behaviour.VOICEMAIL)))
    log.phase("v", CallPhase.CONNECTED)
    ended = log.ended("v", timeout_s=6)
    assert (ended.outcome, ended.connected) == (CallOutcome.REMOTE_HANGUP, True)
    demo_line.wait_for("voicemail over, hanging up")


def test_junk_does_not_take_the_line_down(demo_line: DemoLine) -> None:
    junk = [b"", b"\x00" * 1500, b"INVITE\r\n\r\n", b"SIP/2.0 999\r\n\r\n",
            b"INVITE sip:x SIP/2.0\r\nVia: z\r\nCall-ID: 1\r\nCSeq: x\r\n\r\n",
            b"REGISTER sip:demo SIP/2.0\r\nVia: SIP/2.0/UDP 1.2.3.4\r\nCall-ID: a\r\nCSeq: 1 REGISTER"
            b"\r\nContact: <>;expires=zz\r\n\r\n", bytes(range(256)) * 4]
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        for data in junk:
            sock.sendto(data, (demo_line.host, demo_line.port))
    assert (sip_options_ping(demo_line.host, demo_line.port, timeout_s=2) or "").startswith(
        "SIP/2.0 200"
    )


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_command_line_prints_ready_and_exits_cleanly_on_signal(sig: signal.Signals) -> None:
    # Port 0: any free port, and the ready line names the one it got (no probe to race).
    proc = subprocess.Popen(
        [sys.executable, "-m", "app.demo.line", "--port", "0", "--host", LOOPBACK],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )
    try:
        assert proc.stdout is not None
        ready = proc.stdout.readline().decode().strip()
        listening = READY_LINE.fullmatch(ready)
        assert listening is not None, ready
        port = int(listening[1])
        assert wait_until(lambda: sip_options_ping(LOOPBACK, port) is not None, 5)
        proc.send_signal(sig)
        _out, err = proc.communicate(timeout=5)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0
    assert err == b""
