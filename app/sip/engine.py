"""The softphone engine: pjsua2 owned by one thread, driven by a command queue.

Threading (the rule every line here follows): `SipPhone`'s public methods may be called from
any thread; they put a closure on a queue and return. One owner thread, started by `start()`,
creates the pjsua2 Endpoint (threadCnt=0, media threadCnt=0, so pjsip never runs a worker of
its own and every callback arrives on the owner thread), drains the queue, fires its timers and
polls pjsip with `libHandleEvents`. Every pjsua2 object (Endpoint, Account, Call, Buddy) is
created, used and deleted on that thread, and Calls are deleted only after DISCONNECTED, on the
next loop iteration, never inside their own callback and never after `libDestroy` (pjproject
2.15.1 asserts in `pjsua_call_set_user_data` when a Call outlives the library).

Events are the frozen dataclasses of `app.ports.phone`, delivered to subscribers on the owner
thread; subscribers must hand them to their own thread (the UI re-emits them as Qt signals).
pjsua2's Endpoint is a process singleton, so one SipPhone runs at a time per process.

pjsip has no cross-thread wake-up, so a command wakes the owner thread by sending a CRLF
keep-alive (which pjsip ignores, RFC 5626 section 3.5.1) to the engine's own UDP transport; with a
TCP or TLS transport there is no UDP socket to poke and the loop polls every 2 ms instead.
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import heapq
import itertools
import logging
import queue
import re
import socket
import threading
import time
import traceback
import uuid
import weakref
from collections import deque
from collections.abc import Callable, Collection, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import pjsua2 as pj

from app.domain.enums import CallOutcome
from app.domain.errors import CallwiseError
from app.ports.phone import (
    AudioChanged,
    AudioDevicesListed,
    CallEnded,
    CallPhase,
    CallProgressed,
    DtmfMethod,
    IncomingCall,
    MessageResult,
    PendingPassword,
    PhoneEvent,
    PhoneFailed,
    RegistrationChanged,
    SipAccountConfig,
    Transport,
)
from app.sip.audio import (
    AudioChoice,
    AudioDevice,
    AudioPlan,
    AudioState,
    resolve_audio,
)
from app.sip.backoff import Backoff
from app.sip.outcomes import call_end_reason, call_outcome, registration_reason

log = logging.getLogger(__name__)
_pjsip_log = logging.getLogger("app.sip.pjsip")

_DTMF = re.compile(r"[0-9A-Da-d*#]{1,64}")
_WAKE = b"\r\n\r\n"
_POLL_MS_WITH_WAKE = 20
_POLL_MS_WITHOUT_WAKE = 2
_PASSWORD_POLL_S = 0.005  # nothing wakes the loop when the keyring lookup finishes
_WATCHDOG_S = 1.0
_EXTRA_CALL_SLOTS = 2  # room for calls we only accept in order to reject them
# pjsip's select() ioqueue has 64 slots for every socket (SIP transports and 2 per call for
# RTP/RTCP), and a closed socket's slot stays busy for 500 ms. An INVITE flood whose calls
# are created and rejected at once exhausts it and pjlib asserts (pjproject 2.15.1). So an
# inbound call we end before it connected lives at least this long, which bounds the churn
# to slots/1 s, and the call slots are capped: 16 calls * 2 sockets, plus 16 * 2 closing,
# leaves room for the transports.
_MIN_INBOUND_LIFETIME_S = 1.0
_MAX_PJSUA_CALLS = 16
# The same budget for calls we place: live calls plus calls ended less than _SLOT_REUSE_S
# ago may not exceed _CALL_SOCKET_BUDGET, or the next dial waits (only machine-speed dialling,
# a benchmark or a script, ever meets this). It is also capped by pjsua's call slots: a call
# hung up keeps its slot until it is destroyed, and a budget above the slots let machine-speed
# dials fail with PJ_ETOOMANY ("unreachable") instead of waiting. 16 calls = 32 sockets < 64.
_SLOT_REUSE_S = 0.6
_CALL_SOCKET_BUDGET = _MAX_PJSUA_CALLS
# pjsua says PJ_ETOOMANY (no free call slot) when refused INVITEs hold its slots (each for
# _MIN_INBOUND_LIFETIME_S) or calls just ended are released later than the budget above assumes.
# That is a local shortage, not the far end: the dial retries every _SHORTAGE_RETRY_S for up to
# _SHORTAGE_WAIT_S before it ends as "unreachable". (Retrying from the very pass that freed a
# slot made pjsip choose an unsuitable transport for the INVITE; a timed retry does not.)
_PJ_ETOOMANY = 70010
_SHORTAGE_RETRY_S = 0.05
_SHORTAGE_WAIT_S = 5.0
# Tones as (Hz, Hz, ms on, ms off), looped. Ringback is the North American one (ANSI T1.401);
# the ring for an incoming call is a faster double burst so the agent tells the two apart.
_RINGBACK_TONE = ((440, 480, 2000, 4000),)
_RING_TONE = ((440, 480, 400, 200), (440, 480, 400, 2000))


class _EndpointSlot:
    """pjsua2's Endpoint is a process singleton, and constructing a second one throws a C++
    exception that SWIG lets escape (std::terminate). One SipPhone at a time holds the slot,
    from `start()` until its owner thread has destroyed the library."""

    _lock = threading.Lock()
    _held = False

    @classmethod
    def take(cls) -> None:
        with cls._lock:
            if cls._held:
                raise RuntimeError(
                    "another SipPhone is running in this process; shut it down first"
                )
            cls._held = True

    @classmethod
    def release(cls) -> None:
        with cls._lock:
            cls._held = False


def _log_failure(message: str, *args: object) -> None:
    """log.exception without the live traceback: a log record that keeps frames (pytest's
    capture, a memory handler) would keep their pjsua2 objects alive past libDestroy."""
    log.error(message + "\n%s", *args, traceback.format_exc())


def _silence_pjlib_console() -> None:
    """Set pjlib's log level to 0 before `libCreate`.

    pjlib logs to stdout while `libCreate` runs, before `libInit` installs our writer, and
    pjsua2 offers no hook that early; the extension exports `pj_log_set_level`, so call it.
    """
    try:
        import pjsua2.pjsua2 as bindings

        ctypes.CDLL(bindings._pjsua2.__file__).pj_log_set_level(0)
    except (ImportError, OSError, AttributeError):  # a future wheel may hide the symbol
        log.debug("could not pre-silence pjlib; it may print while starting", exc_info=True)


class _LogBridge(pj.LogWriter):  # type: ignore[misc]
    """Routes pjsip's log into Python logging at low levels (it would print to stdout).

    Called on whichever thread pjsip logs from; it only touches `logging`, which is thread-safe.
    """

    def write(self, entry: Any) -> None:
        try:
            level = logging.INFO if entry.level <= 1 else logging.DEBUG
            if _pjsip_log.isEnabledFor(level):
                _pjsip_log.log(level, "%s", str(entry.msg).rstrip())
        except Exception:  # a log line is never worth a crash in C++
            pass


class _Tone:
    """A looping tone generator on pjsua's conference bridge (owner thread only).

    Created on first use, so a phone that never rings pays nothing for it; `destroy` must run
    before `libDestroy` (the generator is a bridge port).
    """

    def __init__(self, name: str, tones: Sequence[tuple[int, int, int, int]]) -> None:
        self.name = name
        self._tones = tuple(tones)
        self._gen: Any = None
        self._target: Any = None  # the AudioMedia it transmits to while playing

    @property
    def active(self) -> bool:
        return self._target is not None

    def start(self, target: Any) -> None:
        if self._target is not None:
            return
        if self._gen is None:
            gen = pj.ToneGenerator()
            gen.createToneGenerator()
            self._gen = gen
        descs = pj.ToneDescVector()
        for freq1, freq2, on_ms, off_ms in self._tones:
            desc = pj.ToneDesc()
            desc.freq1, desc.freq2, desc.on_msec, desc.off_msec = freq1, freq2, on_ms, off_ms
            desc.volume = 0  # pjmedia's default level
            descs.append(desc)
        self._gen.play(descs, True)
        self._gen.startTransmit(target)
        self._target = target

    def stop(self) -> None:
        target, self._target = self._target, None
        if target is None or self._gen is None:
            return
        try:
            self._gen.stopTransmit(target)
            self._gen.stop()
        except pj.Error as exc:
            log.info("stopping the %s tone: %s", self.name, _error_text(exc))

    def playing(self) -> bool:
        """What the bridge says, not what we asked: generating, and connected to the target."""
        if self._gen is None or self._target is None:
            return False
        try:
            # Keep the PortInfo: its `listeners` proxy points into it and reads garbage once
            # a temporary PortInfo is gone.
            info = self._gen.getPortInfo()
            listeners = {int(port) for port in info.listeners}
            return bool(self._gen.isBusy()) and int(self._target.getPortId()) in listeners
        except pj.Error:
            return False

    def destroy(self) -> None:
        self.stop()
        self._gen = None


class _Endpoint(pj.Endpoint):  # type: ignore[misc]
    """The pjsua2 Endpoint (a process singleton), created and destroyed on the owner thread."""

    def __init__(self, engine: SipPhone) -> None:
        super().__init__()
        self._engine = engine

    def onTransportState(self, prm: Any) -> None:
        self._engine._guard(self._engine._on_transport_state, prm.tlsInfo)


class _Account(pj.Account):  # type: ignore[misc]
    """pjsua2 account whose callbacks forward to the engine (owner thread only)."""

    def __init__(self, engine: SipPhone) -> None:
        super().__init__()
        self._engine = engine

    def onRegState(self, prm: Any) -> None:
        self._engine._guard(self._engine._on_reg_state, prm.code, prm.reason, prm.expiration)

    def onIncomingCall(self, prm: Any) -> None:
        self._engine._guard(self._engine._on_incoming_call, prm.callId, prm.rdata.srcAddress)

    def onIncomingSubscribe(self, prm: Any) -> None:
        # pjsua accepts presence SUBSCRIBE by default, which would publish the agent's status
        # to anyone who asks; nothing in Callwise needs presence, so refuse it.
        try:
            prm.code = 403
            prm.reason = "Presence not offered"
            log.info("refused presence SUBSCRIBE from %s", prm.fromUri)
        except Exception:
            _log_failure("while refusing SUBSCRIBE")

    def onInstantMessage(self, prm: Any) -> None:
        with contextlib.suppress(Exception):
            log.info("ignored incoming MESSAGE from %s", prm.fromUri)

    def onInstantMessageStatus(self, prm: Any) -> None:
        self._engine._guard(
            self._engine._on_message_status, prm.toUri, prm.msgBody, prm.code, prm.reason
        )


class _Call(pj.Call):  # type: ignore[misc]
    """pjsua2 call whose callbacks forward to the engine (owner thread only).

    Owned by the engine's `_Leg`; deleted by dropping the last reference on the owner thread.
    """

    def __init__(self, engine: SipPhone, account: _Account, call_id: int | None = None) -> None:
        if call_id is None:
            super().__init__(account)
        else:
            super().__init__(account, call_id)
        self._engine = engine
        self.leg: _Leg | None = None
        engine._live_calls.add(self)

    def onCallState(self, prm: Any) -> None:
        self._engine._guard(self._engine._on_call_state, self)

    def onCallMediaState(self, prm: Any) -> None:
        self._engine._guard(self._engine._on_call_media_state, self)

    def onCallTransferRequest(self, prm: Any) -> None:
        # An agent's call must not be moved elsewhere by the far end (REFER).
        try:
            prm.statusCode = 603
        except Exception:
            _log_failure("while refusing REFER")

    def onCallReplaceRequest(self, prm: Any) -> None:
        try:
            prm.statusCode = 603
            prm.reason = "Replaces not allowed"
        except Exception:
            _log_failure("while refusing INVITE with Replaces")


@dataclass(eq=False)
class _Leg:
    """One INVITE session as the owner thread tracks it."""

    ref: str
    call: _Call
    inbound: bool
    announced: bool = True  # False: rejected before the app ever heard of it
    connected: bool = False
    ringing: bool = False
    local_hangup: bool = False
    media_timeout: bool = False
    held: bool = False
    ended: bool = False
    phases: set[CallPhase] = field(default_factory=set)
    answer_timer: int | None = None
    created_at: float = 0.0
    hangup_pending: bool = False  # an inbound reject waits for _MIN_INBOUND_LIFETIME_S
    early_media: bool = False  # audio flows before the answer (183 with SDP): no ringback
    rx_packets: int = -1
    rx_changed_at: float = 0.0


class SipPhone:
    """`app.ports.phone.Phone` on pjsua2. Thread-safe, non-blocking except `shutdown`.

    bind_host: address the SIP and RTP sockets bind to ("0.0.0.0" for every interface).
    media_timeout_s: a connected, un-held call that receives no RTP for this long is hung up
        and reported DROPPED (pjsua has no RTP timeout of its own).
    answer_timeout_s: an incoming call not answered by the app in time is rejected with 480.
    trusted_hosts: where an incoming INVITE may come from, as "host" (any port) or
        "host:port"; None means the registrar's and proxy's host:port, ("*",) means anyone.
        Anything else is refused with 403 before the app hears of it.
    pj_log_level: pjsip's own log level (routed to the "app.sip.pjsip" logger); 4+ logs SIP
        messages.
    nameservers: DNS server IP addresses (port 53) for pjsip's own asynchronous resolver; empty
        means the system resolver, which blocks the owner thread while it looks a name up.
    audio: the microphone, speaker and ring device by name (settings `audio.*`); ignored when
        the account asks for `null_audio`. A name that is not found falls back with a logged
        warning (see `app.sip.audio`); `choose_audio` (or `select_audio`) changes it while
        running.
    clock: monotonic seconds, injected so timers can be reasoned about in tests.
    """

    def __init__(
        self,
        *,
        bind_host: str = "127.0.0.1",
        media_timeout_s: float = 20.0,
        answer_timeout_s: float = 45.0,
        trusted_hosts: Collection[str] | None = None,
        pj_log_level: int = 3,
        nameservers: Sequence[str] = (),
        audio: AudioChoice | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._bind_host = bind_host
        self._media_timeout_s = media_timeout_s
        self._answer_timeout_s = answer_timeout_s
        self._trusted_config = None if trusted_hosts is None else frozenset(trusted_hosts)
        self._pj_log_level = pj_log_level
        self._nameservers = tuple(nameservers)
        self._audio_choice = audio or AudioChoice()
        self._clock = clock

        # Shared between threads (guarded by _lock or thread-safe by construction).
        self._lock = threading.Lock()
        self._subscribers: tuple[Callable[[PhoneEvent], None], ...] = ()
        self._commands: queue.SimpleQueue[Callable[[], None]] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._stopped = threading.Event()
        self._closing = False
        self._wake_sock: socket.socket | None = None
        self._wake_addr: tuple[str, int] | None = None
        self._live_refs: set[str] = set()
        self._futures: set[Future[Any]] = set()  # answers the owner thread still owes
        self._audio_state = AudioState()  # replaced whole by the owner thread, read by anyone

        # Owner thread only.
        self._ep: Any = None
        self._log_bridge: _LogBridge | None = None
        self._acc: _Account | None = None
        self._account: SipAccountConfig | None = None
        self._no_line = "the phone is not running"  # why there is no account, when there is none
        self._trusted: frozenset[tuple[str, int | None]] = frozenset()
        self._calls: dict[str, _Leg] = {}  # the only owner of live Calls
        self._deferred_dials: dict[str, str] = {}  # ref -> uri waiting for socket slots
        self._short_since: dict[str, float] = {}  # ref -> when its dial first met PJ_ETOOMANY
        self._released_at: deque[float] = deque()  # when recent calls ended (socket budget)
        self._live_calls: weakref.WeakSet[_Call] = weakref.WeakSet()
        self._graveyard: list[Any] = []
        self._timers: list[tuple[float, int, Callable[[], None]]] = []
        self._cancelled_timers: set[int] = set()
        self._timer_seq = itertools.count()
        self._reject_seq = itertools.count()
        self._backoff = Backoff(5, 300)
        self._retry_timer: int | None = None
        self._tls_rejected = ""  # verify messages of the last failed TLS handshake
        self._unregister_done = False
        self._pending_messages: dict[tuple[str, str], deque[str]] = {}
        self._watchdog_timer: int | None = None
        self._null_requested = True
        self._audio_plan: AudioPlan | None = None
        self._ringback = _Tone("ringback", _RINGBACK_TONE)
        self._ring = _Tone("ring", _RING_TONE)
        self._ring_device: Any = None  # pj.ExtraAudioDevice while ringing on a separate device
        self._tones_failed: set[str] = set()  # tones that could not start on these devices
        self._in_incoming_call = False
        self._untrusted_seen = 0
        self._untrusted_logged_at = float("-inf")
        self._done = False

    # ----------------------------------------------------------------- public, any thread

    def subscribe(self, callback: Callable[[PhoneEvent], None]) -> None:
        with self._lock:
            self._subscribers = (*self._subscribers, callback)

    def start(self, account: SipAccountConfig, password: PendingPassword | None = None) -> None:
        """Start the owner thread; registration results arrive as `RegistrationChanged`.

        `password`: a password still being read. The SIP stack and its transport start at
        once; the REGISTER goes out when the password is there, and a password that cannot be
        read is reported as the registration's reason."""
        with self._lock:
            if self._thread is not None:
                raise RuntimeError("SipPhone.start() may be called once; make a new SipPhone")
            _EndpointSlot.take()
            self._wake_sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            self._wake_sock.setblocking(False)
            self._thread = threading.Thread(
                target=self._run, args=(account, password), name="sip-owner", daemon=True
            )
            self._thread.start()

    def dial(self, ref: str, uri: str) -> None:
        """Place a call; `ref` names it in every event. A ref still in use raises ValueError."""
        with self._lock:
            if ref in self._live_refs:
                raise ValueError(f"call ref {ref!r} is already in use")
            self._live_refs.add(ref)
        self._post(lambda: self._do_dial(ref, uri))

    def answer(self, ref: str) -> None:
        self._post(lambda: self._do_answer(ref))

    def hangup(self, ref: str, *, busy: bool = False) -> None:
        self._post(lambda: self._do_hangup(ref, busy=busy))

    def hold(self, ref: str) -> None:
        self._post(lambda: self._do_hold(ref, hold=True))

    def unhold(self, ref: str) -> None:
        self._post(lambda: self._do_hold(ref, hold=False))

    def send_dtmf(self, ref: str, digits: str) -> None:
        self._post(lambda: self._do_dtmf(ref, digits))

    def send_message(self, ref: str, uri: str, text: str) -> None:
        self._post(lambda: self._do_message(ref, uri, text))

    def list_audio_devices(self) -> None:
        """Re-scan the sound devices on the owner thread; `AudioDevicesListed` answers.

        A phone that is not running answers at once, on the caller's thread, with the error."""
        if not self._running():
            self._emit(AudioDevicesListed((), self._audio_state, self._audio_choice,
                                          error="the phone is not running"))
            return
        self._post(self._answer_devices)

    def choose_audio(self, choice: AudioChoice) -> None:
        """Use these devices from now on; `AudioChanged` answers with the warnings, if any.

        Before `start()` (or after shutdown) the choice is only kept and `AudioChanged`, sent at
        once on the caller's thread, holds the current (idle) state."""
        with self._lock:
            self._audio_choice = choice
        if not self._running():
            self._emit(AudioChanged(self._audio_state, choice))
            return
        self._post(lambda: self._apply_audio_quietly(choice))

    @property
    def audio_state(self) -> AudioState:
        """The devices in use and whether a tone is playing, as of the owner thread's last change.

        A plain snapshot: reading it never waits for the SIP thread (the GUI may poll it).
        """
        return self._audio_state

    @property
    def local_address(self) -> tuple[str, int] | None:
        """(host, port) the UDP SIP transport is bound to, as this machine reaches it.

        Lets a `local_port` of 0 (the kernel picks a free port) be read back instead of probing
        for a free port that someone may take first. Set by the owner thread before it sends
        REGISTER; None before that, after shutdown, and for TCP or TLS. A plain snapshot, like
        `audio_state`: any thread may read it.
        """
        return self._wake_addr

    def audio_devices(self) -> Future[tuple[AudioDevice, ...]]:
        """The sound devices pjmedia sees now (re-scanned), answered by the owner thread.

        Never wait on the result from the GUI thread; use a worker or `add_done_callback`.
        Fails with RuntimeError when the phone is not running.
        """
        return self._ask(lambda: self._list_devices(refresh=True))

    def select_audio(self, choice: AudioChoice) -> Future[AudioState]:
        """Use these devices from now on (and at start, if not started yet).

        The future holds the resulting `AudioState`, whose `warnings` name any device that was
        not found. Before `start()` the choice is only remembered and the future holds the
        current (idle) state.
        """
        with self._lock:
            self._audio_choice = choice
            running = self._thread is not None and not self._closing
        if not running:
            done: Future[AudioState] = Future()
            done.set_result(self._audio_state)
            return done
        return self._ask(lambda: self._apply_audio(choice))

    def shutdown(self, timeout_s: float = 5.0) -> None:
        """Block until the owner thread hung up, unregistered and destroyed the library.

        Order, fixed: hang up every call, wait for DISCONNECTED, delete the Calls, unregister,
        delete the account, `libDestroy`. Called from the owner thread itself (a subscriber),
        it only schedules the shutdown, since waiting there would wait for itself.
        """
        with self._lock:
            thread = self._thread
            first = not self._closing
            self._closing = True
        if thread is None:
            return
        if first:
            deadline = self._clock() + max(0.5, timeout_s - 0.5)
            self._commands.put(lambda: self._do_shutdown(deadline))
            self._wake()
        if threading.current_thread() is thread:
            return
        if not self._stopped.wait(timeout_s + 2.0):
            log.error("SIP owner thread did not stop within %.1f s", timeout_s + 2.0)
        thread.join(timeout=1.0)
        if self._wake_sock is not None:
            self._wake_sock.close()

    # ----------------------------------------------------------------- plumbing

    def _running(self) -> bool:
        with self._lock:
            return self._thread is not None and not self._closing and not self._stopped.is_set()

    def _post(self, command: Callable[[], None]) -> None:
        if self._closing:
            log.warning("SIP command ignored: the phone is shutting down")
            return
        self._commands.put(command)
        self._wake()

    def _ask(self, question: Callable[[], Any]) -> Future[Any]:
        """Run `question` on the owner thread; its value (or exception) lands in the future."""
        future: Future[Any] = Future()
        with self._lock:
            running = self._thread is not None and not self._closing and not self._stopped.is_set()
            if running:
                self._futures.add(future)
        if not running:
            future.set_exception(RuntimeError("the phone is not running"))
            return future

        def answer() -> None:
            with self._lock:
                self._futures.discard(future)
            try:
                future.set_result(question())
            except Exception as exc:
                future.set_exception(RuntimeError(_error_text(exc)))

        self._commands.put(answer)
        self._wake()
        return future

    def _fail_futures(self) -> None:
        with self._lock:
            pending, self._futures = self._futures, set()
        for future in pending:
            if not future.done():
                future.set_exception(RuntimeError("the phone shut down"))

    def _wake(self) -> None:
        addr, sock = self._wake_addr, self._wake_sock
        if addr is None or sock is None or threading.current_thread() is self._thread:
            return
        # A full socket buffer already means the loop has something to read.
        with contextlib.suppress(OSError):
            sock.sendto(_WAKE, addr)

    def _emit(self, event: PhoneEvent) -> None:
        for callback in self._subscribers:
            try:
                callback(event)
            except Exception:
                _log_failure("phone event subscriber failed on %r", event)

    def _guard(self, fn: Callable[..., None], *args: Any) -> None:
        """Run a pjsua2 callback body; an exception escaping into C++ would abort."""
        try:
            fn(*args)
        except Exception:
            _log_failure("error in SIP callback %s", getattr(fn, "__name__", fn))

    def _schedule(self, delay_s: float, fn: Callable[[], None]) -> int:
        token = next(self._timer_seq)
        heapq.heappush(self._timers, (self._clock() + delay_s, token, fn))
        return token

    def _cancel(self, token: int | None) -> None:
        if token is not None:
            self._cancelled_timers.add(token)

    def _run_due_timers(self) -> None:
        now = self._clock()
        while self._timers and self._timers[0][0] <= now:
            _, token, fn = heapq.heappop(self._timers)
            if token in self._cancelled_timers:
                self._cancelled_timers.discard(token)
                continue
            self._guard(fn)

    def _poll_ms(self) -> int:
        ms = _POLL_MS_WITH_WAKE if self._wake_addr is not None else _POLL_MS_WITHOUT_WAKE
        if self._timers:
            until = (self._timers[0][0] - self._clock()) * 1000.0
            ms = max(0, min(ms, int(until) + 1))
        return ms

    def _drain_commands(self) -> None:
        while True:
            try:
                command = self._commands.get_nowait()
            except queue.Empty:
                return
            self._guard(command)

    def _pump(self, ms: int) -> None:
        self._ep.libHandleEvents(ms)
        # Calls that reached DISCONNECTED during the poll die here, outside their callbacks.
        self._graveyard.clear()

    # ----------------------------------------------------------------- owner thread: life

    def _run(self, account: SipAccountConfig, password: PendingPassword | None) -> None:
        try:
            self._init_lib(account, password)
        except Exception as exc:
            _log_failure("SIP engine could not start")
            self._emit(PhoneFailed(f"SIP engine could not start: {_error_text(exc)}"))
            self._teardown()
            _EndpointSlot.release()
            self._stopped.set()
            self._fail_futures()
            return
        try:
            while not self._done:
                self._drain_commands()
                self._run_due_timers()
                if self._done:
                    break
                self._pump(self._poll_ms())
                self._sync_tones()
        except Exception as exc:
            _log_failure("SIP owner loop died")
            self._emit(PhoneFailed(f"SIP engine stopped: {_error_text(exc)}"))
            self._teardown()
        finally:
            _EndpointSlot.release()
            self._stopped.set()
            self._fail_futures()

    def _init_lib(self, account: SipAccountConfig, password: PendingPassword | None) -> None:
        self._account = account
        self._backoff = Backoff(account.retry_min_s, account.retry_max_s)
        _silence_pjlib_console()
        # Only attributes hold pjsua2 objects here: a local would live on in the traceback of
        # a failed start, and an Endpoint outliving libDestroy blocks the next one.
        self._ep = _Endpoint(self)
        self._ep.libCreate()
        cfg = pj.EpConfig()
        cfg.uaConfig.threadCnt = 0
        cfg.uaConfig.mainThreadOnly = False
        cfg.uaConfig.maxCalls = min(_MAX_PJSUA_CALLS, max(1, account.max_calls) + _EXTRA_CALL_SLOTS)
        cfg.uaConfig.userAgent = account.user_agent
        for server in self._nameservers:
            cfg.uaConfig.nameserver.append(server)
        cfg.medConfig.threadCnt = 0  # RTP is polled by libHandleEvents on this thread too
        cfg.medConfig.noVad = True  # keep RTP flowing through silence: peers watch for it
        self._log_bridge = _LogBridge()
        cfg.logConfig.writer = self._log_bridge
        # pjsua hands the writer only lines at or below consoleLevel, and the writer replaces
        # the console entirely: this is what keeps pjsip off stdout.
        cfg.logConfig.consoleLevel = self._pj_log_level
        cfg.logConfig.level = self._pj_log_level
        cfg.logConfig.msgLogging = 1 if self._pj_log_level >= 4 else 0
        cfg.logConfig.decor = pj.PJ_LOG_HAS_SENDER
        self._ep.libInit(cfg)
        transport_id = self._create_transport(account)
        self._ep.libStart()
        self._null_requested = account.null_audio
        self._apply_audio(self._audio_choice)
        # REGISTER first: incoming requests wait for the loop below, which needs `_trusted`.
        if password is None:
            self._create_account(account, transport_id)
        else:
            self._register_when_read(password, transport_id)
        self._trusted = self._trusted_sources(account)

    def _register_when_read(self, source: PendingPassword, transport_id: int) -> None:
        """Registers once `source` has the password; until then it looks again every 5 ms, on
        the loop's own timers (never after shutdown began: the library may be gone)."""
        if self._done or self._closing:
            return
        if not source.done():
            self._schedule(_PASSWORD_POLL_S, lambda: self._register_when_read(source, transport_id))
            return
        try:
            password = source.result()
        except CallwiseError as exc:
            # No account is made: calls and messages say the phone is not running, and the
            # agent reads why in the registration status.
            log.warning("no SIP password: %s", exc.said())
            self._no_line = exc.message.rstrip(".")
            self._emit(RegistrationChanged(False, 0, self._no_line))
            return
        assert self._account is not None
        self._account = replace(self._account, password=password)
        self._create_account(self._account, transport_id)

    def _create_transport(self, account: SipAccountConfig) -> int:
        tc = pj.TransportConfig()
        tc.port = account.local_port
        tc.boundAddress = self._bind_host
        if account.transport is Transport.TLS:
            tls = tc.tlsConfig
            # TLS 1.2 only: pjsip's default also offers 1.0/1.1. The bundled OpenSSL (1.0.2)
            # has no 1.3, so naming 1.3 here would only fail the handshake.
            tls.method = pj.PJSIP_TLSV1_2_METHOD
            tls.proto = pj.PJ_SSL_SOCK_PROTO_TLS1_2
            tls.verifyServer = account.tls_verify_server
            if account.tls_ca_file:
                ca_file = account.tls_ca_file
            else:
                import ssl  # here only: a UDP or TCP start need not load OpenSSL a second time

                ca_file = ssl.get_default_verify_paths().cafile
            if ca_file:
                tls.CaListFile = ca_file
            tls.msecTimeout = 5000
        kind = {
            Transport.UDP: pj.PJSIP_TRANSPORT_UDP,
            Transport.TCP: pj.PJSIP_TRANSPORT_TCP,
            Transport.TLS: pj.PJSIP_TRANSPORT_TLS,
        }[account.transport]
        transport_id: int = self._ep.transportCreate(kind, tc)
        if account.transport is Transport.UDP:
            port = int(str(self._ep.transportGetInfo(transport_id).localName).rsplit(":", 1)[1])
            host = self._bind_host if self._bind_host not in ("", "0.0.0.0") else "127.0.0.1"
            self._wake_addr = (host, port)
        return transport_id

    def _trusted_sources(self, account: SipAccountConfig) -> frozenset[tuple[str, int | None]]:
        """(address, port) pairs an INVITE may come from; port None matches any port.

        The port counts as well as the address: a proxy and other SIP endpoints can share one
        host (on loopback in the tests, on one server in a small site), and only the proxy's
        own socket is trusted.
        """
        if self._trusted_config is not None:
            entries = [_split_host_port(entry) for entry in self._trusted_config]
        else:
            default_port = 5061 if account.transport is Transport.TLS else 5060
            entries = []
            for uri in (account.registrar, account.proxy):
                if uri:
                    host, port = _split_host_port(_uri_hostport(uri))
                    entries.append((host, port or default_port))
        trusted: set[tuple[str, int | None]] = set()
        for host, port in entries:
            trusted.add((host, port))
            if host == "*":
                continue
            # An ASCII name goes in as bytes: a str makes Python load its IDNA codec first,
            # about 5 ms of the phone's start.
            name = host.encode("ascii") if host.isascii() else host
            try:
                for info in socket.getaddrinfo(name, None, proto=socket.IPPROTO_UDP):
                    trusted.add((str(info[4][0]), port))
            except OSError:
                log.warning("could not resolve %s; calls from it are refused", host)
        return frozenset(trusted)

    def _create_account(self, account: SipAccountConfig, transport_id: int) -> None:
        ac = pj.AccountConfig()
        ac.idUri = f"sip:{account.username}@{account.domain}"
        reg = ac.regConfig
        reg.registrarUri = _with_transport(account.registrar, account.transport)
        reg.timeoutSec = account.register_expires
        reg.retryIntervalSec = 0  # pjsua's fixed retry is replaced by our back-off
        reg.firstRetryIntervalSec = 0
        reg.randomRetryIntervalSec = 0
        reg.dropCallsOnFail = False
        reg.registerOnAdd = True
        ac.sipConfig.proxies.append(
            _loose_route(_with_transport(account.proxy or account.registrar, account.transport))
        )
        ac.sipConfig.authCreds.append(
            pj.AuthCredInfo("digest", "*", account.username, 0, account.password)
        )
        ac.sipConfig.transportId = transport_id
        ac.presConfig.publishEnabled = False
        ac.mwiConfig.enabled = False
        ac.mediaConfig.transportConfig.boundAddress = self._bind_host
        self._acc = _Account(self)
        self._acc.create(ac, True)

    # ----------------------------------------------------------------- owner thread: shutdown

    def _do_shutdown(self, deadline: float) -> None:
        """Fixed order; each step bounded by `deadline`; nothing here may raise into the loop."""
        self._end_all_calls(self._clock() + (deadline - self._clock()) * 0.6)
        self._unregister(deadline)
        self._teardown()
        self._done = True

    def _end_all_calls(self, deadline: float) -> None:
        # A separate frame on purpose: its loop variables hold Calls, and they must be gone
        # before _teardown looks for survivors.
        self._short_since.clear()
        for ref in list(self._deferred_dials):
            del self._deferred_dials[ref]
            self._end_unplaced(ref, "not placed: the phone shut down", CallOutcome.CANCELLED)
        for leg in list(self._calls.values()):
            self._hangup_leg(leg, reason_code=603 if leg.inbound and not leg.connected else 0)
        while self._calls and self._clock() < deadline:
            self._pump(10)
        for leg in list(self._calls.values()):
            # Still not DISCONNECTED (a far end that never answers our BYE/CANCEL): report it
            # ourselves so every call still gets exactly one CallEnded.
            self._finish(leg, 0, "shut down before the far end confirmed")
        self._graveyard.clear()

    def _unregister(self, deadline: float) -> None:
        acc = self._acc
        if acc is None:
            return
        self._cancel(self._retry_timer)
        try:
            if acc.getInfo().regIsActive:
                self._unregister_done = False
                acc.setRegistration(False)
                while not self._unregister_done and self._clock() < deadline:
                    self._pump(10)
        except pj.Error as exc:
            log.info("unregister skipped: %s", _error_text(exc))

    def _teardown(self) -> None:
        """Delete calls, account and library, in that order. Safe in any state."""
        self._calls.clear()
        self._graveyard.clear()
        self._timers.clear()
        self._cancelled_timers.clear()
        self._pending_messages.clear()
        while True:  # queued closures are dropped with whatever they captured
            try:
                self._commands.get_nowait()
            except queue.Empty:
                break
        gc.collect()  # a Call in a reference cycle must die now, not after libDestroy
        for call in list(self._live_calls):
            # Someone still holds a Call (a traceback, a subscriber). Deleting it after
            # libDestroy aborts in pjsua_call_set_user_data, so leak it instead, loudly.
            log.error("a pjsua2 Call outlived its phone; leaking it to keep libDestroy safe")
            call.leg = None
            call.__disown__()
        self._stop_tones()
        self._ringback.destroy()
        self._ring.destroy()
        self._fail_futures()
        if self._acc is not None:
            try:
                self._acc.shutdown()
            except Exception:
                _log_failure("account shutdown failed")
            self._acc = None
        if self._ep is not None:
            try:
                # We already hung up and unregistered: skip pjsua's 1 s wait for responses.
                self._ep.libDestroy(pj.PJSUA_DESTROY_NO_RX_MSG)
            except Exception:
                _log_failure("libDestroy failed")
            self._ep = None
        self._log_bridge = None
        self._wake_addr = None

    # ----------------------------------------------------------------- owner thread: registration

    def _on_transport_state(self, tls: Any) -> None:
        # A failed host name check surfaces in onRegState only as "End of file"; the TLS
        # details arrive here first, so remember them for the reason the agent reads.
        if tls.isEmpty() or int(tls.verifyStatus) == 0:
            return
        details = "; ".join(str(msg) for msg in tls.verifyMsgs) or f"status {tls.verifyStatus}"
        self._tls_rejected = details
        log.warning("TLS: registrar certificate rejected: %s", details)

    def _on_reg_state(self, code: int, reason: str, expiration: int) -> None:
        if self._closing:
            if 200 <= code < 300 or expiration == 0:
                self._unregister_done = True
                self._emit(RegistrationChanged(False, code, "unregistered"))
            return
        if 200 <= code < 300 and expiration > 0:
            self._tls_rejected = ""
            self._backoff.reset()
            self._emit(RegistrationChanged(True, code, registration_reason(code, reason)))
            return
        if 200 <= code < 300:
            self._emit(RegistrationChanged(False, code, "unregistered"))
            return
        delay = self._backoff.next_delay()
        self._cancel(self._retry_timer)
        self._retry_timer = self._schedule(delay, self._retry_registration)
        text = registration_reason(code, reason, certificate_rejected=bool(self._tls_rejected))
        self._tls_rejected = ""
        self._emit(RegistrationChanged(False, code, text, delay))

    def _retry_registration(self) -> None:
        self._retry_timer = None
        if self._acc is not None and not self._closing:
            try:
                self._acc.setRegistration(True)
            except pj.Error as exc:
                self._on_reg_state(0, _error_text(exc), 0)

    # ----------------------------------------------------------------- owner thread: calls

    def _do_dial(self, ref: str, uri: str) -> None:
        self._deferred_dials.pop(ref, None)
        acc, account = self._acc, self._account
        if acc is None or account is None:
            self._end_unplaced(ref, self._no_line)
            return
        if self._active_calls() >= account.max_calls:
            self._end_unplaced(ref, f"already {account.max_calls} calls in progress")
            return
        wait = self._socket_budget_wait()
        if wait > 0:
            log.info("dial %s waits %.0f ms for pjsip socket slots", ref, wait * 1000)
            self._deferred_dials[ref] = uri
            self._schedule(wait, lambda: self._dial_deferred(ref))
            return
        target = _target_uri(uri, account.domain)
        call = _Call(self, acc)
        leg = _Leg(ref=ref, call=call, inbound=False, created_at=self._clock())
        call.leg = leg
        self._calls[ref] = leg
        try:
            call.makeCall(target, pj.CallOpParam(True))
        except pj.Error as exc:
            self._calls.pop(ref, None)
            call.leg = None
            self._graveyard.append(call)
            if exc.status == _PJ_ETOOMANY:
                since = self._short_since.setdefault(ref, self._clock())
                if self._clock() - since < _SHORTAGE_WAIT_S:
                    log.info("dial %s waits for a pjsua call slot (%s)", ref, _error_text(exc))
                    self._deferred_dials[ref] = uri  # as for the socket budget: a hangup ends it
                    self._schedule(_SHORTAGE_RETRY_S, lambda: self._dial_deferred(ref))
                    return
            self._short_since.pop(ref, None)
            self._end_unplaced(ref, f"could not place the call: {_error_text(exc)}")
            return
        self._short_since.pop(ref, None)

    def _dial_deferred(self, ref: str) -> None:
        uri = self._deferred_dials.get(ref)
        if uri is not None:  # not hung up meanwhile
            self._do_dial(ref, uri)

    def _socket_budget_wait(self) -> float:
        """Seconds until one more call fits the ioqueue budget (0: it fits now)."""
        now = self._clock()
        while self._released_at and now - self._released_at[0] >= _SLOT_REUSE_S:
            self._released_at.popleft()
        if len(self._calls) + len(self._released_at) < _CALL_SOCKET_BUDGET:
            return 0.0
        if not self._released_at:
            return 0.05  # all live: wait for one to end
        return self._released_at[0] + _SLOT_REUSE_S - now

    def _end_unplaced(self, ref: str, reason: str, outcome: CallOutcome | None = None) -> None:
        with self._lock:
            self._live_refs.discard(ref)
        log.info("call %s not placed: %s", ref, reason)
        if outcome is None:
            outcome = call_outcome(0, connected=False, local_hangup=False)
        self._emit(CallEnded(ref, outcome, 0, reason, False))

    def _active_calls(self) -> int:
        return sum(1 for leg in self._calls.values() if leg.announced and not leg.ended)

    def _on_incoming_call(self, call_id: int, source: str) -> None:
        self._in_incoming_call = True
        try:
            self._accept_or_refuse(call_id, source)
        finally:
            self._in_incoming_call = False

    def _accept_or_refuse(self, call_id: int, source: str) -> None:
        acc, account = self._acc, self._account
        if acc is None or account is None:
            return
        call = _Call(self, acc, call_id)
        if self._closing or not self._is_trusted(source):
            self._note_untrusted(source)
            self._reject_unannounced(call, 403)
            return
        if self._active_calls() >= account.max_calls:
            log.info("rejected INVITE from %s: %d calls in progress", source, account.max_calls)
            self._reject_unannounced(call, 486)
            return
        ref = f"in-{uuid.uuid4().hex[:16]}"
        leg = _Leg(ref=ref, call=call, inbound=True, created_at=self._clock())
        call.leg = leg
        self._calls[ref] = leg
        with self._lock:
            self._live_refs.add(ref)
        # Never answer or hang up inside onIncomingCall: for an INVITE without SDP pjsua
        # 2.15.1 asserts. The next loop iteration runs queued commands in order.
        # Closures name the ref, never the leg: only `_calls` may keep a Call alive.
        self._commands.put(lambda: self._send_ringing(ref))
        leg.answer_timer = self._schedule(self._answer_timeout_s, lambda: self._answer_timeout(ref))
        remote = str(call.getInfo().remoteUri)
        self._emit(IncomingCall(ref, remote))

    def _note_untrusted(self, source: str) -> None:
        """Log refused strangers without letting a flood flood the log: one line per 10 s."""
        self._untrusted_seen += 1
        now = self._clock()
        if now - self._untrusted_logged_at >= 10.0:
            log.warning("refused INVITE from %s (not the registrar/proxy); %d refused so far",
                        source, self._untrusted_seen)
            self._untrusted_logged_at = now

    def _is_trusted(self, source: str) -> bool:
        host, port = _split_host_port(source)
        return bool({("*", None), (host, None), (host, port)} & self._trusted)

    def _reject_unannounced(self, call: _Call, code: int) -> None:
        ref = f"rejected-{next(self._reject_seq)}"
        leg = _Leg(ref=ref, call=call, inbound=True, announced=False, created_at=self._clock())
        call.leg = leg
        self._calls[ref] = leg
        self._hangup_leg(leg, reason_code=code, local=False)  # deferred: see _hangup_leg

    def _hangup_ref(self, ref: str, code: int) -> None:
        leg = self._calls.get(ref)
        if leg is not None:
            leg.hangup_pending = False
            self._hangup_leg(leg, reason_code=code, local=False)

    def _send_ringing(self, ref: str) -> None:
        leg = self._calls.get(ref)
        if leg is None or leg.ended or leg.connected:
            return
        try:
            leg.call.answer(_status(180))
        except pj.Error as exc:
            log.info("could not send 180 for %s: %s", leg.ref, _error_text(exc))

    def _answer_timeout(self, ref: str) -> None:
        leg = self._calls.get(ref)
        if leg is None:
            return
        leg.answer_timer = None
        if not leg.ended and not leg.connected:
            log.info("incoming call %s not answered in %.1f s", ref, self._answer_timeout_s)
            self._hangup_leg(leg, reason_code=480, local=False)

    def _do_answer(self, ref: str) -> None:
        leg = self._calls.get(ref)
        if leg is None or not leg.inbound or leg.ended or leg.hangup_pending:
            log.warning("answer(%s): no such ringing call", ref)
            return
        self._cancel(leg.answer_timer)
        leg.answer_timer = None
        try:
            leg.call.answer(_status(200))
        except pj.Error as exc:
            log.warning("answer(%s) failed: %s", ref, _error_text(exc))

    def _do_hangup(self, ref: str, *, busy: bool = False) -> None:
        self._short_since.pop(ref, None)
        if self._deferred_dials.pop(ref, None) is not None:
            self._end_unplaced(ref, "hung up before it was placed", CallOutcome.CANCELLED)
            return
        leg = self._calls.get(ref)
        if leg is None or leg.ended:
            log.info("hangup(%s): no such call", ref)
            return
        refusal = 486 if busy else 603
        self._hangup_leg(leg, reason_code=refusal if leg.inbound and not leg.connected else 0)

    def _hangup_leg(self, leg: _Leg, *, reason_code: int = 0, local: bool = True) -> None:
        if leg.ended or (leg.hangup_pending and not self._closing):
            return
        leg.local_hangup = leg.local_hangup or local
        if leg.inbound and not leg.connected and not self._closing:
            # Never inside onIncomingCall (pjsua asserts on a body-less INVITE), and never
            # sooner than _MIN_INBOUND_LIFETIME_S after the INVITE arrived (socket churn).
            wait = leg.created_at + _MIN_INBOUND_LIFETIME_S - self._clock()
            if wait > 0 or self._in_incoming_call:
                leg.hangup_pending = True
                ref, code = leg.ref, reason_code
                self._schedule(max(wait, 0.0), lambda: self._hangup_ref(ref, code))
                return
        prm = _status(reason_code) if reason_code else pj.CallOpParam(True)
        try:
            leg.call.hangup(prm)
        except pj.Error as exc:
            log.info("hangup of %s: %s", leg.ref, _error_text(exc))

    def _do_hold(self, ref: str, *, hold: bool) -> None:
        leg = self._calls.get(ref)
        if leg is None or not leg.connected or leg.ended:
            log.warning("%s(%s): no connected call", "hold" if hold else "unhold", ref)
            return
        try:
            if hold:
                leg.call.setHold(pj.CallOpParam(True))
            else:
                prm = pj.CallOpParam(True)
                prm.opt.flag = pj.PJSUA_CALL_UNHOLD
                leg.call.reinvite(prm)
        except pj.Error as exc:
            log.warning("hold change for %s failed: %s", ref, _error_text(exc))

    def _do_dtmf(self, ref: str, digits: str) -> None:
        leg = self._calls.get(ref)
        if leg is None or not leg.connected or leg.ended:
            log.warning("send_dtmf(%s): no connected call", ref)
            return
        if not _DTMF.fullmatch(digits):
            log.warning("send_dtmf(%s): invalid digits %r", ref, digits)
            return
        prm = pj.CallSendDtmfParam()
        sip_info = self._account is not None and self._account.dtmf_method is DtmfMethod.SIP_INFO
        # SIP INFO: pjsua sends one INFO per digit (application/dtmf-relay, "Signal=5"), for
        # PBXs that ignore telephone-events; RFC 4733 (pjsua's "RFC2833") rides the RTP stream.
        prm.method = pj.PJSUA_DTMF_METHOD_SIP_INFO if sip_info else pj.PJSUA_DTMF_METHOD_RFC2833
        prm.digits = digits
        try:
            leg.call.sendDtmf(prm)
        except pj.Error as exc:
            log.warning("send_dtmf(%s) failed: %s", ref, _error_text(exc))

    def _on_call_state(self, call: _Call) -> None:
        leg = call.leg
        if leg is None:
            return
        info = call.getInfo()
        state = info.state
        code = int(info.lastStatusCode)
        if state == pj.PJSIP_INV_STATE_CALLING:
            self._phase(leg, CallPhase.CALLING, code)
        elif state == pj.PJSIP_INV_STATE_EARLY:
            if code in (180, 183) and not leg.inbound:
                leg.ringing = True
                self._phase(leg, CallPhase.RINGING, code)
        elif state == pj.PJSIP_INV_STATE_CONFIRMED:
            leg.connected = True
            leg.rx_changed_at = self._clock()
            self._cancel(leg.answer_timer)
            leg.answer_timer = None
            self._phase(leg, CallPhase.CONNECTED, code)
            self._ensure_watchdog()
        elif state == pj.PJSIP_INV_STATE_DISCONNECTED:
            self._finish(leg, code, str(info.lastReason))

    def _phase(self, leg: _Leg, phase: CallPhase, code: int) -> None:
        if not leg.announced or phase in leg.phases:
            return
        leg.phases.add(phase)
        self._emit(CallProgressed(leg.ref, phase, code))

    def _finish(self, leg: _Leg, code: int, reason: str) -> None:
        if leg.ended:
            return
        leg.ended = True
        self._released_at.append(self._clock())
        self._cancel(leg.answer_timer)
        if self._calls.get(leg.ref) is leg:
            del self._calls[leg.ref]
        leg.call.leg = None
        self._graveyard.append(leg.call)
        if not leg.announced:
            return
        with self._lock:
            self._live_refs.discard(leg.ref)
        outcome = call_outcome(
            code,
            connected=leg.connected,
            local_hangup=leg.local_hangup,
            inbound=leg.inbound,
            ringing=leg.ringing,
            media_timeout=leg.media_timeout,
        )
        text = call_end_reason(code, reason, media_timeout=leg.media_timeout)
        self._emit(CallEnded(leg.ref, outcome, code, text, leg.connected))

    def _on_call_media_state(self, call: _Call) -> None:
        leg = call.leg
        if leg is None:
            return
        info = call.getInfo()
        for index, media in enumerate(info.media):
            if media.type != pj.PJMEDIA_TYPE_AUDIO:
                continue
            status = media.status
            if status in (pj.PJSUA_CALL_MEDIA_ACTIVE, pj.PJSUA_CALL_MEDIA_REMOTE_HOLD):
                # Remote hold still carries the far end's music on hold to the agent.
                self._connect_audio(call, index)
            if status == pj.PJSUA_CALL_MEDIA_ACTIVE:
                leg.rx_packets = -1
                leg.rx_changed_at = self._clock()
                if info.state == pj.PJSIP_INV_STATE_EARLY:
                    leg.early_media = True  # 183 with SDP: the network plays its own tones
                if leg.held:
                    leg.held = False
                    self._emit(CallProgressed(leg.ref, CallPhase.RESUMED))
            elif status in _HELD_MEDIA and leg.connected and not leg.ended and not leg.held:
                # Either side's hold is HELD: pjsua reports ours as LOCAL_HOLD, and a far end's
                # re-INVITE offering sendonly or inactive as REMOTE_HOLD (both checked).
                leg.held = True
                self._emit(CallProgressed(leg.ref, CallPhase.HELD))
            return

    def _connect_audio(self, call: _Call, index: int) -> None:
        manager = self._ep.audDevManager()
        try:
            audio = call.getAudioMedia(index)
            manager.getCaptureDevMedia().startTransmit(audio)
            audio.startTransmit(manager.getPlaybackDevMedia())
        except pj.Error as exc:
            log.warning("could not connect the audio of %s: %s",
                        call.leg.ref if call.leg else "a call", _error_text(exc))

    def _ensure_watchdog(self) -> None:
        if self._watchdog_timer is None:
            self._watchdog_timer = self._schedule(_WATCHDOG_S, self._media_watchdog)

    def _media_watchdog(self) -> None:
        """Hang up connected calls whose far end stopped sending RTP (a dead line)."""
        self._watchdog_timer = None
        now = self._clock()
        for leg in list(self._calls.values()):
            if not leg.connected or leg.ended or leg.held:
                continue
            packets = _rx_packets(leg.call)
            if packets is None:
                leg.rx_changed_at = now  # no active audio stream (e.g. remote hold)
                continue
            if packets != leg.rx_packets:
                leg.rx_packets = packets
                leg.rx_changed_at = now
            elif now - leg.rx_changed_at >= self._media_timeout_s:
                log.info("call %s: no RTP for %.1f s, hanging up", leg.ref, self._media_timeout_s)
                leg.media_timeout = True
                self._hangup_leg(leg, local=False)
        if any(leg.connected and not leg.ended for leg in self._calls.values()):
            self._ensure_watchdog()

    # ----------------------------------------------------------------- owner thread: audio

    def _list_devices(self, *, refresh: bool = False) -> tuple[AudioDevice, ...]:
        manager = self._ep.audDevManager()
        if refresh:
            try:
                manager.refreshDevs()
            except pj.Error as exc:  # no audio subsystem at all: nothing to list
                log.info("could not re-scan sound devices: %s", _error_text(exc))
        devices = []
        for index in range(manager.getDevCount()):
            info = manager.getDevInfo(index)
            devices.append(AudioDevice(index, str(info.name), str(info.driver),
                                       int(info.inputCount), int(info.outputCount)))
        return tuple(devices)

    def _answer_devices(self) -> None:
        try:
            devices = self._list_devices(refresh=True)
        except pj.Error as exc:
            self._emit(AudioDevicesListed((), self._audio_state, self._audio_choice,
                                          self._null_requested, error=_error_text(exc)))
            return
        self._emit(AudioDevicesListed(devices, self._audio_state, self._audio_choice,
                                      self._null_requested))

    def _apply_audio_quietly(self, choice: AudioChoice) -> None:
        self._apply_audio(choice)  # the answer is the AudioChanged event it emits

    def _apply_audio(self, choice: AudioChoice) -> AudioState:
        """Open the devices `choice` names, or the null device; a failure is a warning.

        Ends with `AudioChanged`, so the agent hears of a remembered device that is missing at
        start as well as of a new choice."""
        self._audio_choice = choice
        devices = () if self._null_requested else self._list_devices()
        plan = resolve_audio(choice, devices, null_requested=self._null_requested)
        manager = self._ep.audDevManager()
        self._stop_tones()  # their target may change; the next loop turn restarts them
        if not plan.null:
            try:
                manager.setCaptureDev(plan.capture)
                manager.setPlaybackDev(plan.playback)
            except pj.Error as exc:
                failed = f"could not open {plan.capture_name} / {plan.playback_name}: " \
                         f"{_error_text(exc)}; using the null device (no sound in or out)"
                plan = replace(resolve_audio(choice, (), null_requested=True), warnings=(failed,))
        if plan.null:
            manager.setNullDev()
        for warning in plan.warnings:
            log.warning("audio: %s", warning)
        self._audio_plan = plan
        self._tones_failed.clear()
        self._sync_tones()
        state = self._publish_audio()
        self._emit(AudioChanged(state, choice))
        return state

    def _publish_audio(self) -> AudioState:
        plan = self._audio_plan
        if plan is None:
            return self._audio_state
        state = AudioState(capture=plan.capture_name, playback=plan.playback_name,
                           ring=plan.ring_name, null=plan.null, warnings=plan.warnings,
                           ringback=self._ringback.playing(), ringing=self._ring.playing())
        if state != self._audio_state:
            self._audio_state = state
        return state

    def _sync_tones(self) -> None:
        """Ringback while an outbound call rings without early media; the ring tone while an
        inbound call waits for the agent (not over a conversation, unless on its own device).

        Runs after every loop turn, so every path that changes a call (callbacks, timers,
        commands, shutdown) ends with the tones right.
        """
        if self._ep is None or self._audio_plan is None:
            return
        ringback = ring = talking = False
        for leg in self._calls.values():
            if not leg.announced or leg.ended:
                continue
            if leg.connected:
                talking = talking or not leg.held
            elif leg.inbound:
                ring = ring or not leg.hangup_pending
            else:
                ringback = ringback or (leg.ringing and not leg.early_media)
        ring = ring and (not talking or self._audio_plan.ring is not None)
        ring = ring and not self._audio_plan.ring_muted  # the agent chose a silent ring
        ringback = ringback and self._ringback.name not in self._tones_failed
        ring = ring and self._ring.name not in self._tones_failed
        if ringback == self._ringback.active and ring == self._ring.active:
            if ringback or ring or self._audio_state.ringback or self._audio_state.ringing:
                # Re-read while a tone plays, so the published state follows the bridge.
                self._publish_audio()
            return
        self._set_tone(self._ringback, ringback, ring_device=False)
        self._set_tone(self._ring, ring, ring_device=True)
        self._publish_audio()

    def _set_tone(self, tone: _Tone, on: bool, *, ring_device: bool) -> None:
        if on == tone.active:
            return
        if not on:
            tone.stop()
            if ring_device:
                self._close_ring_device()
            return
        target = self._open_ring_device() if ring_device else None
        try:
            tone.start(target if target is not None
                       else self._ep.audDevManager().getPlaybackDevMedia())
        except pj.Error as exc:
            # Not retried on every loop turn: until the devices change, calls go on silently.
            self._tones_failed.add(tone.name)
            log.warning("audio: could not play the %s tone: %s", tone.name, _error_text(exc))

    def _open_ring_device(self) -> Any:
        """A second sound device for the ring only, open while it rings (pjsua's extra device
        always captures too, so it is not kept open)."""
        plan = self._audio_plan
        if plan is None or plan.ring is None:
            return None
        if self._ring_device is None:
            device = pj.ExtraAudioDevice(plan.ring, plan.capture)
            try:
                device.open()
            except pj.Error as exc:
                log.warning("audio: ring device %s did not open (%s); ringing on the speaker",
                            plan.ring_name, _error_text(exc))
                return None
            self._ring_device = device
        return self._ring_device

    def _close_ring_device(self) -> None:
        device, self._ring_device = self._ring_device, None
        if device is not None:
            try:
                device.close()
            except pj.Error as exc:
                log.info("closing the ring device: %s", _error_text(exc))

    def _stop_tones(self) -> None:
        self._ringback.stop()
        self._ring.stop()
        self._close_ring_device()

    # ----------------------------------------------------------------- owner thread: MESSAGE

    def _do_message(self, ref: str, uri: str, text: str) -> None:
        acc, account = self._acc, self._account
        if acc is None or account is None:
            self._emit(MessageResult(ref, False, 0, self._no_line))
            return
        target = _target_uri(uri, account.domain)
        buddy = pj.Buddy()
        try:
            config = pj.BuddyConfig()
            config.uri = target
            config.subscribe = False  # a Buddy here is only an address for MESSAGE
            buddy.create(acc, config)
            prm = pj.SendInstantMessageParam()
            prm.contentType = "text/plain"
            prm.content = text
            buddy.sendInstantMessage(prm)
        except pj.Error as exc:
            self._emit(MessageResult(ref, False, 0, f"not sent: {_error_text(exc)}"))
            return
        finally:
            self._graveyard.append(buddy)
        # pjsua2's per-message user data is a raw pointer Python cannot set, so results are
        # matched back by (target, text), first in first out.
        self._pending_messages.setdefault((target, text), deque()).append(ref)

    def _on_message_status(self, to_uri: str, body: str, code: int, reason: str) -> None:
        pending = self._pending_messages.get((str(to_uri), str(body)))
        if not pending:
            log.info("MESSAGE result %s for an unknown message to %s", code, to_uri)
            return
        ref = pending.popleft()
        if not pending:
            del self._pending_messages[(str(to_uri), str(body))]
        delivered = 200 <= code < 300
        self._emit(MessageResult(ref, delivered, int(code), str(reason)))


# --------------------------------------------------------------------- helpers (pure)

_HELD_MEDIA = frozenset({pj.PJSUA_CALL_MEDIA_LOCAL_HOLD, pj.PJSUA_CALL_MEDIA_REMOTE_HOLD})


def _status(code: int) -> Any:
    prm = pj.CallOpParam(True)
    prm.statusCode = code
    return prm


def _rx_packets(call: _Call) -> int | None:
    try:
        info = call.getInfo()
        for index, media in enumerate(info.media):
            if media.type == pj.PJMEDIA_TYPE_AUDIO and media.status == pj.PJSUA_CALL_MEDIA_ACTIVE:
                return int(call.getStreamStat(index).rtcp.rxStat.pkt)
    except pj.Error:
        return None
    return None


def _error_text(exc: BaseException) -> str:
    if isinstance(exc, pj.Error):
        return str(exc.reason or exc.info())
    return str(exc) or type(exc).__name__


def _uri_hostport(uri: str) -> str:
    """The "host[:port]" of a SIP URI ("sip:user@host:5060;transport=tcp" -> "host:5060")."""
    rest = uri.split(":", 1)[1] if re.match(r"^<?\s*(sips?|tel):", uri, re.IGNORECASE) else uri
    rest = rest.split("@", 1)[-1]
    return re.split(r"[;?>]", rest, maxsplit=1)[0].strip()


def _split_host_port(address: str) -> tuple[str, int | None]:
    """"ip:port", "[v6]:port", "host" -> (host, port or None)."""
    if address.startswith("["):
        host, _, rest = address[1:].partition("]")
        port = rest[1:] if rest.startswith(":") else ""
    elif address.count(":") == 1:
        host, _, port = address.partition(":")
    else:  # a bare name, IPv4 address or unbracketed IPv6 address
        host, port = address, ""
    return host, int(port) if port.isdigit() else None


def _with_transport(uri: str, transport: Transport) -> str:
    if transport is Transport.UDP or "transport=" in uri.lower():
        return uri
    return f"{uri};transport={transport.value}"


def _loose_route(uri: str) -> str:
    return uri if ";lr" in uri.lower() else f"{uri};lr"


def _target_uri(uri: str, domain: str) -> str:
    """What the app dials: a SIP/tel URI as is, a bare number as sip:number@domain."""
    if re.match(r"^(sips?|tel):", uri, re.IGNORECASE):
        return uri
    return f"sip:{uri}@{domain}"


if TYPE_CHECKING:  # mypy proves the engine satisfies the port it implements
    from app.ports.phone import Phone

    _implements_phone: type[Phone] = SipPhone
