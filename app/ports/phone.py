"""The softphone as the rest of the app sees it: commands in, immutable events out.

Every command returns at once; results arrive as events, delivered on the SIP owner thread
to the subscribed callback. The UI re-emits them as Qt signals on the GUI thread.
Calls are named by a `ref` the caller chooses (the call record's id), so an event can be matched
to its record without waiting for the SIP stack.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol

from app.domain.enums import CallOutcome


class Transport(StrEnum):
    UDP = "udp"
    TCP = "tcp"
    TLS = "tls"


@dataclass(frozen=True)
class SipAccountConfig:
    """Everything needed to register; the password comes from the keyring, never from a file."""

    registrar: str  # "sip:127.0.0.1:5060"
    username: str
    domain: str
    password: str = field(default="", repr=False)
    transport: Transport = Transport.UDP
    proxy: str | None = None  # outbound proxy URI; defaults to the registrar
    local_port: int = 0  # 0: any free port
    register_expires: int = 300
    retry_min_s: int = 5  # back-off after a failed registration doubles up to retry_max_s
    retry_max_s: int = 300
    null_audio: bool = True
    tls_ca_file: str | None = None  # None: system store
    tls_verify_server: bool = True
    max_calls: int = 4
    user_agent: str = "Callwise"


class CallPhase(StrEnum):
    CALLING = "calling"  # INVITE sent
    RINGING = "ringing"  # 180/183 received
    CONNECTED = "connected"
    HELD = "held"
    RESUMED = "resumed"


@dataclass(frozen=True)
class RegistrationChanged:
    registered: bool
    code: int
    reason: str  # plain words: "registered", "401 wrong password", "registrar unreachable"
    retry_in_s: float | None = None


@dataclass(frozen=True)
class CallProgressed:
    ref: str
    phase: CallPhase
    code: int = 0


@dataclass(frozen=True)
class CallEnded:
    ref: str
    outcome: CallOutcome
    code: int
    reason: str  # the SIP reason phrase or transport error, for the record
    connected: bool


@dataclass(frozen=True)
class IncomingCall:
    ref: str
    remote_uri: str


@dataclass(frozen=True)
class MessageResult:
    ref: str
    delivered: bool
    code: int
    reason: str


@dataclass(frozen=True)
class PhoneFailed:
    """The engine could not start or died; reason is for the agent and the log."""

    reason: str


PhoneEvent = RegistrationChanged | CallProgressed | CallEnded | IncomingCall | MessageResult | PhoneFailed


class Phone(Protocol):
    """Thread-safe, non-blocking. Implemented by `app.sip.engine.SipPhone`."""

    def subscribe(self, callback: Callable[[PhoneEvent], None]) -> None: ...

    def start(self, account: SipAccountConfig) -> None: ...

    def dial(self, ref: str, uri: str) -> None: ...

    def answer(self, ref: str) -> None: ...

    def hangup(self, ref: str) -> None: ...

    def hold(self, ref: str) -> None: ...

    def unhold(self, ref: str) -> None: ...

    def send_dtmf(self, ref: str, digits: str) -> None: ...

    def send_message(self, ref: str, uri: str, text: str) -> None: ...

    def shutdown(self, timeout_s: float = 5.0) -> None:
        """Blocks until the owner thread has hung up, unregistered and destroyed the library."""
        ...
