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
from ui.application import open_desktop

FIXED_NOW = datetime(2026, 11, 20, 16, 0, 5, tzinfo=UTC)  # 10:00 in Chicago


def wait_for(signal: SignalInstance, timeout_s: float = 15.0,
             until: Callable[[object], bool] | None = None) -> object:
    loop = QEventLoop()
    box: list[object] = []

    def got(value: object = None) -> None:
        if until is None or until(value):
            box.append(value)
            loop.quit()

    signal.connect(got)
    QTimer.singleShot(int(timeout_s * 1000), loop.quit)
    loop.exec()
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
    _app = QApplication.instance() or QApplication(sys.argv[:1])  # kept alive until return
    with tempfile.TemporaryDirectory() as tmp:
        graph = bootstrap.build(demo=True, data_dir_override=tmp, clock=FixedClock(FIXED_NOW))
        desktop = open_desktop(graph)
        w, c = desktop.window, desktop.controller
        w.resize(1366, 768)
        w.show()
        try:
            graph.start_phone()
            c.start()
            wait_for(c.registration_did_change, until=lambda e: bool(getattr(e, "registered", 0)))
            wait_for(c.customers_did_load)
            settle()
            w.grab().save(str(out / "01-search.png"))

            w.search.query.setText("Honolulu")
            wait_for(c.customers_did_load)
            w.search.results.setCurrentRow(0)
            wait_for(c.verdict_did_change)
            settle()
            w.grab().save(str(out / "02-gate-blocked.png"))

            w.search.query.setText("Chicago")
            wait_for(c.customers_did_load)
            w.search.results.setCurrentRow(0)
            wait_for(c.verdict_did_change)
            c.set_agent_state(AgentState.NOT_READY_FOLLOW_UP)
            wait_for(c.verdict_did_change)
            c.send_notification(NotificationTemplate.CUSTOMER_CALLBACK)
            wait_for(c.notification_did_finish)
            wait_for(c.verdict_did_change)
            settle()
            w.grab().save(str(out / "03-gate-open.png"))

            w.gate.dial.click()
            wait_for(c.call_did_change, until=lambda r: getattr(r, "connected_at", None) is not None)
            settle()
            w.grab().save(str(out / "04-connected.png"))

            w.script.verify_button.click()
            wait_for(c.call_did_change)
            settle()
            w.grab().save(str(out / "05-verified.png"))
            w.script.notice_button.click()
            wait_for(c.call_did_change)

            w.gate.hangup.click()
            wait_for(c.call_did_end)
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
            w.memo.close_button.click()
            wait_for(c.record_did_close)
            settle()
            w.grab().save(str(out / "09-record-closed.png"))
        finally:
            desktop.window.close()
            desktop.close()
            graph.close()
    print(f"screenshots written to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/screenshots")))
