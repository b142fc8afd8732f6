"""The smallest screen agents use, 1366×768: every screen of a call fits without cutting text.

The window gets what is left of 1366×768 under a title bar and a taskbar; on each screen of the
call, no visible label, button or box may be narrower than its text, no wrapped label shorter
than its lines, no tab pushed off its bar and no list that scrolls sideways (ui.theme.clipped).
"""

from __future__ import annotations

import contextlib

from PySide6.QtCore import QSize
from PySide6.QtWidgets import QApplication, QLabel
from pytestqt.exceptions import TimeoutError as QtTimeout
from pytestqt.qtbot import QtBot

from app.ports.phone import RegistrationChanged
from tests.gui.conftest import Harness
from ui.theme import clipped

# 1366×768 less a 30 px title bar and a 40 px taskbar.
SMALL = QSize(1366, 768 - 30 - 40)


def at_small_size(h: Harness, qtbot: QtBot) -> None:
    w = h.window
    hint = w.minimumSizeHint()
    assert hint.width() <= SMALL.width() and hint.height() <= SMALL.height(), (
        f"the window cannot shrink to {SMALL.width()}×{SMALL.height()}: it needs "
        f"{hint.width()}×{hint.height()}")
    w.resize(SMALL)
    qtbot.waitUntil(lambda: w.size() == SMALL, timeout=5000)
    QApplication.processEvents()


def fits(h: Harness, screen: str) -> None:
    """Layouts settle over a few event-loop turns after a screen changes: wait for it, then say
    what is still cut."""
    with contextlib.suppress(QtTimeout):  # the assertion below says what a user would see
        h.qtbot.waitUntil(lambda: not clipped(h.window), timeout=2000)
    problems = clipped(h.window)
    assert not problems, f"{screen}: " + "; ".join(problems)


def test_every_screen_of_a_call_fits_at_1366x768(harness: Harness, qtbot: QtBot) -> None:
    h, w, c = harness, harness.window, harness.controller
    at_small_size(h, qtbot)
    fits(h, "search, nothing picked")

    h.pick("Keoni")  # Honolulu at 6 a.m.: the gate blocked, with its one-click fixes
    qtbot.waitUntil(lambda: w.gate.findChild(QLabel, "rule-OB-WINDOW") is not None, timeout=5000)
    fits(h, "dial gate blocked")

    h.pick("Ana Garc")
    h.open_gate()
    fits(h, "dial gate open")

    h.dial_and_connect()
    with qtbot.waitSignal(c.call_did_change, timeout=5000):
        w.script.verify_button.click()
    fits(h, "on the call, verified")

    with qtbot.waitSignal(c.call_did_end, timeout=5000):
        w.gate.hangup.click()
    w.memo.response.setPlainText("Customer read out SSN 123-45-6789.")
    qtbot.waitUntil(lambda: bool(w.memo.problems.text()), timeout=5000)
    fits(h, "memo with a problem")

    w.tabs.setCurrentWidget(w.callbacks)
    fits(h, "callbacks")


def test_a_cut_label_is_caught(harness: Harness, qtbot: QtBot) -> None:
    """The check itself: a label squeezed below its text is reported."""
    at_small_size(harness, qtbot)
    label = harness.window.agent_label
    label.setText("<b>" + "A very long agent name " * 12 + "</b>")
    label.setMaximumWidth(120)
    QApplication.processEvents()
    assert any("very long agent name" in p for p in clipped(harness.window))


def test_a_long_phone_status_takes_a_second_line_not_more_width(harness: Harness,
                                                                 qtbot: QtBot) -> None:
    h, w = harness, harness.window
    with qtbot.waitSignal(h.controller.registration_did_change, timeout=5000):
        h.phone.emit(RegistrationChanged(
            False, 0, "certificate does not match sip.customer-care.eu-west.example.com", 30.0))
    assert w.registration.text() == (
        "● Phone: not registered (certificate does not match "
        "sip.customer-care.eu-west.example.com, retrying in 30\u00a0s)")
    at_small_size(h, qtbot)  # the window can still shrink to the small screen
    fits(h, "phone not registered, long reason")


def test_the_card_tells_no_local_time_before_a_customer_is_picked(harness: Harness,
                                                                   qtbot: QtBot) -> None:
    qtbot.wait(1300)  # the card's clock would have ticked
    assert harness.window.card.local_time.text() == ""
    harness.pick("Ana Garc")
    qtbot.waitUntil(lambda: "Chicago" in harness.window.card.local_time.text(), timeout=5000)
