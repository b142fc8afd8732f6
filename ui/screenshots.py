"""Screenshots of every step of a call, taken offscreen against the real demo line.

    python -m ui.screenshots OUT_DIR      (or: make screenshots)

The clock is fixed at a moment inside the calling window for Chicago and outside it for
Honolulu, so the pictures are the same every time; the SIP call itself is real. Besides the
1366×768 light pictures: the blocked gate in the dark theme, the same on a 4K screen at 200 %
(a second process with QT_SCALE_FACTOR=2: the scale is fixed when Qt starts), and a team
leader's callbacks with every agent's overdue ones. Text a user would see cut is printed.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from PySide6.QtCore import QEventLoop, QTimer, SignalInstance
from PySide6.QtWidgets import QApplication, QVBoxLayout, QWidget

from app import bootstrap
from app.domain.agent import Agent
from app.domain.clock import FixedClock
from app.domain.commitment import CallbackRequest
from app.domain.enums import AgentState, CallReason, NotificationTemplate, Team
from app.ports.store import Shift
from app.services.callbacks import Commitments
from app.services.lines import LineStatus
from ui.application import open_desktop, route_qt_messages
from ui.controller import DeskController
from ui.main_window import MainWindow
from ui.theme import clipped, dark_palette
from ui.widgets.callbacks import CallbacksPanel

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


def shoot(widget: QWidget, path: Path) -> None:
    """Save the picture, and say on the terminal what text in it is cut."""
    widget.grab().save(str(path))
    for problem in clipped(widget):
        print(f"{path.name}: cut: {problem}", file=sys.stderr)


@contextmanager
def dark_theme() -> Iterator[None]:
    """What the desktop looks like when the system scheme is dark (Fusion's dark palette)."""
    light = QApplication.palette()
    QApplication.setPalette(dark_palette())
    settle()
    try:
        yield
    finally:
        QApplication.setPalette(light)
        settle()


# Other agents of the demo center and the promises they let slip, for the leader's view.
TEAM = (Agent("mreyes", "Marcus Reyes", Team.CARE), Agent("jtanaka", "Jo Tanaka", Team.CARE),
        Agent("sokafor", "Sam Okafor", Team.SERVICE_ASSURANCE))
SLIPPED = (("demo-agent", "demo-ana-garcia", 9, 15, "America/Chicago"),
           ("mreyes", "demo-marcus-johnson", 9, 30, "America/New_York"),
           ("sokafor", "demo-aisha-bello", 10, 30, "America/New_York"),
           ("jtanaka", "demo-liam-oconnor", 9, 45, "America/Chicago"))


def leader_view(graph: bootstrap.AppGraph, out: Path) -> None:
    """COMMIT: overdue promises are flagged to the supervisor: a leader's callbacks panel over
    the same store, after agents let callbacks slip earlier in the morning."""
    store, pack = graph.store, graph.pack
    morning = FIXED_NOW - timedelta(hours=3)  # 7 a.m. in Chicago, when the promises were made
    with store.unit_of_work() as uow:
        for agent in TEAM:
            if uow.agents.get(agent.id) is None:
                uow.agents.add(agent)
        for i, agent_id in enumerate({s[0] for s in SLIPPED}):
            uow.shifts.add(Shift(f"shot-shift-{i}", agent_id, morning, FIXED_NOW + timedelta(
                hours=6)))
        uow.commit()
        agents = {a.id: a for a in (*TEAM, graph.desk.agent)}
    for owner, customer, hour, minute, zone in SLIPPED:
        by = Commitments(store=store, pack=pack, clock=FixedClock(morning), agent=agents[owner])
        local = FIXED_NOW.astimezone(ZoneInfo(zone)).replace(hour=hour, minute=minute,
                                                             second=0, tzinfo=None)
        by.schedule(CallbackRequest(customer, local, zone, CallReason.TROUBLESHOOTING))
    lead = Agent("demo-lead", "Lee Alvarez", Team.LEADER)
    with store.unit_of_work() as uow:
        if uow.agents.get(lead.id) is None:
            uow.agents.add(lead)
            uow.commit()
    clock = FixedClock(FIXED_NOW)
    board = Commitments(store=store, pack=pack, clock=clock, agent=lead).board()
    frame = QWidget()  # the panel as it sits in its tab: with the window's margins
    frame.setWindowTitle("Callwise — callbacks, team leader")
    panel = CallbacksPanel(clock)
    QVBoxLayout(frame).addWidget(panel)
    frame.resize(900, 640)
    panel.show_board(board)
    frame.show()
    settle()
    shoot(frame, out / "22-leader-overdue.png")
    frame.close()


def until(condition: Callable[[], bool], timeout_s: float = 15.0) -> None:
    """Let the event loop run until `condition()` holds (for facts that may already be true)."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out waiting for {condition}")
        settle(50)


def consult_view(w: MainWindow, c: DeskController, out: Path) -> None:
    """OB-ALTNUMBER: Ana calls in, the agent presses Consult and dials the number she gives.

    Both lines are real calls: "Demo: have a customer call me" has the demo line ring the agent
    from Ana's number (line one), and line two is a call to the demo line placed through the
    gate.
    """
    def named() -> bool:
        return c.lines.one is not None and bool(c.lines.one.who) and w.lines.incoming.isVisible()

    w.demo_ring_action.trigger()
    until(named)
    settle()
    shoot(w, out / "11-incoming-call.png")
    wait_for(c.card_did_load, w.lines.answer.click)
    until(lambda: c.lines.one is not None and c.lines.one.status is LineStatus.TALKING)
    w.lines.consult.click()
    until(lambda: c.lines.one is not None and c.lines.one.status is LineStatus.HELD)
    w.lines.number.setText("(312) 555-0188")
    connected = lambda r: getattr(r, "connected_at", None) is not None  # noqa: E731
    wait_for(c.call_did_change, w.lines.dial_two.click, until=connected)
    settle()
    shoot(w, out / "12-consult-two-lines.png")
    w.lines.end_one.click()
    until(lambda: c.lines.one is None)
    wait_for(c.call_did_end, w.gate.hangup.click)


def hidpi(out: Path) -> int:
    """The blocked gate on a 3840×2160 screen at 200 %: run in its own process, see main()."""
    route_qt_messages()
    _app = QApplication.instance() or QApplication(sys.argv[:1])
    with tempfile.TemporaryDirectory() as tmp:
        graph = bootstrap.build(demo=True, data_dir_override=tmp, clock=FixedClock(FIXED_NOW))
        desktop = open_desktop(graph)
        w, c = desktop.window, desktop.controller
        w.resize(1920, 1080)  # logical pixels: 3840×2160 on the screen
        w.show()
        try:
            registered = lambda e: bool(getattr(e, "registered", False))  # noqa: E731
            wait_for(c.registration_did_change, graph.start_phone, until=registered)
            wait_for(c.customers_did_load, c.start)
            wait_for(c.customers_did_load, lambda: w.search.query.setText("Keoni"))
            wait_for(c.verdict_did_change, lambda: w.search.results.setCurrentRow(0))
            settle()
            shoot(w, out / "21-4k-gate-blocked.png")
        finally:
            desktop.window.close()
            desktop.close()
            graph.close()
    return 0


def run_hidpi(out: Path) -> None:
    env = dict(os.environ, QT_SCALE_FACTOR="2", QT_QPA_PLATFORM="offscreen")
    subprocess.run([sys.executable, "-m", "ui.screenshots", str(out), "--hidpi"], env=env,
                   check=True, timeout=120)


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
            with dark_theme():
                shoot(w, out / "20-dark-gate-blocked.png")

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
            consult_view(w, c, out)
            leader_view(graph, out)
        finally:
            desktop.window.close()
            desktop.close()
            graph.close()
    run_hidpi(out)
    print(f"screenshots written to {out}")
    return 0


if __name__ == "__main__":
    where = Path(sys.argv[1] if len(sys.argv) > 1 else "docs/screenshots")
    sys.exit(hidpi(where) if "--hidpi" in sys.argv[2:] else main(where))
