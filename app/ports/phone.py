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


class DtmfMethod(StrEnum):
    """How key presses reach the far end (setting `sip.dtmf_method`, chosen by IT per PBX)."""

    RFC4733 = "rfc4733"  # telephone-event RTP packets in the media stream (RFC 2833/4733)
    SIP_INFO = "sip_info"  # one SIP INFO per digit, body application/dtmf-relay


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
    dtmf_method: DtmfMethod = DtmfMethod.RFC4733


class PendingPassword(Protocol):
    """A SIP password still being read (the keyring lookup runs in a child process started
    before the window): the phone starts its SIP stack meanwhile and registers once `done`."""

    def done(self) -> bool:
        """True once `result` answers without waiting."""
        ...

    def result(self) -> str:
        """The password. Raises CallwiseError with the sentence the agent reads (no password
        in the keyring, the keyring locked or missing)."""
        ...


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


# -- sound devices: plain immutable data, so it crosses from the SIP owner thread to any other.

NULL_AUDIO = "null device"  # pjsua's null sound device, by the name the agent sees and saves


@dataclass(frozen=True)
class AudioChoice:
    """The agent's remembered choice, by name (settings `audio.*`).

    "" means the system default (ring: the speaker); NULL_AUDIO asks for no sound at all (ring:
    a silent ring, the call shows on screen only).
    """

    input: str = ""
    output: str = ""
    ring: str = ""


@dataclass(frozen=True)
class AudioDevice:
    """One sound device as pjmedia lists it; `index` is only valid until devices change."""

    index: int
    name: str
    driver: str
    inputs: int
    outputs: int

    @property
    def label(self) -> str:
        kinds = [kind for kind, count in (("in", self.inputs), ("out", self.outputs)) if count]
        return f"{self.name} ({'/'.join(kinds) or 'no channels'})"


@dataclass(frozen=True)
class AudioState:
    """The phone's audio as it is now, replaced as a whole by the owner thread.

    `warnings` say in words which remembered device was not found and what is used instead.
    `ringback`: the ringback tone is playing to the speaker (an outbound call rings without early
    media). `ringing`: the ring tone is playing to the ring device (an inbound call waits).
    """

    capture: str = NULL_AUDIO
    playback: str = NULL_AUDIO
    ring: str = NULL_AUDIO
    null: bool = True
    warnings: tuple[str, ...] = ()
    ringback: bool = False
    ringing: bool = False


@dataclass(frozen=True)
class AudioDevicesListed:
    """Answer to `Phone.list_audio_devices`: what the agent can choose from, right now.

    `null_only`: this line runs on the null device whatever is chosen (demo and test lines); a
    choice is still remembered for the company line. `error`: why nothing could be listed.
    """

    devices: tuple[AudioDevice, ...]
    state: AudioState
    choice: AudioChoice
    null_only: bool = False
    error: str = ""


@dataclass(frozen=True)
class AudioChanged:
    """The devices in use changed (at start, or after `Phone.choose_audio`); tones do not count."""

    state: AudioState
    choice: AudioChoice


PhoneEvent = (RegistrationChanged | CallProgressed | CallEnded | IncomingCall | MessageResult
              | PhoneFailed | AudioDevicesListed | AudioChanged)


class Phone(Protocol):
    """Thread-safe, non-blocking. Implemented by `app.sip.engine.SipPhone`."""

    def subscribe(self, callback: Callable[[PhoneEvent], None]) -> None: ...

    def start(self, account: SipAccountConfig, password: PendingPassword | None = None) -> None:
        """`password`: when given, replaces `account.password` once it is read."""
        ...

    def dial(self, ref: str, uri: str) -> None: ...

    def answer(self, ref: str) -> None: ...

    def hangup(self, ref: str, *, busy: bool = False) -> None:
        """End a call. An inbound call not yet answered is refused with 603 Decline, or with
        486 Busy Here when `busy` (the agent is on another call); `busy` means nothing else."""
        ...

    def hold(self, ref: str) -> None: ...

    def unhold(self, ref: str) -> None: ...

    def send_dtmf(self, ref: str, digits: str) -> None: ...

    def send_message(self, ref: str, uri: str, text: str) -> None: ...

    def list_audio_devices(self) -> None:
        """Re-scan sound devices; the answer arrives as `AudioDevicesListed` (also when stopped)."""
        ...

    def choose_audio(self, choice: AudioChoice) -> None:
        """Use these devices from now on; the result, with its warnings, arrives as `AudioChanged`.

        Not started yet: the choice is kept for `start`, and `AudioChanged` holds the idle state."""
        ...

    def shutdown(self, timeout_s: float = 5.0) -> None:
        """Blocks until the owner thread has hung up, unregistered and destroyed the library."""
        ...
