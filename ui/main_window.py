"""The agent desktop: search on the left, the customer and the dial gate in the middle, the script
and the memo on the right. Laid out for 1366×768 first; everything reachable from the keyboard.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QSplitter,
    QStatusBar,
    QTabWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from app.domain.agent import Agent
from app.domain.call import CallRecord, CallState
from app.domain.commitment import Urgency, urgency
from app.domain.enums import AgentState, CallOrigin, CallOutcome, NotificationTemplate
from app.domain.errors import CallwiseError, DialBlocked
from app.domain.memo import Memo
from app.ports.phone import RegistrationChanged
from app.ports.store import Notification, SyncStatus
from ui.controller import DeskController
from ui.theme import chars_wide, tint
from ui.widgets.callbacks import CallbacksPanel, ScheduleCallbackDialog
from ui.widgets.card import CustomerCardView
from ui.widgets.dialogs import ConsentDialog, SaEmailDialog, ZoneDialog
from ui.widgets.gate import DialGateView
from ui.widgets.lines import LinesPanel
from ui.widgets.memo import MemoForm
from ui.widgets.script import ScriptPanel, ScriptTexts
from ui.widgets.search import SearchPanel

if TYPE_CHECKING:  # these arrive with the records: the window is built before the policy loads
    from app.policy.engine import Verdict
    from app.services.callbacks import CallbackBoard, SchedulingContext
    from app.services.desk import CustomerCard


class MainWindow(QMainWindow):
    def __init__(self, controller: DeskController, parent: QWidget | None = None) -> None:
        """The policy pack's script and version come with the records (`use_policy`)."""
        super().__init__(parent)
        self.controller = controller
        self.active_dialog: QDialog | None = None
        c = controller
        self.setWindowTitle("Callwise — agent desktop")
        self.resize(1366, 768)

        # Top bar: who I am, my state, my phone line, the policy in force.
        self.agent_label = QLabel()
        self.agent_label.setAccessibleName("Agent")
        self.state = QComboBox()
        self.state.setAccessibleName("Agent state")
        for s in AgentState:
            self.state.addItem(s.label, s)
        self.offline = QLabel("")
        self.offline.setAccessibleName("Central records status")
        self.due = QLabel("")
        self.due.setAccessibleName("Callbacks due")
        self.registration = QLabel("● Phone: connecting…")
        self.registration.setAccessibleName("Phone line status")
        self.registration.setObjectName("registration")
        # A usual reason ("401 wrong password, retrying in 5 s") on one line; a longer one takes
        # a second line rather than push the window past 1366 px.
        self.registration.setWordWrap(True)
        self.registration.setMinimumWidth(chars_wide(self.registration, 66))
        self.registration.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.pack = QLabel("Policy pack loading…")
        self.pack.setAccessibleName("Policy pack")
        tint(self.pack, "muted")
        top = QHBoxLayout()
        top.addWidget(self.agent_label)
        top.addWidget(QLabel("State (Ctrl+T):"))
        top.addWidget(self.state)
        top.addStretch(1)
        top.addWidget(self.offline)
        top.addSpacing(16)
        top.addWidget(self.due)
        top.addSpacing(16)
        top.addWidget(self.registration)
        # Sound devices: the dialog and its wiring are ui.widgets.audio (see ui.application).
        self.audio_action = QAction("Audio devices…", self)
        self.audio_action.setShortcut(QKeySequence("Ctrl+Shift+O"))
        self.audio_action.setToolTip("Choose the microphone, speaker and ring device (Ctrl+Shift+O)")
        self.addAction(self.audio_action)
        audio_button = QToolButton()
        audio_button.setDefaultAction(self.audio_action)
        audio_button.setAccessibleName("Audio devices")
        top.addWidget(audio_button)
        # `callwise --demo` only: the demo line has a demo customer call in (app.demo.line).
        self.demo_ring_action = QAction("Demo: have a customer call me", self)
        self.demo_ring_action.setShortcut(QKeySequence("Ctrl+Shift+R"))
        self.demo_ring_action.setToolTip("The demo line rings you from a demo customer's number, "
                                         "to try an inbound call and Consult (Ctrl+Shift+R)")
        demo = controller.demo_ring_available
        self.demo_ring_action.setVisible(demo)
        self.demo_ring_action.setEnabled(demo)
        self.addAction(self.demo_ring_action)
        self.demo_ring_button = QToolButton()
        self.demo_ring_button.setDefaultAction(self.demo_ring_action)
        self.demo_ring_button.setAccessibleName("Demo: have a customer call me")
        self.demo_ring_button.setVisible(demo)
        top.addWidget(self.demo_ring_button)
        top.addSpacing(16)
        top.addWidget(self.pack)

        self.search = SearchPanel()
        self.card = CustomerCardView(c.clock)
        self.gate = DialGateView()
        middle = QWidget()
        mid_layout = QVBoxLayout(middle)
        mid_layout.setContentsMargins(0, 0, 0, 0)
        mid_layout.addWidget(self.card)
        self.lines = LinesPanel()  # hidden until a call rings in (OB-ALTNUMBER consult flow)
        mid_layout.addWidget(self.lines)
        mid_layout.addWidget(self.gate, 1)

        self.script = ScriptPanel()
        self.memo = MemoForm()
        self.tabs = QTabWidget()
        self.tabs.setAccessibleName("Call work")
        self.tabs.addTab(self.script, "On the call  (Alt+1)")
        self.tabs.addTab(self.memo, "Memo  (Alt+2)")

        self.callbacks = CallbacksPanel(c.clock)
        self.tabs.addTab(self.callbacks, "Callbacks  (Alt+3)")
        self.tabs.setCurrentWidget(self.callbacks)  # what an idle agent looks at first
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(self.search)
        splitter.addWidget(middle)
        splitter.addWidget(self.tabs)
        splitter.setChildrenCollapsible(False)
        self.search.setMinimumWidth(250)
        middle.setMinimumWidth(460)
        self.tabs.setMinimumWidth(420)
        splitter.setStretchFactor(0, 0)
        splitter.setStretchFactor(1, 3)
        splitter.setStretchFactor(2, 2)
        splitter.setSizes([270, 620, 470])

        central = QWidget()
        layout = QVBoxLayout(central)
        layout.addLayout(top)
        layout.addWidget(splitter, 1)
        self.setCentralWidget(central)
        self.setStatusBar(QStatusBar())
        self.records = QLabel("")  # "Opening records…" until the store is open (or why not)
        self.records.setAccessibleName("Call records status")
        self.statusBar().addPermanentWidget(self.records)

        # Keyboard-first.
        QShortcut(QKeySequence("Ctrl+F"), self, self._focus_search)
        QShortcut(QKeySequence("Ctrl+T"), self, self.state.setFocus)
        QShortcut(QKeySequence("Alt+1"), self, lambda: self.tabs.setCurrentIndex(0))
        QShortcut(QKeySequence("Alt+2"), self, lambda: self.tabs.setCurrentIndex(1))
        QShortcut(QKeySequence("Alt+3"), self, lambda: self.tabs.setCurrentIndex(2))

        # Views ask; the controller announces facts; views observe.
        self.search.search_was_requested.connect(c.search)
        self.search.customer_was_chosen.connect(c.select_customer)
        self.card.number.currentIndexChanged.connect(
            lambda _i: c.set_number(self.card.number.currentData() or ""))
        self.gate.context_did_change.connect(c.set_context)
        self.gate.action_was_requested.connect(self._fix)
        self.gate.dial_was_requested.connect(c.dial)
        self.gate.hangup_was_requested.connect(c.hangup)
        self.gate.hold_was_requested.connect(c.toggle_hold)
        self.gate.tones_were_typed.connect(c.send_dtmf)
        QShortcut(QKeySequence("Ctrl+K"), self, self.gate.keypad.setFocus)
        QShortcut(QKeySequence("Ctrl+B"), self, self._focus_callbacks)
        self.callbacks.call_was_requested.connect(c.call_callback)
        self.callbacks.take_was_requested.connect(c.take_callback)
        self.callbacks.cancel_was_requested.connect(c.cancel_callback)
        self.callbacks.schedule_was_requested.connect(c.open_scheduling)
        self.callbacks.refresh_was_requested.connect(c.refresh_callbacks)
        c.callbacks_did_load.connect(self.callbacks.show_board)
        c.callbacks_did_load.connect(self._count_callbacks)
        c.scheduling_did_open.connect(self._open_scheduling)
        c.context_did_load.connect(self.gate.show_context)
        c.callback_did_schedule.connect(lambda item: self.statusBar().showMessage(
            f"Callback promised to {item.customer_name} for {item.due_words()}.", 10_000))
        # Qt hands StrEnum item data back as plain str: rebuild the enum.
        self.state.activated.connect(
            lambda _i: c.set_agent_state(AgentState(self.state.currentData())))
        self.script.verification_was_confirmed.connect(c.verify_customer)
        self.script.notice_was_confirmed.connect(c.confirm_recording_notice)
        self.script.step_was_said.connect(c.confirm_script_step)
        c.steps_did_change.connect(self.script.show_steps_done)
        c.steps_did_change.connect(lambda _d: self._refresh_memo_check())
        self.memo.memo_did_change.connect(self._memo_changed)
        self.memo.close_was_requested.connect(c.close_record)

        c.customers_did_load.connect(self.search.show_customers)
        c.card_did_load.connect(self._card_loaded)
        c.verdict_did_change.connect(self._verdict)
        c.agent_did_change.connect(self._agent)
        c.registration_did_change.connect(self._registration)
        c.call_did_start.connect(self._call_changed)
        c.call_did_change.connect(self._call_changed)
        c.call_did_end.connect(self._call_ended)
        c.record_did_reopen.connect(self._reopened)
        c.record_did_close.connect(self._closed)
        c.draft_did_save.connect(
            lambda ok: self.memo.show_saved(ok, datetime.now().strftime("at %H:%M:%S")))
        c.notification_did_finish.connect(self._notification)
        c.dial_was_blocked.connect(self._blocked)
        c.hold_did_change.connect(self.gate.show_held)
        c.sync_did_change.connect(self._sync)
        # Line one (inbound) and line two (consult), OB-ALTNUMBER.
        self.lines.answer_was_requested.connect(c.answer)
        self.lines.decline_was_requested.connect(c.decline)
        self.lines.consult_was_requested.connect(c.consult)
        self.lines.consult_dial_was_requested.connect(c.dial_consult)
        self.lines.back_was_requested.connect(c.back_to_line_one)
        self.lines.end_one_was_requested.connect(c.end_line_one)
        self.lines.resume_two_was_requested.connect(c.resume_line_two)
        self.card.alternate_was_entered.connect(c.use_alternate)
        self.demo_ring_action.triggered.connect(c.ring_me)
        c.lines_did_change.connect(self.lines.show_lines)
        c.consult_did_open.connect(self.lines.show_consult_open)
        c.consult_was_refused.connect(self.lines.show_refusal)
        c.line_did_end.connect(self.lines.show_outcome)
        c.line_did_end.connect(lambda text: self.statusBar().showMessage(text, 15_000))
        c.alternate_did_change.connect(self.card.show_alternate)
        c.alternate_was_refused.connect(self.card.show_alternate_refusal)
        c.message_did_arrive.connect(lambda text: self.statusBar().showMessage(text, 10_000))
        c.error_did_occur.connect(self._error)
        self._update_call_widgets(None)

    # -- observers -----------------------------------------------------------------------------

    def _focus_search(self) -> None:
        self.search.query.setFocus()
        self.search.query.selectAll()

    def _card_loaded(self, card: CustomerCard) -> None:
        self.card.show_card(card, self.controller.number, self.controller.desk.attempt_cap(),
                            self.controller.alternate)
        self.callbacks.set_can_schedule(True)
        self.script.set_customer(card.customer)

    def _verdict(self, verdict: Verdict) -> None:
        self.gate.show_verdict(verdict)

    def _agent(self, agent: Agent) -> None:
        self.agent_label.setText(f"<b>{agent.name}</b> · {agent.team.value.replace('_', ' ').title()}")
        self.state.setCurrentIndex(self.state.findData(agent.state))

    def _registration(self, event: RegistrationChanged) -> None:
        if event.registered:
            self.registration.setText("● Phone: registered")
            tint(self.registration, "ok")
        else:
            retry = f", retrying in {event.retry_in_s:.0f}\u00a0s" if event.retry_in_s else ""
            self.registration.setText(f"● Phone: not registered ({event.reason}{retry})")
            tint(self.registration, "error")

    # -- the record store, opened after the window is shown (ui.application.open_records) ----

    def _needs_records(self) -> list[QWidget]:
        return [self.search, self.card, self.gate, self.tabs, self.state]

    def use_policy(self, texts: ScriptTexts, pack_version: str) -> None:
        """The policy pack, loaded with the records: its script and its version in the top bar."""
        self.script.use_texts(texts)
        self.pack.setText(f"Policy pack {pack_version}")

    def show_records_opening(self) -> None:
        for widget in self._needs_records():
            widget.setEnabled(False)
        self.records.setText("Opening records…")
        tint(self.records, None)

    def show_records_open(self) -> None:
        for widget in self._needs_records():
            widget.setEnabled(True)
        self.records.setText("")

    def show_records_failed(self, error: CallwiseError) -> None:
        """The controls stay disabled: without the policy pack or the records nothing can be
        checked or recorded, so nothing may be dialled. The error's sentence says which."""
        self.pack.setText("No policy pack in use")
        self.records.setText("Dialling is locked. " + error.said())
        self.records.setWordWrap(True)
        # Wide enough for a file, a line and the fix in two or three lines, not a narrow column.
        self.records.setMinimumWidth(chars_wide(self.records, 110))
        self.callbacks.summary.setText("No callbacks to show: the records are not open.")
        tint(self.records, "error")

    def _update_call_widgets(self, record: CallRecord | None) -> None:
        in_call = record is not None and record.outcome is None
        status = ""
        if record is not None:
            status = (f"{record.state.label}: {record.dial_string}" if in_call else
                      f"Ended: {record.outcome.label if record.outcome else ''}")
        self.gate.set_in_call(record is not None, status)
        self.gate.set_live(in_call, record is not None and record.connected_at is not None)
        self.script.show_record(record)
        self._refresh_memo_check()

    def _call_changed(self, record: CallRecord) -> None:
        self.tabs.setCurrentIndex(0)
        self._update_call_widgets(record)

    def _call_ended(self, record: CallRecord) -> None:
        self._update_call_widgets(record)
        if record.outcome is CallOutcome.DROPPED:
            # Seed 002: dropped calls are called back after the "Dropped Call" message.
            self.gate.origin.setCurrentIndex(self.gate.origin.findData(CallOrigin.DROPPED_CALL))
            self.statusBar().showMessage(
                "The call dropped. Finish the memo; the next call is set up as a dropped-call "
                "callback (send the “Dropped Call” message first).", 20_000)
        self.memo.load(record)
        self.tabs.setCurrentIndex(1)
        self._refresh_memo_check()
        self.memo.summary.setFocus() if record.reached_customer else self.memo.note.setFocus()

    def _reopened(self, record: CallRecord) -> None:
        self._call_ended(record)
        self.statusBar().showMessage(
            "This call record was left open; its memo draft is back. Complete it to close it.")

    def _closed(self, record: CallRecord) -> None:
        self._update_call_widgets(None)
        self.tabs.setCurrentIndex(0)
        outcome = record.outcome.label if record.outcome else ""
        self.statusBar().showMessage(f"Call record closed ({outcome}).", 10_000)
        self.controller.refresh_gate()

    def _memo_changed(self, memo: Memo) -> None:
        problems = self.controller.memo_problems(memo)
        if problems:
            self.memo.show_saved(False, "")
        else:
            self.controller.update_draft(memo)
        self._refresh_memo_check(memo, problems)

    def _refresh_memo_check(self, memo: Memo | None = None,
                            problems: list[str] | None = None) -> None:
        record = self.controller.record
        memo = memo or self.memo.memo()
        problems = problems if problems is not None else self.controller.memo_problems(memo)
        missing = self.controller.missing_for_close(memo) if record else []
        self.memo.show_check(problems, missing,
                             record is not None and record.state is CallState.WRAP_UP)

    def _sync(self, status: SyncStatus) -> None:
        """Offline is said plainly, with how much is waiting: nothing is lost, nothing hidden."""
        if not status.online:
            text = f"⚠ Offline – {status.pending} change(s) saved here, waiting to be sent"
        elif status.pending:
            text = f"Catching up – {status.pending} left"
        else:
            text = ""
        if status.rejected:
            text += f"  ⚠ {status.rejected} change(s) refused by the central store: tell IT"
        self.offline.setText(text)
        self.offline.setToolTip(status.last_error)
        tint(self.offline, "error" if text else None, bold=bool(text))

    def _focus_callbacks(self) -> None:
        self.tabs.setCurrentWidget(self.callbacks)
        self.callbacks.focus_list()

    def _count_callbacks(self, board: CallbackBoard) -> None:
        """COMMIT: overdue promises stay in sight whatever tab is open."""
        now = self.controller.desk.now()
        marks = [urgency(item.due_at, now) for item in board.mine]
        overdue, soon = marks.count(Urgency.OVERDUE), marks.count(Urgency.DUE_SOON)
        parts = ([f"{overdue} overdue"] if overdue else []) + ([f"{soon} due soon"] if soon else [])
        self.due.setText(f"⚠ Callbacks: {', '.join(parts)}" if parts else "")
        tint(self.due, "error" if overdue else "warn" if soon else None, bold=bool(overdue))
        self.tabs.setTabText(2, f"Callbacks ({len(board.mine)})  (Alt+3)")

    def _open_scheduling(self, context: SchedulingContext) -> None:
        dialog = ScheduleCallbackDialog(context, self)
        c = self.controller
        dialog.check_was_requested.connect(c.check_callback)
        dialog.schedule_was_requested.connect(c.schedule_callback)
        c.callback_check_did_finish.connect(dialog.show_check)
        c.callback_was_refused.connect(dialog.show_refusal)
        c.callback_did_schedule.connect(dialog.scheduled)
        self.active_dialog = dialog
        dialog.finished.connect(dialog.deleteLater)
        dialog.open()

    def _fix(self, action: object) -> None:
        name = getattr(action, "name", "")
        c = self.controller
        if name == "SEND_CUSTOMER_CALLBACK":
            c.send_notification(NotificationTemplate.CUSTOMER_CALLBACK)
        elif name == "SEND_DROPPED_CALL":
            c.send_notification(NotificationTemplate.DROPPED_CALL)
        elif name == "SWITCH_TO_FOLLOW_UP":
            c.set_agent_state(AgentState.NOT_READY_FOLLOW_UP)
        elif name == "SWITCH_TO_AFTER_CALL_WORK":
            c.set_agent_state(AgentState.AFTER_CALL_WORK)
        elif name == "RECORD_CONSENT" and c.customer is not None:
            self._open(ConsentDialog(c.customer, self.card.local_time.text(), self),
                       lambda d: c.record_consent(*d.values()))
        elif name == "RECORD_SERVICE_ZONE" and c.customer is not None:
            self._open(ZoneDialog(c.customer, self), lambda d: c.set_service_zone(d.value()))
        elif name == "SEND_SA_EMAIL" and c.customer is not None:
            zone = self.card.zone.text().split(" — ")[0]
            self._open(SaEmailDialog(c.customer, c.desk.now().date(), zone,
                                     c.context.ticket_ref, self),
                       lambda d: c.send_sa_email(*d.values()))
        elif name == "RECORD_POLICY_DIRECTION":
            self.gate.directed.setChecked(True)
            self.gate.ticket.setFocus()
            self.statusBar().showMessage("Enter the policy reference in the Ticket field.", 10_000)
        elif name == "EDIT_NUMBER":
            self.card.number.setFocus()
        else:
            self.statusBar().showMessage(f"“{getattr(action, 'label', name)}” is done on the "
                                         "call itself.", 10_000)

    def _open(self, dialog: QDialog, on_accept: Callable[[Any], None]) -> None:
        """Window-modal but non-blocking: the event loop (and the phone) keep running."""
        self.active_dialog = dialog
        dialog.accepted.connect(lambda: on_accept(dialog))
        dialog.finished.connect(dialog.deleteLater)
        dialog.open()

    def _notification(self, n: Notification) -> None:
        if n.delivered:
            self.statusBar().showMessage(f"Notification delivered to {n.destination}.", 10_000)
        else:
            self._error(CallwiseError(f"The notification was not delivered ({n.detail}); it does "
                                      "not count as sent.", action="Try again in a moment."))

    def _blocked(self, error: CallwiseError) -> None:
        """Said in the gate itself, not in a modal box: the agent keeps the keyboard."""
        title = "Dial blocked" if isinstance(error, DialBlocked) else "Cannot dial"
        self.gate.show_refusal(f"{title}: {error.said()}")
        self.statusBar().showMessage(error.message, 15_000)

    def _error(self, error: CallwiseError) -> None:
        self.statusBar().showMessage(error.said(), 15_000)

    def closeEvent(self, event: QCloseEvent) -> None:
        self.controller.shutdown()
        super().closeEvent(event)
