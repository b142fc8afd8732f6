"""The desktop starts its phone before the window exists: what the phone says first (the
registration answer) must still reach the window, in order."""

from __future__ import annotations

import threading
from collections.abc import Callable

from pytestqt.qtbot import QtBot

from app.ports.phone import CallPhase, CallProgressed, PhoneEvent, RegistrationChanged
from ui.phone_bridge import PhoneBridge


class Talker:
    """Only the phone's subscriber list: events are sent from a thread of the test's own."""

    def __init__(self) -> None:
        self.callbacks: list[Callable[[PhoneEvent], None]] = []

    def subscribe(self, callback: Callable[[PhoneEvent], None]) -> None:
        self.callbacks.append(callback)

    def say_from_another_thread(self, *events: PhoneEvent) -> None:
        def run() -> None:
            for event in events:
                for callback in self.callbacks:
                    callback(event)
        thread = threading.Thread(target=run)
        thread.start()
        thread.join()


def test_events_sent_before_anything_listens_arrive_once_connected(qtbot: QtBot) -> None:
    phone = Talker()
    bridge = PhoneBridge(phone)  # type: ignore[arg-type]
    phone.say_from_another_thread(RegistrationChanged(True, 200, "registered"),
                                  CallProgressed("c1", CallPhase.CALLING, 0))
    seen: list[PhoneEvent] = []
    bridge.event_did_arrive.connect(seen.append)  # the window, built after the phone started
    qtbot.waitUntil(lambda: len(seen) == 2)
    assert seen == [RegistrationChanged(True, 200, "registered"),
                    CallProgressed("c1", CallPhase.CALLING, 0)]
