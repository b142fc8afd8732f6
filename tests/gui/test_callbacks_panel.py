"""Callbacks on screen: the agent sees what is due and how late, and promises new ones in a dialog
that says why a time or a reason is refused and who will make the call.

The panel and the dialog are built directly (no main window) over the real Commitments service,
a real SQLite store with the demo customers, the real single-worker TaskRunner and the app's own
DeskController (only the phone is a fake). The whole window is covered by
test_callbacks_in_window.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from PySide6.QtCore import QDate, Qt, QTime
from PySide6.QtWidgets import QTreeWidget, QTreeWidgetItem, QWidget
from pytestqt.qtbot import QtBot

from app.demo.customers import DEMO_AGENT_ID, demo_agent, seed_demo
from app.domain.agent import Agent
from app.domain.clock import FixedClock
from app.domain.commitment import CallbackRequest
from app.domain.enums import CallReason, Team
from app.domain.errors import CallwiseError
from app.policy.pack import load_pack
from app.ports.store import CallbackStatus, Shift, Store
from app.services.callbacks import (
    CallbackBoard,
    Commitments,
    SchedulingContext,
)
from app.services.desk import Desk
from app.storage import open_store
from tests.gui.conftest import FakePhone
from ui.controller import DeskController
from ui.tasks import TaskRunner
from ui.theme import LIGHT
from ui.widgets.callbacks import CallbacksPanel, ScheduleCallbackDialog

NOW = datetime(2026, 11, 20, 16, 0, tzinfo=UTC)  # Friday 10:00 AM in Chicago
ANA = "demo-ana-garcia"


def open_dialog(wiring: DeskController, context: SchedulingContext,
                parent: QWidget | None = None) -> ScheduleCallbackDialog:
    """What the main window does on `scheduling_did_open`."""
    dialog = ScheduleCallbackDialog(context, parent)
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    dialog.check_was_requested.connect(wiring.check_callback)
    dialog.schedule_was_requested.connect(wiring.schedule_callback)
    wiring.callback_check_did_finish.connect(dialog.show_check)
    wiring.callback_was_refused.connect(dialog.show_refusal)
    wiring.callback_did_schedule.connect(dialog.scheduled)
    dialog.open()
    return dialog


def connect_panel(wiring: DeskController, panel: CallbacksPanel) -> None:
    """What the main window does for the panel."""
    panel.call_was_requested.connect(wiring.call_callback)
    panel.take_was_requested.connect(wiring.take_callback)
    panel.cancel_was_requested.connect(wiring.cancel_callback)
    panel.refresh_was_requested.connect(wiring.refresh_callbacks)
    wiring.callbacks_did_load.connect(panel.show_board)


@dataclass
class Rig:
    store: Store
    clock: FixedClock
    commitments: Commitments
    wiring: DeskController  # the app's real controller
    panel: CallbacksPanel
    qtbot: QtBot

    def load(self) -> CallbackBoard:
        with self.qtbot.waitSignal(self.wiring.callbacks_did_load, timeout=5000) as got:
            self.wiring.refresh_callbacks()
        board: CallbackBoard = got.args[0]
        return board

    def promise(self, customer: str, local: datetime, zone: str = "America/Chicago") -> str:
        return self.commitments.schedule(CallbackRequest(customer, local, zone,
                                                         CallReason.TROUBLESHOOTING)).id

    def dialog(self, customer: str = ANA) -> ScheduleCallbackDialog:
        with self.store.unit_of_work(read_only=True) as uow:
            self.wiring.customer = uow.customers.get(customer)  # the customer on the card
        with self.qtbot.waitSignal(self.wiring.scheduling_did_open, timeout=5000) as got:
            self.wiring.open_scheduling()
        dialog = open_dialog(self.wiring, got.args[0], self.panel)
        self.qtbot.waitUntil(lambda: dialog.verdict.text() not in ("", "Checking…"),
                             timeout=5000)
        return dialog


def make_rig(qtbot: QtBot, tmp_path: Path, runner: TaskRunner,
             agent: Agent | None = None) -> Rig:
    store = open_store(f"sqlite:///{tmp_path / 'callbacks.sqlite3'}")
    seed_demo(store)
    agent = agent or demo_agent()
    with store.unit_of_work() as uow:
        if uow.agents.get(agent.id) is None:
            uow.agents.add(agent)
        # The demo agent works 8 AM - 6 PM Chicago today.
        uow.shifts.add(Shift("dana-fri", DEMO_AGENT_ID, NOW - timedelta(hours=2),
                             NOW + timedelta(hours=8)))
        uow.commit()
    clock = FixedClock(NOW)
    commitments_pack = load_pack(None)
    commitments = Commitments(store=store, pack=commitments_pack, clock=clock, agent=agent)
    desk = Desk(store=store, pack=commitments_pack, phone=FakePhone(), clock=clock, agent=agent,
                sip_domain="pbx.test")
    wiring = DeskController(runner, {}, clock=clock)
    wiring.use_records(desk, commitments, store)
    panel = CallbacksPanel(clock)
    qtbot.addWidget(panel)
    connect_panel(wiring, panel)
    panel.show()
    return Rig(store, clock, commitments, wiring, panel, qtbot)


@pytest.fixture
def runner() -> Iterator[TaskRunner]:
    r = TaskRunner()
    yield r
    r.drain()


@pytest.fixture
def rig(qtbot: QtBot, tmp_path: Path, runner: TaskRunner) -> Iterator[Rig]:
    r = make_rig(qtbot, tmp_path, runner)
    yield r
    r.wiring.shutdown()
    runner.drain()
    r.store.close()


def row(tree: QTreeWidget, index: int) -> QTreeWidgetItem:
    item = tree.topLevelItem(index)
    assert item is not None, f"no row {index} in {tree.accessibleName()}"
    return item


def rows(panel: CallbacksPanel, tree: str = "mine") -> list[list[str]]:
    widget: QTreeWidget = getattr(panel, tree)
    return [[row(widget, i).text(c) for c in range(4)] for i in range(widget.topLevelItemCount())]


# -- the panel --------------------------------------------------------------------------------

def test_overdue_callbacks_are_red_with_how_late_and_due_soon_ones_amber(rig: Rig) -> None:
    late = rig.promise(ANA, datetime(2026, 11, 20, 10, 15))
    rig.promise("demo-liam-oconnor", datetime(2026, 11, 20, 11, 30))
    rig.promise("demo-grace-lee", datetime(2026, 11, 20, 12, 0), "America/Los_Angeles")
    rig.clock.advance(timedelta(hours=1, minutes=10))  # 11:10 AM in Chicago
    rig.load()
    shown = rows(rig.panel)
    assert [r[2] for r in shown] == ["Ana García", "Liam O'Connor", "Grace Lee"]
    assert shown[0][0] == "Overdue by 55 min"
    assert shown[0][1] == "Fri Nov 20, 10:15 AM CST"
    assert shown[1][0] == "Due in 20 min"
    assert shown[2][0] == "Due in 2 h 50 min"
    first = row(rig.panel.mine, 0)
    assert first.foreground(0).color().name() == LIGHT.error and first.font(0).bold()
    assert row(rig.panel.mine, 1).foreground(0).color().name() == LIGHT.warn
    assert not row(rig.panel.mine, 2).font(0).bold()
    summary = rig.panel.summary.text()
    assert summary.startswith("1 overdue · 1 due soon · 3 open callbacks")
    assert first.data(0, Qt.ItemDataRole.AccessibleTextRole).startswith(
        "Overdue by 55 min: Ana García")
    assert first.data(0, Qt.ItemDataRole.UserRole) == late


def test_a_callback_turns_red_the_minute_it_is_late_without_reloading(rig: Rig) -> None:
    rig.promise(ANA, datetime(2026, 11, 20, 10, 20))
    rig.load()
    assert rows(rig.panel)[0][0] == "Due in 20 min"
    rig.clock.advance(timedelta(minutes=22))
    rig.panel.tick()  # what the panel's own timer does every half minute
    assert rows(rig.panel)[0][0] == "Overdue by 2 min"
    assert row(rig.panel.mine, 0).foreground(0).color().name() == LIGHT.error


def test_call_now_carries_the_customer_and_the_callback(rig: Rig) -> None:
    cb = rig.promise(ANA, datetime(2026, 11, 20, 10, 30))
    rig.load()
    assert not rig.panel.call_now.isEnabled()
    rig.panel.mine.setCurrentItem(row(rig.panel.mine, 0))
    with rig.qtbot.waitSignal(rig.panel.call_was_requested, timeout=2000) as asked:
        rig.panel.call_now.click()
    assert asked.args == [ANA, cb]
    with rig.qtbot.waitSignal(rig.wiring.context_did_load, timeout=5000) as ready:
        rig.panel.call_was_requested.emit(ANA, cb)
    context = ready.args[0]
    assert context.reason is CallReason.TROUBLESHOOTING and rig.wiring.callback_id == cb


def test_cancelling_needs_a_reason_and_removes_it_from_the_list(rig: Rig) -> None:
    cb = rig.promise(ANA, datetime(2026, 11, 20, 15, 0))
    rig.load()
    rig.panel.mine.setCurrentItem(row(rig.panel.mine, 0))
    assert not rig.panel.cancel.isEnabled()
    rig.panel.cancel_reason.setText("Customer fixed it and asked us not to call")
    with rig.qtbot.waitSignal(rig.wiring.callbacks_did_load, timeout=5000):
        rig.panel.cancel.click()
    assert rows(rig.panel) == []
    assert rig.panel.summary.text() == "No open callbacks."
    with rig.store.unit_of_work(read_only=True) as uow:
        stored = uow.callbacks.get(cb)
    assert stored is not None and stored.status is CallbackStatus.CANCELLED


def test_a_queued_callback_is_taken_from_the_team_queue(rig: Rig) -> None:
    monday = datetime(2026, 11, 23, 11, 0)  # no shift recorded for Monday yet
    cb = rig.promise(ANA, monday)
    rig.load()
    assert rows(rig.panel) == [] and len(rows(rig.panel, "queue")) == 1
    assert rows(rig.panel, "queue")[0][3] == f"Care · {DEMO_AGENT_ID}"
    assert "Your team's assignment queue" in rig.panel.queue_title.text()
    assert not rig.panel.overdue.isVisible()
    rig.panel.queue.setCurrentItem(row(rig.panel.queue, 0))
    with rig.qtbot.waitSignal(rig.wiring.error_did_occur, timeout=5000) as refused:
        rig.panel.take.click()
    assert "outside your shifts" in refused.args[0].message
    start = datetime(2026, 11, 23, 14, 0, tzinfo=UTC)
    with rig.store.unit_of_work() as uow:
        uow.shifts.add(Shift("dana-mon", DEMO_AGENT_ID, start, start + timedelta(hours=8)))
        uow.commit()
    rig.panel.queue.setCurrentItem(row(rig.panel.queue, 0))
    with rig.qtbot.waitSignal(rig.wiring.callbacks_did_load, timeout=5000):
        rig.panel.take.click()
    assert rows(rig.panel, "queue") == []
    assert row(rig.panel.mine, 0).data(0, Qt.ItemDataRole.UserRole) == cb


def test_a_leader_sees_every_agents_overdue_callbacks(
        qtbot: QtBot, tmp_path: Path, runner: TaskRunner) -> None:
    lead = Agent("lee", "Lee Leader", Team.LEADER)
    r = make_rig(qtbot, tmp_path, runner, agent=lead)
    try:
        dana = Commitments(store=r.store, pack=load_pack(None), clock=r.clock, agent=demo_agent())
        dana.schedule(CallbackRequest(ANA, datetime(2026, 11, 20, 10, 30), "America/Chicago",
                                      CallReason.TROUBLESHOOTING))
        r.clock.advance(timedelta(hours=1))
        r.load()
        assert r.panel.overdue.isVisible()
        assert rows(r.panel, "overdue") == [["Overdue by 30 min", "Fri Nov 20, 10:30 AM CST",
                                             "Ana García", demo_agent().name]]
        assert "every team" in r.panel.queue_title.text()
    finally:
        r.wiring.shutdown()
        runner.drain()
        r.store.close()


# -- the scheduling dialog --------------------------------------------------------------------

def set_when(dialog: ScheduleCallbackDialog, day: int, hour: int, minute: int = 0) -> None:
    dialog.date.setDate(QDate(2026, 11, day))
    dialog.time.setTime(QTime(hour, minute))


def settle(rig: Rig, dialog: ScheduleCallbackDialog, expect: str) -> str:
    rig.qtbot.waitUntil(lambda: expect in dialog.verdict.text(), timeout=5000)
    return dialog.verdict.text()


def test_the_dialog_asks_on_the_customers_clock_and_shows_the_zone(rig: Rig) -> None:
    dialog = rig.dialog()
    assert dialog.zone.currentData() == "America/Chicago" and not dialog.zone.isEnabled()
    assert "America/Chicago (CST, UTC−06:00 now)" in dialog.zone_note.text()
    assert "service address" in dialog.zone_note.text()
    assert dialog.hours.text() == "Calling hours: 9:00 AM–8:00 PM"
    # Proposed: the first quarter hour at least an hour ahead, inside the window.
    assert dialog.time.time() == QTime(11, 0) and dialog.date.date() == QDate(2026, 11, 20)
    assert dialog.verdict.text().startswith("✔ Fri Nov 20, 11:00 AM CST")
    assert "you keep this callback" in dialog.placement.text()
    assert dialog.schedule_button.isEnabled()


def test_outside_the_window_the_dialog_says_so_and_refuses(rig: Rig) -> None:
    dialog = rig.dialog()
    set_when(dialog, 20, 21, 0)
    text = settle(rig, dialog, "OB-WINDOW")
    assert "9:00 PM in Chicago" in text and "9:00 AM–8:00 PM" in text
    assert not dialog.schedule_button.isEnabled()
    assert dialog.placement.text() == ""


def test_an_excluded_reason_is_named_and_refused(rig: Rig) -> None:
    dialog = rig.dialog()
    dialog.reason.setCurrentIndex(dialog.reason.findData(CallReason.CUSTOMER_DISCONNECTED))
    text = settle(rig, dialog, "OB-NOCALLBACK")
    assert "customer clearly ended the last call" in text
    assert not dialog.directed.isEnabled()  # no policy lifts this one
    assert not dialog.schedule_button.isEnabled()


def test_a_sales_callback_needs_the_directing_policy_and_its_reference(rig: Rig) -> None:
    dialog = rig.dialog()
    dialog.reason.setCurrentIndex(dialog.reason.findData(CallReason.SALES))
    assert "unless a policy" in settle(rig, dialog, "OB-NOCALLBACK")
    assert dialog.directed.isEnabled() and not dialog.policy_ref.isEnabled()
    dialog.directed.setChecked(True)
    assert "reference" in settle(rig, dialog, "Give the reference")
    dialog.policy_ref.setText("MKT-2026-11")
    settle(rig, dialog, "✔")
    assert dialog.schedule_button.isEnabled()


def test_outside_the_owners_shift_the_dialog_says_it_goes_to_the_queue_and_it_does(
        rig: Rig) -> None:
    dialog = rig.dialog()
    set_when(dialog, 23, 11, 0)  # Monday: no shift recorded
    settle(rig, dialog, "✔ Mon Nov 23, 11:00 AM CST")
    assert "Care assignment queue" in dialog.placement.text()
    dialog.note.setPlainText("Confirm the replacement SIM works")
    settle(rig, dialog, "✔")
    closed: list[bool] = []
    dialog.accepted.connect(lambda: closed.append(True))
    with rig.qtbot.waitSignal(rig.wiring.callbacks_did_load, timeout=5000) as loaded:
        dialog.schedule_button.click()
    assert closed == [True]  # the dialog closes once the promise is stored
    board: CallbackBoard = loaded.args[0]
    assert board.mine == () and len(board.queue) == 1
    assert board.queue[0].note == "Confirm the replacement SIM works"
    assert rows(rig.panel, "queue")[0][2] == "Ana García"


def test_scheduling_inside_the_shift_puts_it_on_my_list(rig: Rig) -> None:
    dialog = rig.dialog()
    set_when(dialog, 20, 15, 30)
    settle(rig, dialog, "✔ Fri Nov 20, 3:30 PM CST")
    with rig.qtbot.waitSignal(rig.wiring.callbacks_did_load, timeout=5000):
        dialog.schedule_button.click()
    assert rows(rig.panel) == [["Due in 5 h 30 min", "Fri Nov 20, 3:30 PM CST", "Ana García",
                                "Troubleshooting"]]


def test_time_passing_while_the_dialog_is_open_is_caught_at_the_point_of_action(
        rig: Rig) -> None:
    dialog = rig.dialog()
    set_when(dialog, 20, 10, 30)
    settle(rig, dialog, "✔ Fri Nov 20, 10:30 AM CST")
    rig.clock.advance(timedelta(hours=1))  # the screen still says it is fine
    with rig.qtbot.waitSignal(rig.wiring.callback_was_refused, timeout=5000) as refused:
        dialog.schedule_button.click()
    error: CallwiseError = refused.args[0]
    assert "already passed" in error.message
    assert dialog.isVisible() and "already passed" in dialog.verdict.text()
    with rig.store.unit_of_work(read_only=True) as uow:
        assert uow.callbacks.open_for_customer(ANA) == []


def test_a_number_spanning_two_zones_lets_the_agent_pick_the_customers_zone(rig: Rig) -> None:
    dialog = rig.dialog("demo-emily-carter")
    assert dialog.zone.isEnabled() and dialog.zone.count() == 2
    dialog.zone.setCurrentIndex(dialog.zone.findData("America/Boise"))
    set_when(dialog, 20, 9, 30)
    text = settle(rig, dialog, "OB-WINDOW")
    assert "9:30 AM in Boise" in text and "8:30 AM in Los Angeles" in text
