"""Drives the real desktop (real demo line, real SIP, real SQLite) the way an agent would.

    python -m tests.e2e.drive_desktop SCENARIO DATA_DIR

Scenarios print one line per milestone on stdout, which the end-to-end tests read:
  whole-call     dial Ana, verify, read the notice, hang up, write the memo, close: "CLOSED <id>"
  crash-memo     same call, hang up, type part of the memo, wait until the draft is on disk:
                 "DRAFT-SAVED <id>", then keep running until killed
  reopen         start and wait for the unfinished record to come back: "REOPENED <id> <summary>"
"""

from __future__ import annotations

import json
import sys
import time
from datetime import UTC, datetime

from PySide6.QtWidgets import QApplication

from app import bootstrap
from app.domain.clock import FixedClock
from app.domain.enums import AgentState, NotificationTemplate
from ui.application import open_desktop, route_qt_messages
from ui.screenshots import settle, wait_for

CHICAGO_10AM = datetime(2026, 11, 20, 16, 0, tzinfo=UTC)


def say(*parts: object) -> None:
    print(*parts, flush=True)


def main(scenario: str, data_dir: str) -> int:
    app = QApplication.instance() or QApplication(sys.argv[:1])
    route_qt_messages()
    graph = bootstrap.build(demo=True, data_dir_override=data_dir, clock=FixedClock(CHICAGO_10AM))
    desktop = open_desktop(graph)
    w, c = desktop.window, desktop.controller
    w.show()
    try:
        registered = lambda e: bool(getattr(e, "registered", False))  # noqa: E731
        wait_for(c.registration_did_change, graph.start_phone, until=registered)
        if scenario == "reopen":
            record = wait_for(c.record_did_reopen, c.start)
            settle()
            say("REOPENED", json.dumps({"id": record.id,  # type: ignore[attr-defined]
                                        "summary": w.memo.summary.toPlainText()}))
            return 0
        wait_for(c.customers_did_load, c.start)
        wait_for(c.customers_did_load, lambda: w.search.query.setText("Ana Garc"))
        wait_for(c.verdict_did_change, lambda: w.search.results.setCurrentRow(0))
        wait_for(c.agent_did_change, lambda: c.set_agent_state(AgentState.NOT_READY_FOLLOW_UP))
        wait_for(c.notification_did_finish,
                 lambda: c.send_notification(NotificationTemplate.CUSTOMER_CALLBACK))
        wait_for(c.verdict_did_change, c.refresh_gate, until=lambda v: v.allowed)  # type: ignore[attr-defined]
        connected = lambda r: getattr(r, "connected_at", None) is not None  # noqa: E731
        wait_for(c.call_did_change, w.gate.dial.click, until=connected)
        say("CONNECTED")
        wait_for(c.call_did_change, w.script.verify_button.click)
        wait_for(c.call_did_change, w.script.notice_button.click)
        ended = wait_for(c.call_did_end, w.gate.hangup.click)
        record_id = ended.id  # type: ignore[attr-defined]
        say("ENDED", record_id)
        w.memo.summary.setPlainText("Reset network settings together; data works again.")
        if scenario == "crash-memo":
            typed = w.memo.summary.toPlainText()

            def on_disk(_ok: object) -> bool:
                with graph.store.unit_of_work(read_only=True) as uow:
                    stored = uow.calls.get(record_id)
                return stored is not None and stored.memo.summary == typed

            # The autosave after the last keystroke, not the save made at hang-up.
            wait_for(c.draft_did_save, until=on_disk, timeout_s=5)
            say("DRAFT-SAVED", record_id)
            while True:  # until the test kills us, as a power cut would
                app.processEvents()
                time.sleep(0.05)
        w.memo.response.setPlainText("Customer confirmed; will call back if it drops again.")
        w.memo.pay_none.setChecked(True)
        settle(100)
        wait_for(c.record_did_close, w.memo.close_button.click)
        say("CLOSED", record_id)
        return 0
    finally:
        w.close()
        desktop.close()
        graph.close()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
