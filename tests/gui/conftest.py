"""GUI tests: the real desktop widgets, desk service and a real SQLite store, with a fake phone.

The phone is the one fake: these tests are about what the agent sees and can do; the SIP stack
is proven against real peers in tests/integration and tests/e2e.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path

import pytest
from PySide6.QtWidgets import QPushButton
from pytestqt.qtbot import QtBot

from app.bootstrap import AppGraph, Records
from app.demo.customers import demo_agent, seed_demo
from app.domain.agent import Agent
from app.domain.clock import FixedClock
from app.domain.enums import CallOutcome
from app.mail.smtp import DeliveryResult
from app.policy.pack import load_pack
from app.ports.phone import (
    AudioChanged,
    AudioChoice,
    AudioDevice,
    AudioDevicesListed,
    AudioState,
    CallEnded,
    CallPhase,
    CallProgressed,
    IncomingCall,
    MessageResult,
    PendingPassword,
    PhoneEvent,
    SipAccountConfig,
)
from app.services.callbacks import Commitments
from app.services.desk import Desk
from app.settings import load_settings
from app.storage import open_store
from ui.application import Desktop, open_desktop

CHICAGO_10AM = datetime(2026, 11, 20, 16, 0, tzinfo=UTC)


class FakePhone:
    """Records commands; tests push the events a real phone would send."""

    def __init__(self) -> None:
        self._subscribers: list[Callable[[PhoneEvent], None]] = []
        self.dialled: list[tuple[str, str]] = []
        self.messages: list[tuple[str, str, str]] = []
        self.hung_up: list[str] = []
        self.busy_refused: list[str] = []  # inbound calls refused with 486 Busy Here
        self.tones: list[tuple[str, str]] = []
        self.answered: list[str] = []
        self.holds: list[tuple[str, bool]] = []  # (ref, on) in the order asked
        self._ringing: set[str] = set()  # inbound refs not answered yet
        self.auto_deliver = True
        self._lock = threading.Lock()

    def subscribe(self, callback: Callable[[PhoneEvent], None]) -> None:
        self._subscribers.append(callback)

    def emit(self, event: PhoneEvent) -> None:
        for s in self._subscribers:
            s(event)

    def start(self, account: SipAccountConfig, password: PendingPassword | None = None) -> None:
        pass

    def dial(self, ref: str, uri: str) -> None:
        with self._lock:
            self.dialled.append((ref, uri))
        self.emit(CallProgressed(ref, CallPhase.CALLING))

    def ring(self, ref: str, remote_uri: str) -> None:
        """A customer calls the agent, as the engine announces an INVITE."""
        self._ringing.add(ref)
        self.emit(IncomingCall(ref, remote_uri))

    def answer(self, ref: str) -> None:
        self.answered.append(ref)
        self._ringing.discard(ref)
        self.emit(CallProgressed(ref, CallPhase.CONNECTED, 200))

    def hangup(self, ref: str, *, busy: bool = False) -> None:
        self.hung_up.append(ref)
        if ref in self._ringing:  # the engine refuses an unanswered inbound call: 603 or 486
            self._ringing.discard(ref)
            if busy:
                self.busy_refused.append(ref)
                self.emit(CallEnded(ref, CallOutcome.DECLINED, 486, "Busy Here", connected=False))
            else:
                self.emit(CallEnded(ref, CallOutcome.DECLINED, 603, "Decline", connected=False))
            return
        self.emit(CallEnded(ref, CallOutcome.LOCAL_HANGUP, 200, "Normal call clearing",
                            connected=True))

    def hold(self, ref: str) -> None:
        self.holds.append((ref, True))
        self.emit(CallProgressed(ref, CallPhase.HELD))

    def unhold(self, ref: str) -> None:
        self.holds.append((ref, False))
        self.emit(CallProgressed(ref, CallPhase.RESUMED))

    def send_dtmf(self, ref: str, digits: str) -> None:
        self.tones.append((ref, digits))

    def send_message(self, ref: str, uri: str, text: str) -> None:
        self.messages.append((ref, uri, text))
        if self.auto_deliver:
            self.emit(MessageResult(ref, True, 200, "OK"))

    # Sound devices: `audio_devices` is what this desk has; choices resolve as the engine does.
    audio_devices: tuple[AudioDevice, ...] = ()
    audio_choice = AudioChoice()
    audio_state = AudioState()

    def list_audio_devices(self) -> None:
        self.emit(AudioDevicesListed(self.audio_devices, self.audio_state, self.audio_choice))

    def choose_audio(self, choice: AudioChoice) -> None:
        from app.sip.audio import resolve_audio

        plan = resolve_audio(choice, self.audio_devices)
        self.audio_choice = choice
        self.audio_state = AudioState(plan.capture_name, plan.playback_name, plan.ring_name,
                                      plan.null, plan.warnings)
        self.emit(AudioChanged(self.audio_state, choice))

    def shutdown(self, timeout_s: float = 5.0) -> None:
        pass


@dataclass
class Harness:
    desktop: Desktop
    phone: FakePhone
    clock: FixedClock
    graph: AppGraph
    qtbot: QtBot

    @property
    def window(self):  # type: ignore[no-untyped-def]
        return self.desktop.window

    @property
    def controller(self):  # type: ignore[no-untyped-def]
        return self.desktop.controller

    def pick(self, name: str) -> None:
        c, w = self.controller, self.window
        with self.qtbot.waitSignal(c.customers_did_load, timeout=5000):
            w.search.query.setText(name)
        assert w.search.results.count() >= 1, f"no customer found for {name!r}"
        with self.qtbot.waitSignal(c.verdict_did_change, timeout=5000):
            w.search.results.setCurrentRow(0)

    def verdict(self):  # type: ignore[no-untyped-def]
        with self.qtbot.waitSignal(self.controller.verdict_did_change, timeout=5000) as blocker:
            self.controller.refresh_gate()
        return blocker.args[0]

    def open_gate(self) -> None:
        """The two one-click fixes a customer in their window needs (agent state, pre-call
        notification), each clicked once it shows, until Dial is enabled."""
        gate = self.window.gate
        for rule in ("OB-STATE", "OB-NOTIFY"):
            self.qtbot.waitUntil(
                lambda r=rule: gate.findChild(QPushButton, f"fix-{r}") is not None, timeout=5000)
            gate.findChild(QPushButton, f"fix-{rule}").click()
            self.qtbot.waitUntil(
                lambda r=rule: gate.findChild(QPushButton, f"fix-{r}") is None, timeout=5000)
        self.qtbot.waitUntil(gate.dial.isEnabled, timeout=5000)

    def dial_and_connect(self) -> str:
        """Dial, and have the far end answer; the call's ref."""
        c = self.controller
        with self.qtbot.waitSignal(c.call_did_start, timeout=5000):
            self.window.gate.dial.click()
        ref = self.phone.dialled[-1][0]
        with self.qtbot.waitSignal(c.call_did_change, timeout=5000,
                                   check_params_cb=lambda r: r.connected_at is not None):
            self.phone.emit(CallProgressed(ref, CallPhase.CONNECTED, 200))
        return ref

    def verify_read_notice_hang_up(self) -> None:
        """The script's first two steps on a connected call, then the agent hangs up."""
        c, w = self.controller, self.window
        with self.qtbot.waitSignal(c.call_did_change, timeout=5000):
            w.script.verify_button.click()
        with self.qtbot.waitSignal(c.call_did_change, timeout=5000):
            w.script.notice_button.click()
        with self.qtbot.waitSignal(c.call_did_end, timeout=5000):
            w.gate.hangup.click()


class FakeMailer:
    """Keeps what would have been sent; the real SMTP path is proven in tests/integration/mail."""

    def __init__(self) -> None:
        self.sent: list[EmailMessage] = []

    def send(self, message: EmailMessage) -> DeliveryResult:
        self.sent.append(message)
        return DeliveryResult(True, "250 OK")


def make_harness(qtbot: QtBot, tmp_path: Path, clock: FixedClock,
                 agent: Agent | None = None, mailer: FakeMailer | None = None,
                 demo_ring_uri: str = "") -> Harness:
    """`demo_ring_uri`: what app.bootstrap sets for `callwise --demo` (the demo line's ring-me)."""
    store = open_store(f"sqlite:///{tmp_path / 'gui.sqlite3'}")
    seed_demo(store)
    agent = agent or demo_agent()
    with store.unit_of_work() as uow:
        if uow.agents.get(agent.id) is None:
            uow.agents.add(agent)
            uow.commit()
    phone = FakePhone()
    pack = load_pack(None)
    company = {"company": "Callwise Demo Telecom", "support_number": "1-800-555-0100"}
    desk = Desk(store=store, pack=pack, phone=phone, clock=clock, agent=agent,
                sip_domain="pbx.test", mailer=mailer, mail_from="care@callwise.test",
                company=company, demo_ring_uri=demo_ring_uri)
    settings = load_settings(None, tmp_path / "no-machine.toml")
    commitments = Commitments(store=store, pack=pack, clock=clock, agent=agent)
    graph = AppGraph(settings=settings, phone=phone, clock=clock,
                     account=SipAccountConfig("sip:pbx.test", agent.id, "pbx.test"), agent=agent,
                     records=Records(pack, store, desk, commitments), company=company,
                     demo_ring_uri=demo_ring_uri,
                     user_settings_file=tmp_path / "user" / "callwise.toml")
    desktop = open_desktop(graph)
    qtbot.addWidget(desktop.window)
    desktop.window.show()
    with qtbot.waitSignal(desktop.controller.customers_did_load, timeout=5000):
        desktop.controller.start()
    return Harness(desktop, phone, clock, graph, qtbot)


@pytest.fixture
def harness(qtbot: QtBot, tmp_path: Path) -> Iterator[Harness]:
    h = make_harness(qtbot, tmp_path, FixedClock(CHICAGO_10AM))
    yield h
    h.desktop.close()
    h.graph.store.close()
