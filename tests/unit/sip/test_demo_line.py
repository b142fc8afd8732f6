"""The demo line's parsing and its non-media answers, driven through a fake UDP transport."""

from __future__ import annotations

import asyncio
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from app.demo.line import (
    DEMO_BEHAVIOURS,
    Behaviour,
    DemoLine,
    Timings,
    behaviour_for,
    parse,
    parse_sdp,
    uri_user,
)
from app.domain.enums import CallOutcome


class FakeUdp:
    """Stands in for the asyncio datagram transport: records what the line sends."""

    def __init__(self) -> None:
        self.sent: list[tuple[bytes, tuple[str, int]]] = []

    def sendto(self, data: bytes, addr: tuple[str, int]) -> None:
        self.sent.append((data, addr))

    def get_extra_info(self, name: str) -> Any:
        return ("127.0.0.1", 5070) if name == "sockname" else None

    def is_closing(self) -> bool:
        return False

    def close(self) -> None:
        pass

    def first_lines(self) -> list[str]:
        return [data.split(b"\r\n", 1)[0].decode() for data, _ in self.sent]


def request(method: str, uri: str, *, extra: str = "", body: str = "") -> bytes:
    return (
        f"{method} {uri} SIP/2.0\r\n"
        "Via: SIP/2.0/UDP 127.0.0.1:5099;branch=z9hG4bK-1;rport\r\n"
        "From: <sip:agent@demo>;tag=abc\r\n"
        f"To: <{uri}>\r\n"
        "Call-ID: call-1@test\r\n"
        f"CSeq: 1 {method}\r\n"
        "Contact: <sip:agent@127.0.0.1:5099>\r\n"
        f"{extra}"
        f"Content-Length: {len(body.encode())}\r\n\r\n{body}"
    ).encode()


def make_line(said: list[str]) -> tuple[DemoLine, FakeUdp]:
    line = DemoLine("127.0.0.1", Timings(ring_s=0.05, no_answer_s=0.05), said.append)
    udp = FakeUdp()
    line.connection_made(udp)  # type: ignore[arg-type]
    return line, udp


def test_every_digit_has_a_behaviour_and_each_behaviour_a_digit() -> None:
    assert sorted(DEMO_BEHAVIOURS) == list("0123456789")
    assert set(DEMO_BEHAVIOURS.values()) == set(Behaviour)


def test_the_last_digit_of_the_user_part_decides() -> None:
    assert behaviour_for("+13125550142") is Behaviour.BUSY
    assert behaviour_for("0113125550147") is Behaviour.NOT_FOUND
    assert behaviour_for("support") is Behaviour.ANSWER
    assert behaviour_for("") is Behaviour.ANSWER
    assert Behaviour.VOICEMAIL.expected_outcome is CallOutcome.REMOTE_HANGUP


def test_parse_handles_compact_folded_and_multi_value_headers() -> None:
    data = (
        b"INVITE sip:5550101@demo SIP/2.0\r\n"
        b"v: SIP/2.0/UDP a;branch=z9hG4bK1, SIP/2.0/UDP b;branch=z9hG4bK2\r\n"
        b"Subject: a long\r\n  folded line\r\n"
        b"i: x@y\r\nl: 4\r\n\r\nbodyEXTRA"
    )
    message = parse(data)
    assert message is not None
    assert message.method == "INVITE"
    assert uri_user(message.uri) == "5550101"
    assert message.all("via") == ["SIP/2.0/UDP a;branch=z9hG4bK1", "SIP/2.0/UDP b;branch=z9hG4bK2"]
    assert message.header("subject") == "a long folded line"
    assert message.header("call-id") == "x@y"
    assert message.body == b"body"


def test_parse_rejects_what_is_not_sip() -> None:
    assert parse(b"") is None
    assert parse(b"\r\n\r\n") is None
    assert parse(b"GET / HTTP/1.1\r\n\r\n") is None
    assert parse(b"\x00" * 70000) is None


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=2048))
def test_parse_never_raises_on_junk(data: bytes) -> None:
    parse(data)
    parse(b"INVITE sip:1@x SIP/2.0\r\n" + data)


def test_sdp_offer_and_directions() -> None:
    offer = parse_sdp(
        b"v=0\r\nc=IN IP4 127.0.0.1\r\nm=audio 4000 RTP/AVP 0 8 101\r\n"
        b"a=rtpmap:101 telephone-event/8000\r\na=sendonly\r\n"
    )
    assert offer is not None
    assert (offer.address, offer.port, offer.payload_types) == ("127.0.0.1", 4000, (0, 8, 101))
    assert (offer.dtmf_pt, offer.direction) == (101, "sendonly")
    assert parse_sdp(b"v=0\r\nm=audio 99999 RTP/AVP 0\r\n") is None


def test_register_options_message_and_unknown_methods() -> None:
    said: list[str] = []
    line, udp = make_line(said)
    src = ("127.0.0.1", 5099)
    line.datagram_received(request("REGISTER", "sip:demo", extra="Expires: 60\r\n"), src)
    line.datagram_received(request("OPTIONS", "sip:demo"), src)
    line.datagram_received(request("MESSAGE", "sip:5550101@demo", body="Hello"), src)
    line.datagram_received(request("SUBSCRIBE", "sip:demo"), src)
    assert udp.first_lines() == [
        "SIP/2.0 200 OK", "SIP/2.0 200 OK", "SIP/2.0 200 OK", "SIP/2.0 501 Not Implemented",
    ]
    register_reply = udp.sent[0][0].decode()
    assert "Contact: <sip:agent@127.0.0.1:5099>;expires=60" in register_reply
    assert "Via: SIP/2.0/UDP 127.0.0.1:5099;branch=z9hG4bK-1;rport" in register_reply
    assert said == [
        "registered sip:demo at sip:agent@127.0.0.1:5099",
        "message from sip:agent@demo to 5550101: Hello",
    ]
    assert all(addr == src for _, addr in udp.sent)


def test_junk_is_dropped_silently() -> None:
    said: list[str] = []
    line, udp = make_line(said)
    for junk in (b"\xff\xfe garbage", b"INVITE sip:x SIP/2.0\r\n\r\n", b"SIP/2.0 200 OK\r\n\r\n"):
        line.datagram_received(junk, ("127.0.0.1", 1))
    assert udp.sent == []
    assert said == []


def test_busy_and_not_found_answer_at_once_and_decline_after_ringing() -> None:
    async def scenario() -> list[str]:
        said: list[str] = []
        line, udp = make_line(said)
        src = ("127.0.0.1", 5099)
        line.datagram_received(request("INVITE", "sip:5550102@demo"), src)
        line.datagram_received(
            request("INVITE", "sip:5550105@demo").replace(b"call-1@test", b"call-2@test"), src
        )
        await asyncio.sleep(0.2)
        line.datagram_received(
            request("ACK", "sip:5550102@demo").replace(b"CSeq: 1 ACK", b"CSeq: 1 ACK"), src
        )
        line.close()
        return udp.first_lines()

    lines = asyncio.run(scenario())
    assert lines[:4] == [
        "SIP/2.0 100 Trying", "SIP/2.0 486 Busy Here", "SIP/2.0 100 Trying", "SIP/2.0 180 Ringing",
    ]
    assert "SIP/2.0 603 Decline" in lines
