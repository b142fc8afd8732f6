"""The demo line: a local SIP peer that plays the registrar and every customer's phone.

    python -m app.demo.line --port 5070 [--host 127.0.0.1]

prints "demo line listening on 127.0.0.1:5070" once it is ready and exits cleanly (status 0) on
SIGTERM or SIGINT. Standard library only (asyncio over UDP): no pjsua2, so the demo shows the
real softphone talking to a separate process, as it would to a carrier.

It answers REGISTER with 200 (any credentials or none), OPTIONS with 200, MESSAGE with 200
(printing the text), CANCEL with 200 + 487, BYE with 200, ignores ACK, and refuses other
methods with 501. What a dialled number does is chosen by the LAST DIGIT of its user part
(`DEMO_BEHAVIOURS`; a user part not ending in a digit answers):

    digit    behaviour   what the caller sees
    1 0 8 9  answer      rings ~1 s, answers, silence (PCMU) until the caller hangs up
    2        busy        486 Busy Here at once
    3        no answer   rings, then 480 Temporarily Unavailable after ~6 s
    4        voicemail   rings, answers, "plays" ~20 s, then hangs up itself (BYE)
    5        decline     rings, then 603 Decline
    6        drop        answers, then after ~3 s stops sending audio and goes silent,
                         as a dead line does (the phone's media timeout reports it dropped)
    7        not found   404 Not Found

While a call is up it sends 20 ms PCMU silence to the address in the caller's SDP and prints
each RFC 4733 DTMF digit it receives ("dtmf 5"). Every line it prints is a plain event a test
or a newcomer can read. Parsing is bounded and defensive: junk datagrams are dropped, never fatal.

A demo customer calls the agent when asked, so the inbound call and the consult flow can be
tried without a carrier. The ask is a SIP MESSAGE from the agent's registered account to the
reserved user `ring-me` (`sip:ring-me@<the line's address>`, `RING_ME_USER`); its text says what:

    text                      what the line does
    "ring" (anything else)    the next customer of `DEMO_CALLERS` calls the agent
    a number, "+12125550190"  that number calls (named when it is one of `DEMO_CALLERS`)
    "hang up"                 every customer calling this agent hangs up (CANCEL or BYE)

It answers 200 and places an INVITE with an SDP offer (PCMU) to the contact the agent
registered, From the customer's number; 404 when the sender is not registered here. The call
then runs as a phone's would: 180 -> ringing, 200 -> ACK and silence both ways, 486/603/487 ->
ACK, BYE either way, re-INVITE (hold) answered, and a CANCEL when nobody answers within
`--ring-agent-s` (30 s). It prints "ring <call>: ..." lines ("ring 1a2b3c4d: +13125550141
(Ana García) calls sip:demo-agent@...", "... agent's phone rings", "... agent answered",
"... 603 Decline", "... agent hung up", "... customer hung up"). The desktop's
"Demo: have a customer call me" action (only with `callwise --demo`) sends "ring".
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import logging
import os
import random
import re
import signal
import struct
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType
from typing import cast

from app.domain.enums import CallOutcome
from app.services.lines import same_number

log = logging.getLogger(__name__)

MAX_DATAGRAM = 65535
MAX_HEADERS = 128
MAX_DIALOGS = 64
_T1 = 0.5
_PCMU_SILENCE = b"\xff" * 160


class Behaviour(StrEnum):
    ANSWER = "answer"
    BUSY = "busy"
    NO_ANSWER = "no_answer"
    VOICEMAIL = "voicemail"
    DECLINE = "decline"
    DROP = "drop"
    NOT_FOUND = "not_found"

    @property
    def expected_outcome(self) -> CallOutcome:
        """What the softphone should report when the agent dials such a number and, for the
        answering ones, hangs up first (voicemail hangs up by itself)."""
        return _EXPECTED[self]


_EXPECTED = {
    Behaviour.ANSWER: CallOutcome.LOCAL_HANGUP,
    Behaviour.BUSY: CallOutcome.BUSY,
    Behaviour.NO_ANSWER: CallOutcome.NO_ANSWER,
    Behaviour.VOICEMAIL: CallOutcome.REMOTE_HANGUP,
    Behaviour.DECLINE: CallOutcome.DECLINED,
    Behaviour.DROP: CallOutcome.DROPPED,
    Behaviour.NOT_FOUND: CallOutcome.NOT_FOUND,
}

DEMO_BEHAVIOURS: Mapping[str, Behaviour] = MappingProxyType(
    {
        "0": Behaviour.ANSWER,
        "1": Behaviour.ANSWER,
        "2": Behaviour.BUSY,
        "3": Behaviour.NO_ANSWER,
        "4": Behaviour.VOICEMAIL,
        "5": Behaviour.DECLINE,
        "6": Behaviour.DROP,
        "7": Behaviour.NOT_FOUND,
        "8": Behaviour.ANSWER,
        "9": Behaviour.ANSWER,
    }
)


def behaviour_for(user: str) -> Behaviour:
    """The behaviour of a dialled user part ("+13125550141" -> answer)."""
    last = user[-1:] if user else ""
    return DEMO_BEHAVIOURS.get(last, Behaviour.ANSWER)


@dataclass(frozen=True)
class Timings:
    ring_s: float = 1.0
    no_answer_s: float = 6.0
    voicemail_s: float = 20.0
    drop_after_s: float = 3.0
    ring_agent_s: float = 30.0  # a customer calling the agent gives up (CANCEL) after this


RING_ME_USER = "ring-me"


@dataclass(frozen=True)
class DemoCaller:
    number: str  # E.164, as seeded in app.demo.customers
    name: str


# Customers seeded by app.demo.customers who call the agent, in turn. Ana first: she answers
# when called back, and the consult screenshots and tutorial follow her.
DEMO_CALLERS: tuple[DemoCaller, ...] = (
    DemoCaller("+13125550141", "Ana García"),
    DemoCaller("+17735550119", "Liam O'Connor"),
    DemoCaller("+12125550190", "Sofia Rossi"),
    DemoCaller("+14155550101", "Grace Lee"),
)


# --------------------------------------------------------------------------- SIP parsing

_COMPACT = {"v": "via", "f": "from", "t": "to", "i": "call-id", "m": "contact",
            "l": "content-length", "c": "content-type", "k": "supported", "s": "subject"}


@dataclass
class SipMessage:
    first_line: str
    headers: list[tuple[str, str]]
    body: bytes

    @property
    def is_request(self) -> bool:
        return not self.first_line.startswith("SIP/")

    @property
    def method(self) -> str:
        return self.first_line.split(" ", 1)[0].upper() if self.is_request else ""

    @property
    def uri(self) -> str:
        parts = self.first_line.split(" ")
        return parts[1] if self.is_request and len(parts) >= 3 else ""

    @property
    def status(self) -> int:
        parts = self.first_line.split(" ", 2)
        if self.is_request or len(parts) < 2 or not parts[1].isdigit():
            return 0
        return int(parts[1])

    def header(self, name: str) -> str | None:
        for key, value in self.headers:
            if key == name:
                return value
        return None

    def all(self, name: str) -> list[str]:
        return [value for key, value in self.headers if key == name]

    @property
    def cseq_method(self) -> str:
        parts = (self.header("cseq") or "").split()
        return parts[1].upper() if len(parts) == 2 else ""


def parse(data: bytes) -> SipMessage | None:
    """A SIP message, or None for anything that is not one. Never raises."""
    if not data or len(data) > MAX_DATAGRAM:
        return None
    head, sep, body = data.partition(b"\r\n\r\n")
    if not sep:
        head, sep, body = data.partition(b"\n\n")
    text = head.decode("utf-8", "replace").replace("\r\n", "\n")
    lines = text.split("\n")
    first = lines[0].strip()
    if not re.fullmatch(r"(SIP/2\.0 \d{3}( .*)?|[A-Za-z]+ \S+ SIP/2\.0)", first):
        return None
    headers: list[tuple[str, str]] = []
    for line in lines[1:]:
        if line[:1] in (" ", "\t") and headers:  # folded continuation
            name, value = headers[-1]
            headers[-1] = (name, f"{value} {line.strip()}")
            continue
        name, colon, value = line.partition(":")
        if not colon:
            continue
        key = name.strip().lower()
        key = _COMPACT.get(key, key)
        if key == "via":  # a Via header may carry several values
            headers.extend(("via", v.strip()) for v in _split_commas(value) if v.strip())
        else:
            headers.append((key, value.strip()))
        if len(headers) > MAX_HEADERS:
            return None
    length = (dict(headers).get("content-length") or "").strip()
    if length.isdigit():
        body = body[: int(length)]
    return SipMessage(first, headers, body)


def _split_commas(value: str) -> list[str]:
    """Split a header value on commas outside quotes and angle brackets."""
    parts, depth, quoted, start = [], 0, False, 0
    for i, ch in enumerate(value):
        if ch == '"':
            quoted = not quoted
        elif not quoted and ch == "<":
            depth += 1
        elif not quoted and ch == ">":
            depth = max(0, depth - 1)
        elif ch == "," and not quoted and depth == 0:
            parts.append(value[start:i])
            start = i + 1
    parts.append(value[start:])
    return parts


def uri_user(uri: str) -> str:
    match = re.match(r"^\s*<?\s*(?:sips?|tel):([^@;>?]*)", uri, re.IGNORECASE)
    if not match:
        return ""
    user = match.group(1)
    return user.split(":", 1)[0]  # sip:user:password@host


def uri_of(header: str) -> str:
    """The URI inside a From/To/Contact value ("Name" <sip:x@y>;tag=1 -> sip:x@y)."""
    match = re.search(r"<([^>]*)>", header)
    if match:
        return match.group(1).strip()
    return header.split(";", 1)[0].strip()


def host_port(uri: str) -> tuple[str, int] | None:
    match = re.match(r"^\s*sips?:(?:[^@]*@)?(\[[^\]]+\]|[^:;>?]+)(?::(\d+))?", uri, re.IGNORECASE)
    if not match:
        return None
    return match.group(1).strip("[]"), int(match.group(2) or 5060)


def tag_of(header: str | None) -> str | None:
    match = re.search(r";\s*tag=([^;>\s]+)", header or "", re.IGNORECASE)
    return match.group(1) if match else None


# --------------------------------------------------------------------------- SDP and RTP


@dataclass(frozen=True)
class Offer:
    address: str
    port: int
    payload_types: tuple[int, ...]
    dtmf_pt: int | None
    direction: str


def parse_sdp(body: bytes) -> Offer | None:
    text = body.decode("utf-8", "replace")
    address, port, direction = "", 0, "sendrecv"
    pts: tuple[int, ...] = ()
    dtmf: int | None = None
    for raw in text.splitlines()[:200]:
        line = raw.strip()
        if line.startswith("c=IN IP4 "):
            address = line[9:].split("/", 1)[0].strip()
        elif line.startswith("m=audio ") and not port:
            fields = line.split()
            if len(fields) >= 4 and fields[1].isdigit():
                port = int(fields[1])
                pts = tuple(int(f) for f in fields[3:] if f.isdigit())
        elif line.startswith("a=rtpmap:") and "telephone-event/8000" in line.lower():
            number = line[9:].split(" ", 1)[0]
            dtmf = int(number) if number.isdigit() else None
        elif line in ("a=sendrecv", "a=sendonly", "a=recvonly", "a=inactive"):
            direction = line[2:]
    if not address or not (0 < port < 65536):
        return None
    return Offer(address, port, pts, dtmf, direction)


_ANSWER_DIRECTION = {"sendrecv": "sendrecv", "sendonly": "recvonly", "recvonly": "sendonly",
                     "inactive": "inactive"}
_DTMF_KEYS = "0123456789*#ABCD"


class RtpStream(asyncio.DatagramProtocol):
    """20 ms PCMU silence out; RFC 4733 digits in (printed). Lives for one call."""

    def __init__(self, say: Callable[[str], None]) -> None:
        self._say = say
        self.transport: asyncio.DatagramTransport | None = None
        self.target: tuple[str, int] | None = None
        self.sending = False
        self.dtmf_pt: int | None = None
        self._ssrc = random.getrandbits(32)
        self._seq = random.getrandbits(16)
        self._ts = random.getrandbits(32)
        self._task: asyncio.Task[None] | None = None
        self._seen_events: set[int] = set()

    @property
    def port(self) -> int:
        assert self.transport is not None
        return int(self.transport.get_extra_info("sockname")[1])

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # The selector loop's UDP transport is not a DatagramTransport subclass; it quacks.
        self.transport = cast(asyncio.DatagramTransport, transport)
        self._task = asyncio.get_running_loop().create_task(self._pace())

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        if len(data) < 16 or data[0] >> 6 != 2 or self.dtmf_pt is None:
            return
        if data[1] & 0x7F != self.dtmf_pt:
            return
        csrc = data[0] & 0x0F
        offset = 12 + 4 * csrc
        if len(data) < offset + 4:
            return
        event, flags = data[offset], data[offset + 1]
        timestamp = struct.unpack("!I", data[4:8])[0]
        if flags & 0x80 and timestamp not in self._seen_events and event < len(_DTMF_KEYS):
            self._seen_events.add(timestamp)
            self._say(f"dtmf {_DTMF_KEYS[event]}")

    async def _pace(self) -> None:
        loop = asyncio.get_running_loop()
        next_at = loop.time()
        while self.transport is not None and not self.transport.is_closing():
            if self.sending and self.target is not None:
                header = struct.pack("!BBHII", 0x80, 0, self._seq, self._ts, self._ssrc)
                with contextlib.suppress(OSError):
                    self.transport.sendto(header + _PCMU_SILENCE, self.target)
            self._seq = (self._seq + 1) & 0xFFFF
            self._ts = (self._ts + 160) & 0xFFFFFFFF
            next_at += 0.02
            await asyncio.sleep(max(0.0, next_at - loop.time()))

    def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
        if self.transport is not None:
            self.transport.close()


# --------------------------------------------------------------------------- the line


@dataclass(eq=False)
class Dialog:
    call_id: str
    invite: SipMessage
    source: tuple[str, int]
    behaviour: Behaviour
    to_tag: str
    state: str = "ringing"  # ringing -> answered -> ended
    final: bytes | None = None  # last final response to the INVITE, resent until ACK
    acked: set[str] = field(default_factory=set)  # CSeq numbers of the ACKs received
    cseq: int = 1
    rtp: RtpStream | None = None
    timers: list[asyncio.TimerHandle] = field(default_factory=list)
    sdp_version: int = 1

    def invite_acked(self, request: SipMessage) -> bool:
        return (request.header("cseq") or "").split(" ", 1)[0] in self.acked

    def cancel_timers(self) -> None:
        for timer in self.timers:
            timer.cancel()
        self.timers.clear()


@dataclass(eq=False)
class Ring(Dialog):
    """A demo customer calling the agent: the line is the UAC. Kept in `DemoLine.dialogs` like
    an inbound dialog, `to_tag` being our own (From) tag, so the agent's re-INVITE, ACK and BYE
    find it the same way."""

    caller: DemoCaller = DEMO_CALLERS[0]
    aor: str = ""  # the agent's address of record (To)
    target: str = ""  # the contact the agent registered (Request-URI of INVITE and CANCEL)
    branch: str = ""  # the INVITE's Via branch; CANCEL and a non-2xx ACK reuse it
    request: bytes = b""  # the INVITE as sent, resent until a response comes
    from_header: str = ""
    to_header: str = ""  # with the agent's tag once a response carries one
    remote_target: str = ""  # the agent's Contact in the 200 OK: where ACK and BYE go
    ack: bytes = b""  # the ACK to a 2xx, resent for every retransmitted 2xx
    responded: bool = False  # a response arrived: INVITE retransmissions stop
    cancel_wanted: bool = False  # CANCEL as soon as a provisional response allows it
    cancelled: bool = False
    cancel_done: bool = False

    @property
    def short(self) -> str:
        return self.call_id[:8]


class DemoLine(asyncio.DatagramProtocol):
    """The SIP side. Runs on the asyncio loop's thread; every handler is exception-proof."""

    def __init__(self, host: str, timings: Timings, say: Callable[[str], None]) -> None:
        self.host = host
        self.timings = timings
        self.say = say
        self.transport: asyncio.DatagramTransport | None = None
        self.dialogs: dict[str, Dialog] = {}
        self.bindings: dict[str, str] = {}
        self._bye_done: set[str] = set()  # Call-IDs whose BYE got its final response
        self._ids = itertools.count(1)
        self._next_caller = 0  # which of DEMO_CALLERS rings the agent next

    @property
    def port(self) -> int:
        assert self.transport is not None
        return int(self.transport.get_extra_info("sockname")[1])

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # The selector loop's UDP transport is not a DatagramTransport subclass; it quacks.
        self.transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        try:
            message = parse(data)
            if message is None:
                return
            if message.is_request:
                self._request(message, addr)
            else:
                self._response(message)
        except Exception:  # junk must never take the line down
            log.exception("dropped a datagram from %s", addr)

    def close(self) -> None:
        for dialog in list(self.dialogs.values()):
            self._end(dialog)
        if self.transport is not None:
            self.transport.close()

    # ------------------------------------------------------------------ sending

    def _send(self, data: bytes, addr: tuple[str, int]) -> None:
        if self.transport is not None and not self.transport.is_closing():
            with contextlib.suppress(OSError):
                self.transport.sendto(data, addr)

    def _reply(self, request: SipMessage, code: int, reason: str, *, to_tag: str | None = None,
               extra: tuple[str, ...] = (), body: bytes = b"") -> bytes:
        to = request.header("to") or ""
        if to_tag and tag_of(to) is None:
            to = f"{to};tag={to_tag}"
        lines = [f"SIP/2.0 {code} {reason}"]
        lines += [f"Via: {via}" for via in request.all("via")]
        lines += [
            f"From: {request.header('from') or ''}",
            f"To: {to}",
            f"Call-ID: {request.header('call-id') or ''}",
            f"CSeq: {request.header('cseq') or ''}",
            *extra,
            "Server: Callwise demo line",
        ]
        if body:
            lines.append("Content-Type: application/sdp")
        lines.append(f"Content-Length: {len(body)}")
        return ("\r\n".join(lines) + "\r\n\r\n").encode() + body

    def _contact(self) -> str:
        return f"Contact: <sip:demo@{self.host}:{self.port}>"

    def _retransmit(self, dialog: Dialog, data: bytes, addr: tuple[str, int],
                    done: Callable[[], bool], interval: float = _T1) -> None:
        """Resend `data` with doubling intervals until `done()` (RFC 3261 17.2.1, simplified)."""
        if done() or interval > 4.0:
            return
        self._send(data, addr)
        loop = asyncio.get_running_loop()
        dialog.timers.append(
            loop.call_later(interval, self._retransmit, dialog, data, addr, done, interval * 2)
        )

    # ------------------------------------------------------------------ requests

    def _request(self, request: SipMessage, addr: tuple[str, int]) -> None:
        if not request.all("via") or not request.header("call-id") or not request.header("cseq"):
            return  # cannot even address a reply
        handler = {
            "REGISTER": self._on_register,
            "INVITE": self._on_invite,
            "ACK": self._on_ack,
            "CANCEL": self._on_cancel,
            "BYE": self._on_bye,
            "OPTIONS": self._on_options,
            "MESSAGE": self._on_message,
        }.get(request.method)
        if handler is None:
            allow = "Allow: REGISTER, INVITE, ACK, CANCEL, BYE, OPTIONS, MESSAGE"
            self._send(self._reply(request, 501, "Not Implemented", extra=(allow,)), addr)
            return
        handler(request, addr)

    def _on_register(self, request: SipMessage, addr: tuple[str, int]) -> None:
        aor = uri_of(request.header("to") or "")
        contact = request.header("contact") or ""
        expires_match = re.search(r"expires=(\d+)", contact, re.IGNORECASE)
        expires_text = expires_match.group(1) if expires_match else request.header("expires")
        expires = int(expires_text) if expires_text and expires_text.isdigit() else 3600
        extra: tuple[str, ...] = ()
        if contact and contact != "*" and expires > 0:
            self.bindings[aor] = uri_of(contact)
            extra = (f"Contact: <{uri_of(contact)}>;expires={expires}", f"Expires: {expires}")
            self.say(f"registered {aor} at {uri_of(contact)}")
        else:
            self.bindings.pop(aor, None)
            self.say(f"unregistered {aor}")
        self._send(self._reply(request, 200, "OK", to_tag=self._tag(), extra=extra), addr)

    def _on_options(self, request: SipMessage, addr: tuple[str, int]) -> None:
        extra = ("Allow: REGISTER, INVITE, ACK, CANCEL, BYE, OPTIONS, MESSAGE",
                 "Accept: application/sdp, text/plain")
        self._send(self._reply(request, 200, "OK", to_tag=self._tag(), extra=extra), addr)

    def _on_message(self, request: SipMessage, addr: tuple[str, int]) -> None:
        sender = uri_of(request.header("from") or "")
        text = request.body.decode("utf-8", "replace")[:2000].replace("\n", " ").strip()
        if uri_user(request.uri) == RING_ME_USER:
            self._on_ring_me(request, addr, sender, text)
            return
        self.say(f"message from {sender} to {uri_user(request.uri)}: {text}")
        self._send(self._reply(request, 200, "OK", to_tag=self._tag()), addr)

    def _on_invite(self, request: SipMessage, addr: tuple[str, int]) -> None:
        call_id = request.header("call-id") or ""
        dialog = self.dialogs.get(call_id)
        if dialog is not None:
            if tag_of(request.header("to")) == dialog.to_tag:
                self._on_reinvite(dialog, request, addr)
            elif dialog.final is not None:  # retransmitted initial INVITE
                self._send(dialog.final, addr)
            return
        if len(self.dialogs) >= MAX_DIALOGS:
            self._send(self._reply(request, 503, "Service Unavailable"), addr)
            return
        user = uri_user(request.uri)
        behaviour = behaviour_for(user)
        dialog = Dialog(call_id, request, addr, behaviour, self._tag())
        self.dialogs[call_id] = dialog
        self.say(f"call to {user or '?'}: {behaviour.value}")
        self._send(self._reply(request, 100, "Trying"), addr)
        if behaviour is Behaviour.NOT_FOUND:
            self._final(dialog, 404, "Not Found")
        elif behaviour is Behaviour.BUSY:
            self._final(dialog, 486, "Busy Here")
        else:
            self._send(self._reply(request, 180, "Ringing", to_tag=dialog.to_tag,
                                   extra=(self._contact(),)), addr)
            loop = asyncio.get_running_loop()
            if behaviour is Behaviour.DECLINE:
                later = loop.call_later(self.timings.ring_s, self._final, dialog, 603, "Decline")
            elif behaviour is Behaviour.NO_ANSWER:
                later = loop.call_later(self.timings.no_answer_s, self._final, dialog, 480,
                                        "Temporarily Unavailable")
            else:
                later = loop.call_later(self.timings.ring_s, self._answer, dialog)
            dialog.timers.append(later)

    def _final(self, dialog: Dialog, code: int, reason: str) -> None:
        if dialog.state != "ringing":
            return
        dialog.state = "ended"
        dialog.final = self._reply(dialog.invite, code, reason, to_tag=dialog.to_tag)
        self._retransmit(dialog, dialog.final, dialog.source,
                         lambda: dialog.invite_acked(dialog.invite))
        self._forget_later(dialog)

    def _answer(self, dialog: Dialog) -> None:
        if dialog.state != "ringing":
            return
        asyncio.get_running_loop().create_task(self._answer_with_media(dialog))

    async def _answer_with_media(self, dialog: Dialog) -> None:
        loop = asyncio.get_running_loop()
        offer = parse_sdp(dialog.invite.body) if dialog.invite.body else None
        unusable = offer is None or (offer.payload_types and 0 not in offer.payload_types)
        if dialog.invite.body and unusable:
            self._final(dialog, 488, "Not Acceptable Here")
            return
        _, rtp = await loop.create_datagram_endpoint(
            lambda: RtpStream(self.say), local_addr=(self.host, 0)
        )
        if dialog.state != "ringing":  # cancelled while we opened the socket
            rtp.close()
            return
        dialog.rtp = rtp
        dialog.state = "answered"
        self._apply_offer(dialog, offer)
        body = self._sdp(dialog, offer)
        dialog.final = self._reply(dialog.invite, 200, "OK", to_tag=dialog.to_tag,
                                   extra=(self._contact(),), body=body)
        self._retransmit(dialog, dialog.final, dialog.source,
                         lambda: dialog.state == "ended" or dialog.invite_acked(dialog.invite))
        if dialog.behaviour is Behaviour.VOICEMAIL:
            dialog.timers.append(loop.call_later(self.timings.voicemail_s, self._hang_up, dialog))
        elif dialog.behaviour is Behaviour.DROP:
            dialog.timers.append(loop.call_later(self.timings.drop_after_s, self._go_dead, dialog))

    def _apply_offer(self, dialog: Dialog, offer: Offer | None) -> None:
        if dialog.rtp is None or offer is None:
            return
        dialog.rtp.target = (offer.address, offer.port)
        dialog.rtp.dtmf_pt = offer.dtmf_pt
        # We send unless the caller holds us (sendonly/inactive) or the line "went dead".
        dead = dialog.behaviour is Behaviour.DROP and not dialog.rtp.sending and dialog.acked
        dialog.rtp.sending = offer.direction in ("sendrecv", "recvonly") and not dead

    def _sdp(self, dialog: Dialog, offer: Offer | None) -> bytes:
        assert dialog.rtp is not None
        dtmf = offer.dtmf_pt if offer is not None and offer.dtmf_pt is not None else 101
        direction = _ANSWER_DIRECTION.get(offer.direction if offer else "sendrecv", "sendrecv")
        dialog.sdp_version += 1
        return "\r\n".join([
            "v=0",
            f"o=demo 1 {dialog.sdp_version} IN IP4 {self.host}",
            "s=Callwise demo line",
            f"c=IN IP4 {self.host}",
            "t=0 0",
            f"m=audio {dialog.rtp.port} RTP/AVP 0 {dtmf}",
            "a=rtpmap:0 PCMU/8000",
            f"a=rtpmap:{dtmf} telephone-event/8000",
            f"a=fmtp:{dtmf} 0-15",
            "a=ptime:20",
            f"a={direction}",
            "",
        ]).encode()

    def _on_reinvite(self, dialog: Dialog, request: SipMessage, addr: tuple[str, int]) -> None:
        if dialog.state != "answered" or dialog.rtp is None:
            self._send(self._reply(request, 481, "Call/Transaction Does Not Exist"), addr)
            return
        offer = parse_sdp(request.body) if request.body else None
        self._apply_offer(dialog, offer)
        if offer is not None:
            held = offer.direction in ("sendonly", "inactive")
            self.say(f"call {dialog.call_id[:8]}: {'held' if held else 'resumed'}")
        body = self._sdp(dialog, offer)
        response = self._reply(request, 200, "OK", extra=(self._contact(),), body=body)
        self._retransmit(dialog, response, addr,
                         lambda: dialog.state == "ended" or dialog.invite_acked(request))

    def _on_ack(self, request: SipMessage, addr: tuple[str, int]) -> None:
        dialog = self.dialogs.get(request.header("call-id") or "")
        if dialog is None:
            return
        # The CSeq number says which (re-)INVITE this acknowledges: its response stops.
        dialog.acked.add((request.header("cseq") or "").split(" ", 1)[0])
        if request.body and dialog.rtp is not None:  # late offer: the answer is in the ACK
            self._apply_offer(dialog, parse_sdp(request.body))

    def _on_cancel(self, request: SipMessage, addr: tuple[str, int]) -> None:
        dialog = self.dialogs.get(request.header("call-id") or "")
        if dialog is None:
            self._send(self._reply(request, 481, "Call/Transaction Does Not Exist"), addr)
            return
        self._send(self._reply(request, 200, "OK", to_tag=dialog.to_tag), addr)
        if dialog.state == "ringing":
            dialog.cancel_timers()
            self.say(f"call {dialog.call_id[:8]}: cancelled by the caller")
            self._final(dialog, 487, "Request Terminated")

    def _on_bye(self, request: SipMessage, addr: tuple[str, int]) -> None:
        dialog = self.dialogs.get(request.header("call-id") or "")
        if dialog is None:
            self._send(self._reply(request, 481, "Call/Transaction Does Not Exist"), addr)
            return
        self._send(self._reply(request, 200, "OK"), addr)
        if dialog.state != "ended":
            if isinstance(dialog, Ring):
                self.say(f"ring {dialog.short}: agent hung up")
            else:
                self.say(f"call {dialog.call_id[:8]}: caller hung up")
        self._end(dialog)

    # ------------------------------------------------------------------ our own requests

    def _outgoing(self, method: str, uri: str, *, branch: str, from_: str, to: str, call_id: str,
                  cseq: int, extra: tuple[str, ...] = (), body: bytes = b"") -> bytes:
        """A request this line sends: the headers every request carries, `extra`, the body."""
        lines = [f"{method} {uri} SIP/2.0",
                 f"Via: SIP/2.0/UDP {self.host}:{self.port};branch={branch};rport",
                 "Max-Forwards: 70",
                 f"From: {from_}",
                 f"To: {to}",
                 f"Call-ID: {call_id}",
                 f"CSeq: {cseq} {method}",
                 *extra,
                 f"Content-Length: {len(body)}"]
        return ("\r\n".join(lines) + "\r\n\r\n").encode() + body

    def _hang_up(self, dialog: Dialog) -> None:
        """Voicemail is over: send BYE along the dialog's route set, resend until answered."""
        if dialog.state != "answered":
            return
        invite = dialog.invite
        dialog.cseq += 1
        target = uri_of(invite.header("contact") or "") or invite.uri
        data = self._outgoing("BYE", target, branch=f"z9hG4bK{self._tag()}",
                              from_=f"{invite.header('to') or ''};tag={dialog.to_tag}",
                              to=invite.header("from") or "", call_id=dialog.call_id,
                              cseq=dialog.cseq,
                              extra=tuple(f"Route: {route}" for route in invite.all("record-route")))
        self.say(f"call {dialog.call_id[:8]}: voicemail over, hanging up")
        self._end(dialog)
        self._retransmit(dialog, data, dialog.source, lambda: dialog.call_id in self._bye_done)
        self._forget_later(dialog)

    def _go_dead(self, dialog: Dialog) -> None:
        if dialog.state == "answered" and dialog.rtp is not None:
            dialog.rtp.sending = False
            self.say(f"call {dialog.call_id[:8]}: line went dead")

    def _response(self, response: SipMessage) -> None:
        if response.cseq_method == "BYE" and response.status >= 200:
            self._bye_done.add(response.header("call-id") or "")
        ring = self.dialogs.get(response.header("call-id") or "")
        if not isinstance(ring, Ring):
            return
        if response.cseq_method == "CANCEL":
            ring.cancel_done = True
        elif response.cseq_method == "INVITE" and response.status >= 100:
            self._ring_response(ring, response)

    # ------------------------------------------------------------------ a customer calls the agent

    def _on_ring_me(self, request: SipMessage, addr: tuple[str, int], sender: str,
                    text: str) -> None:
        contact = self.bindings.get(sender) or next(
            (c for aor, c in self.bindings.items() if uri_user(aor) == uri_user(sender)), None)
        if contact is None:
            self.say(f"ring-me from {sender}: not registered here, nobody to call")
            self._send(self._reply(request, 404, "Not Registered Here", to_tag=self._tag()), addr)
            return
        self._send(self._reply(request, 200, "OK", to_tag=self._tag()), addr)
        if text.lower().replace("-", " ") in ("hang up", "hangup", "bye"):
            for ring in [d for d in self.dialogs.values() if isinstance(d, Ring)]:
                if ring.aor == sender and ring.state != "ended":
                    self._ring_hang_up(ring, "customer hung up")
            return
        caller = self._caller_for(text)
        target = host_port(contact) or addr
        if len(self.dialogs) >= MAX_DIALOGS:
            self.say(f"ring-me from {sender}: too many calls")
            return
        asyncio.get_running_loop().create_task(self._ring(sender, contact, target, caller))

    def _caller_for(self, text: str) -> DemoCaller:
        digits = re.sub(r"\D", "", text)
        if len(digits) >= 7:
            known = [c for c in DEMO_CALLERS if same_number(c.number, text)]
            return known[0] if known else DemoCaller(("+" if text.strip().startswith("+") else "")
                                                     + digits, "")
        caller = DEMO_CALLERS[self._next_caller % len(DEMO_CALLERS)]
        self._next_caller += 1
        return caller

    async def _ring(self, aor: str, contact: str, target: tuple[str, int],
                    caller: DemoCaller) -> None:
        loop = asyncio.get_running_loop()
        _, rtp = await loop.create_datagram_endpoint(
            lambda: RtpStream(self.say), local_addr=(self.host, 0)
        )
        tag = self._tag()
        call_id = f"{random.getrandbits(64):016x}@{self.host}"  # unique in its first 8
        name = f'"{caller.name}" ' if caller.name else ""
        me = f"sip:{caller.number}@{self.host}:{self.port}"
        ring = Ring(call_id, SipMessage("", [], b""), target, Behaviour.ANSWER, tag,
                    state="calling", rtp=rtp, caller=caller, aor=aor, target=contact,
                    branch=f"z9hG4bK{self._tag()}", from_header=f"{name}<{me}>;tag={tag}",
                    to_header=f"<{aor}>")
        ring.request = self._outgoing(
            "INVITE", contact, branch=ring.branch, from_=ring.from_header, to=ring.to_header,
            call_id=call_id, cseq=1,
            extra=(f"Contact: <{me}>", "Allow: INVITE, ACK, CANCEL, BYE, OPTIONS, MESSAGE",
                   "User-Agent: Callwise demo line", "Content-Type: application/sdp"),
            body=self._sdp(ring, None))
        ring.invite = parse(ring.request) or ring.invite
        self.dialogs[call_id] = ring
        who = f"{caller.number} ({caller.name})" if caller.name else caller.number
        self.say(f"ring {ring.short}: {who} calls {aor}")
        self._retransmit(ring, ring.request, target, lambda: ring.responded)
        ring.timers.append(loop.call_later(self.timings.ring_agent_s, self._ring_timeout, ring))

    def _ring_response(self, ring: Ring, response: SipMessage) -> None:
        ring.responded = True
        code = response.status
        if code < 200:
            if code in (180, 183) and ring.state == "calling":
                ring.state = "ringing"
                self.say(f"ring {ring.short}: agent's phone rings")
            if ring.cancel_wanted and not ring.cancelled:
                self._send_cancel(ring)
            return
        to = response.header("to") or ring.to_header
        if 200 <= code < 300:
            if not ring.ack:  # the first 2xx: the dialog is confirmed
                ring.to_header = to
                ring.remote_target = uri_of(response.header("contact") or "") or ring.target
                ring.ack = self._in_dialog(ring, "ACK", 1)
            self._send(ring.ack, host_port(ring.remote_target) or ring.source)
            if ring.state in ("calling", "ringing"):
                ring.state = "answered"
                ring.cancel_timers()
                self._apply_offer(ring, parse_sdp(response.body) if response.body else None)
                self.say(f"ring {ring.short}: agent answered")
                if ring.cancel_wanted:  # the answer crossed our CANCEL: end the call properly
                    self._ring_hang_up(ring, "customer hung up")
            return
        # A final refusal (486, 603, 487 after our CANCEL...): ACK it on the INVITE's branch.
        self._send(self._outgoing("ACK", ring.target, branch=ring.branch, from_=ring.from_header,
                                  to=to, call_id=ring.call_id, cseq=1), ring.source)
        if ring.state != "ended":
            reason = response.first_line.split(" ", 2)[2] if response.first_line.count(" ") >= 2 \
                else ""
            self.say(f"ring {ring.short}: {code} {reason}".rstrip())
            self._end(ring)

    def _in_dialog(self, ring: Ring, method: str, cseq: int) -> bytes:
        return self._outgoing(method, ring.remote_target, branch=f"z9hG4bK{self._tag()}",
                              from_=ring.from_header, to=ring.to_header, call_id=ring.call_id,
                              cseq=cseq)

    def _ring_timeout(self, ring: Ring) -> None:
        if ring.state in ("calling", "ringing"):
            self._ring_hang_up(ring, f"not answered in {self.timings.ring_agent_s:g} s, "
                                     "customer hangs up")

    def _ring_hang_up(self, ring: Ring, why: str) -> None:
        """The customer gives up: CANCEL while it rings, BYE once answered."""
        if ring.state == "ended" or (ring.cancel_wanted and ring.state != "answered"):
            return
        self.say(f"ring {ring.short}: {why}")
        if ring.state == "answered":
            ring.cseq += 1
            bye = self._in_dialog(ring, "BYE", ring.cseq)
            self._end(ring)
            self._retransmit(ring, bye, host_port(ring.remote_target) or ring.source,
                             lambda: ring.call_id in self._bye_done)
            return
        ring.cancel_wanted = True
        if ring.responded:  # a CANCEL may only follow a provisional response (RFC 3261 9.1)
            self._send_cancel(ring)

    def _send_cancel(self, ring: Ring) -> None:
        ring.cancelled = True
        cancel = self._outgoing("CANCEL", ring.target, branch=ring.branch, from_=ring.from_header,
                                to=f"<{ring.aor}>", call_id=ring.call_id, cseq=1)
        self._retransmit(ring, cancel, ring.source,
                         lambda: ring.cancel_done or ring.state == "ended")

    # ------------------------------------------------------------------ bookkeeping

    def _end(self, dialog: Dialog) -> None:
        dialog.state = "ended"
        dialog.cancel_timers()
        if dialog.rtp is not None:
            dialog.rtp.close()
            dialog.rtp = None
        self._forget_later(dialog)

    def _forget_later(self, dialog: Dialog) -> None:
        """Keep an ended dialog ~8 s for retransmissions, then drop it."""
        def forget() -> None:
            if self.dialogs.get(dialog.call_id) is dialog and dialog.state == "ended":
                del self.dialogs[dialog.call_id]
                self._bye_done.discard(dialog.call_id)

        with contextlib.suppress(RuntimeError):
            asyncio.get_running_loop().call_later(8.0, forget)

    def _tag(self) -> str:
        return f"{os.getpid():x}{next(self._ids):x}{random.getrandbits(32):08x}"


# --------------------------------------------------------------------------- entry point


async def serve(host: str, port: int, timings: Timings, say: Callable[[str], None],
                stop: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()
    transport, line = await loop.create_datagram_endpoint(
        lambda: DemoLine(host, timings, say), local_addr=(host, port)
    )
    say(f"demo line listening on {host}:{line.port}")
    try:
        await stop.wait()
    finally:
        line.close()
        transport.close()


async def _watch_parent(parent_pid: int, stop: asyncio.Event) -> None:
    """A killed app cannot stop its demo line; the line notices it was orphaned and stops."""
    while not stop.is_set():
        if os.getppid() != parent_pid:
            stop.set()
            return
        await asyncio.sleep(0.5)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m app.demo.line", description="Callwise demo line: a local SIP peer."
    )
    parser.add_argument("--port", type=int, default=5070, help="UDP port (0: any free port)")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--ring-s", type=float, default=Timings.ring_s)
    parser.add_argument("--no-answer-s", type=float, default=Timings.no_answer_s)
    parser.add_argument("--voicemail-s", type=float, default=Timings.voicemail_s)
    parser.add_argument("--drop-after-s", type=float, default=Timings.drop_after_s)
    parser.add_argument("--ring-agent-s", type=float, default=Timings.ring_agent_s,
                        help="a customer calling the agent hangs up (CANCEL) after this")
    parser.add_argument("--parent-pid", type=int, default=None,
                        help="exit when this process is gone (the app that started us was killed)")
    args = parser.parse_args(argv)
    timings = Timings(args.ring_s, args.no_answer_s, args.voicemail_s, args.drop_after_s,
                      args.ring_agent_s)

    def say(line: str) -> None:
        print(line, flush=True)

    async def run() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        watcher = (loop.create_task(_watch_parent(args.parent_pid, stop))
                   if args.parent_pid is not None else None)
        await serve(args.host, args.port, timings, say, stop)
        if watcher is not None:
            watcher.cancel()

    try:
        asyncio.run(run())
    except OSError as exc:
        print(f"demo line could not listen on {args.host}:{args.port}: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
