"""Quitting with an unfinished record loses nothing: it reopens with its draft."""

from __future__ import annotations

from pathlib import Path

from pytestqt.qtbot import QtBot

from app.domain.clock import FixedClock
from tests.gui.conftest import CHICAGO_10AM, make_harness
from tests.gui.test_call_flow import connect_call


def test_unfinished_record_reopens_with_its_draft(qtbot: QtBot, tmp_path: Path) -> None:
    h = make_harness(qtbot, tmp_path, FixedClock(CHICAGO_10AM))
    connect_call(h)
    with qtbot.waitSignal(h.controller.call_did_end, timeout=5000):
        h.window.gate.hangup.click()
    h.window.memo.summary.setPlainText("Half-written summary before the power cut")
    h.window.close()  # quitting flushes the draft; the record stays open
    h.desktop.close()
    h.graph.store.close()

    again = make_harness(qtbot, tmp_path, FixedClock(CHICAGO_10AM))
    try:
        qtbot.waitUntil(lambda: again.controller.record is not None, timeout=5000)
        qtbot.waitUntil(lambda: again.window.memo.summary.toPlainText() != "", timeout=5000)
        assert again.window.memo.summary.toPlainText() == (
            "Half-written summary before the power cut")
        assert again.window.tabs.currentWidget() is again.window.memo
        assert not again.window.gate.dial.isEnabled()  # one open record at a time
    finally:
        again.desktop.close()
        again.graph.store.close()
