"""Hold, keypad tones, a dropped call's follow-up, and the attempts left on the card."""

from __future__ import annotations

from PySide6.QtCore import Qt

from app.domain.enums import CallOrigin, CallOutcome
from app.ports.phone import CallEnded
from tests.gui.conftest import Harness
from tests.gui.test_call_flow import connect_call


def test_hold_and_resume_follow_the_phone(harness: Harness) -> None:
    connect_call(harness)
    gate = harness.window.gate
    assert gate.hold.isEnabled()
    with harness.qtbot.waitSignal(harness.controller.hold_did_change, timeout=5000) as held:
        gate.hold.click()
    assert held.args == [True] and gate.hold.text().startswith("Resume")
    with harness.qtbot.waitSignal(harness.controller.hold_did_change, timeout=5000) as resumed:
        gate.hold.click()
    assert resumed.args == [False] and gate.hold.text().startswith("Hold")


def test_keypad_sends_only_tone_digits(harness: Harness) -> None:
    ref = connect_call(harness)
    keypad = harness.window.gate.keypad
    assert keypad.isEnabled()
    harness.qtbot.keyClicks(keypad, "1a2#x*")
    assert keypad.text() == "12#*"  # letters are not tones
    harness.qtbot.keyClick(keypad, Qt.Key.Key_Return)
    harness.qtbot.waitUntil(lambda: harness.phone.tones == [(ref, "12#*")], timeout=5000)
    assert keypad.text() == ""


def test_controls_are_off_without_a_connected_call(harness: Harness) -> None:
    harness.pick("Ana Garc")
    gate = harness.window.gate
    assert not gate.hold.isEnabled() and not gate.keypad.isEnabled()
    assert not gate.hangup.isEnabled()


def test_a_dropped_call_sets_up_the_dropped_call_callback(harness: Harness) -> None:
    ref = connect_call(harness)
    with harness.qtbot.waitSignal(harness.controller.call_did_end, timeout=5000) as ended:
        harness.phone.emit(CallEnded(ref, CallOutcome.DROPPED, 408, "media timeout",
                                     connected=True))
    assert ended.args[0].outcome is CallOutcome.DROPPED
    assert harness.window.gate.origin.currentData() == CallOrigin.DROPPED_CALL
    assert "Dropped Call" in harness.window.statusBar().currentMessage()


def test_card_shows_the_attempts_left_and_what_the_last_one_needs(harness: Harness) -> None:
    harness.pick("Priya")  # one unanswered attempt in the demo history
    text = harness.window.card.attempts.text()
    assert text.startswith("1 since the last conversation — 1 of 2 left")
    assert "voicemail and an account note" in text
    harness.pick("Marcus")  # two unanswered attempts: none left
    assert "none left of 2" in harness.window.card.attempts.text()


def test_offline_state_and_waiting_changes_are_said_in_the_top_bar(harness: Harness) -> None:
    from app.ports.store import SyncStatus

    top = harness.window.offline
    harness.controller.sync_did_change.emit(SyncStatus(online=False, pending=3,
                                                       last_error="connection refused"))
    assert top.text() == "⚠ Offline – 3 change(s) saved here, waiting to be sent"
    assert top.toolTip() == "connection refused"
    harness.controller.sync_did_change.emit(SyncStatus(online=True, pending=1))
    assert top.text() == "Catching up – 1 left"
    harness.controller.sync_did_change.emit(SyncStatus(online=True, pending=0))
    assert top.text() == ""
