"""A promise through the real window and controller: schedule it, see it, call it, keep it."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

from PySide6.QtCore import QDate, QTime
from pytestqt.qtbot import QtBot

from app.domain.clock import FixedClock
from app.domain.enums import CallOrigin
from app.ports.store import Shift
from tests.gui.conftest import CHICAGO_10AM, make_harness
from ui.theme import tone_of


def test_promise_is_scheduled_listed_called_and_kept(qtbot: QtBot, tmp_path: Path) -> None:
    h = make_harness(qtbot, tmp_path, FixedClock(CHICAGO_10AM))
    try:
        with h.graph.store.unit_of_work() as uow:  # the agent works today, so keeps the promise
            uow.shifts.add(Shift("s1", h.graph.desk.agent.id, CHICAGO_10AM - timedelta(hours=2),
                                 CHICAGO_10AM + timedelta(hours=10)))
            uow.commit()
        w, c = h.window, h.controller
        h.pick("Ana Garc")
        with qtbot.waitSignal(c.scheduling_did_open, timeout=5000):
            w.callbacks.schedule.click()
        dialog = w.active_dialog
        dialog.date.setDate(QDate(date(2026, 11, 20)))
        dialog.time.setTime(QTime(15, 30))  # 3:30 PM in Chicago, inside the window
        qtbot.waitUntil(lambda: "Inside the calling hours" in dialog.verdict.text(), timeout=5000)
        assert "you keep this callback" in dialog.placement.text()
        with qtbot.waitSignal(c.callback_did_schedule, timeout=5000):
            dialog.schedule_button.click()
        qtbot.waitUntil(lambda: w.callbacks.mine.topLevelItemCount() == 1, timeout=5000)
        assert "Callbacks (1)" in w.tabs.tabText(2)
        # The card shows the promise to whoever calls Ana next, in her time, re-worded as it nears.
        qtbot.waitUntil(lambda: "3:30 PM CST" in w.card.callbacks.text(), timeout=5000)
        assert w.card.callbacks.text() == "Fri Nov 20, 3:30 PM CST · Due in 5 h 30 min · Troubleshooting"
        assert tone_of(w.card.callbacks) == ""
        h.clock.advance(timedelta(hours=5, minutes=31))  # the promise is now late
        qtbot.waitUntil(lambda: "Overdue by 1 min" in w.card.callbacks.text(), timeout=5000)
        assert tone_of(w.card.callbacks) == "error"

        h.clock.advance(timedelta(minutes=5))  # only a promise made before the call is kept by it
        w.callbacks.mine.setCurrentItem(w.callbacks.mine.topLevelItem(0))
        with qtbot.waitSignal(c.context_did_load, timeout=5000):
            w.callbacks.call_now.click()
        assert w.gate.origin.currentData() == CallOrigin.FOLLOW_UP
        qtbot.waitUntil(lambda: w.card.name.text() == "Ana García", timeout=5000)
        h.open_gate()  # the gate still has to pass, as for any call
        ref = h.dial_and_connect()
        h.verify_read_notice_hang_up()
        w.memo.summary.setPlainText("Called back as promised; issue resolved.")
        w.memo.response.setPlainText("Customer thanked us.")
        w.memo.pay_none.setChecked(True)
        qtbot.waitUntil(w.memo.close_button.isEnabled, timeout=5000)
        with qtbot.waitSignal(c.record_did_close, timeout=5000):
            w.memo.close_button.click()
        qtbot.waitUntil(lambda: w.callbacks.mine.topLevelItemCount() == 0, timeout=5000)
        with h.graph.store.unit_of_work(read_only=True) as uow:
            kept = uow.callbacks.open_for_customer("demo-ana-garcia")
            kinds = [e.kind for e in uow.audit.for_record(ref)]
        assert kept == []  # the promise is no longer open: it was kept by this call
        qtbot.waitUntil(lambda: w.card.callbacks.text() == "none open", timeout=5000)
        assert "record_closed" in kinds
    finally:
        h.desktop.close()
        h.graph.store.close()
