"""Screenshots of every step of a call, taken offscreen against the real demo line.

    python -m ui.screenshots OUT_DIR      (or: make screenshots)

The clock is fixed at a moment inside the calling window for Chicago and outside it for
Honolulu, so the pictures are the same every time; the SIP call itself is real.
"""

from __future__ import annotations

import sys
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from PySide6.QtCore import QEventLoop, QTimer, SignalInstance
from PySide6.QtWidgets import QApplication

from app import bootstrap
from app.domain.clock import FixedClock
from app.domain.enums import AgentState, NotificationTemplate
from ui.application import open_desktop, route_qt_messages

FIXED_NOW = datetime(2026, 11, 20, 16, 0, 5, tzinfo=UTC)  # 10:00 in Chicago


def wait_for(signal: SignalInstance, action: Callable[[], object] | None = None,
             until: Callable[[object], bool] | None = None, timeout_s: float = 15.0) -> object:
    """Connect first, then act, then wait: a signal fired by the action cannot be missed."""
    loop = QEventLoop()
    box: list[object] = []

    def got(value: object = None) -> None:
        if not box and (until is None or until(value)):
            box.append(value)
            loop.quit()

    signal.connect(got)
    try:
        if action is not None:
            action()
        if not box:
            QTimer.singleShot(int(timeout_s * 1000), loop.quit)
            loop.exec()
    finally:
        signal.disconnect(got)
    if not box:
        raise TimeoutError(f"timed out waiting for {signal}")
    return box[0]


def settle(ms: int = 300) -> None:
    loop = QEventLoop()
    QTimer.singleShot(ms, loop.quit)
    loop.exec()


def main(out: Path) -> int:
    out.mkdir(parents=True, exist_ok=True)
    route_qt_messages()
    _app = QApplication.instance() or QApplication(sys.argv[:1])  # kept alive until return
    with tempfile.TemporaryDirectory() as tmp:
        graph = bootstrap.build(demo=True, data_dir_override=tmp, clock=FixedClock(FIXED_NOW))
        desktop = open_desktop(graph)
        w, c = desktop.window, desktop.controller
        w.resize(1366, 768)
        w.show()
        try:
            registered = lambda e: bool(getattr(e, "registered", False))  # noqa: E731
            wait_for(c.registration_did_change, graph.start_phone, until=registered)
            wait_for(c.customers_did_load, c.start)
            settle()
            w.grab().save(str(out / "01-search.png"))

            def pick(text: str) -> None:
                wait_for(c.customers_did_load, lambda: w.search.query.setText(text))
                wait_for(c.verdict_did_change, lambda: w.search.results.setCurrentRow(0))
                settle()

            pick("Keoni")  # Honolulu: 6 a.m. there at the fixed time
            w.grab().save(str(out / "02-gate-blocked.png"))

            pick("Ana Garc")  # Chicago: 10 a.m.
            wait_for(c.verdict_did_change,
                     lambda: c.set_agent_state(AgentState.NOT_READY_FOLLOW_UP))
            wait_for(c.notification_did_finish,
                     lambda: c.send_notification(NotificationTemplate.CUSTOMER_CALLBACK))
            wait_for(c.verdict_did_change)
            settle()
            w.grab().save(str(out / "03-gate-open.png"))

            connected = lambda r: getattr(r, "connected_at", None) is not None  # noqa: E731
            wait_for(c.call_did_change, w.gate.dial.click, until=connected)
            settle()
            w.grab().save(str(out / "04-connected.png"))

            wait_for(c.call_did_change, w.script.verify_button.click)
            settle()
            w.grab().save(str(out / "05-verified.png"))
            wait_for(c.call_did_change, w.script.notice_button.click)

            wait_for(c.call_did_end, w.gate.hangup.click)
            settle()
            w.grab().save(str(out / "06-memo-open.png"))

            w.memo.summary.setPlainText("Walked through resetting network settings; data is back.")
            w.memo.response.setPlainText("Customer confirmed data works. SSN 123-45-6789 given.")
            settle()
            w.grab().save(str(out / "07-memo-sensitive.png"))
            w.memo.response.setPlainText("Customer confirmed data works; will call if it drops.")
            w.memo.pay_none.setChecked(True)
            settle()
            w.grab().save(str(out / "08-memo-complete.png"))
            wait_for(c.record_did_close, w.memo.close_button.click)
            settle()
            w.grab().save(str(out / "09-record-closed.png"))

            wait_for(c.scheduling_did_open, w.callbacks.schedule.click)
            settle(600)
            if w.active_dialog is not None:
                w.active_dialog.grab().save(str(out / "10-schedule-callback.png"))
                w.active_dialog.reject()
        finally:
            desktop.window.close()
            desktop.close()
            graph.close()
    print(f"screenshots written to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/screenshots")))
