"""The dial gate as a live checklist: every rule's verdict, its reason, and the one click that fixes it.

The Dial button mirrors the verdict, but pressing it asks the desk to re-check at the point of
action; this view's verdict is never trusted to place a call.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QRegularExpression, Qt, Signal
from PySide6.QtGui import QKeySequence, QRegularExpressionValidator
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from app.domain.call import CallContext
from app.domain.enums import CallOrigin, CallReason
from ui.theme import Tone, Tones, emphasise, follow, tint, tones

if TYPE_CHECKING:  # verdicts arrive with the records; the window is built before the policy loads
    from app.policy.engine import RuleVerdict, Verdict

_MARK: dict[str, tuple[str, Tone, str]] = {
    "pass": ("✔", "ok", "passes"), "block": ("✖", "error", "blocks the call"),
    "not_applicable": ("–", "muted", "does not apply")}


class DialGateView(QWidget):
    context_did_change = Signal(object)  # CallContext
    action_was_requested = Signal(object)  # policy Action
    dial_was_requested = Signal()
    hangup_was_requested = Signal()
    hold_was_requested = Signal()
    tones_were_typed = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.origin = QComboBox()
        self.origin.setAccessibleName("Why you are calling: origin")
        for o in CallOrigin:
            self.origin.addItem(o.label, o)
        self.reason = QComboBox()
        self.reason.setAccessibleName("Reason for the call")
        for r in CallReason:
            self.reason.addItem(r.label, r)
        self.directed = QCheckBox("Directed by policy")
        self.directed.setAccessibleName("Directed by policy")
        self.directed.setToolTip("Activations and sales follow-ups are allowed only when policy "
                                 "directs them (OB-NOCALLBACK)")
        self.ticket = QLineEdit()
        self.ticket.setPlaceholderText("Ticket or email reference")
        self.ticket.setAccessibleName("Ticket or email reference")
        setup = QFormLayout()
        setup.addRow("&Origin", self.origin)
        setup.addRow("&Reason", self.reason)
        # The checkbox beside the ticket rather than on a line of its own: at 1366×768 that
        # line is the checklist's, where the last blocking rule's fix would otherwise scroll.
        ticket_row = QHBoxLayout()
        ticket_row.addWidget(self.ticket, 1)
        ticket_row.addWidget(self.directed)
        ticket_label = QLabel("&Ticket")
        ticket_label.setBuddy(self.ticket)  # a form row holding a layout sets no buddy itself
        setup.addRow(ticket_label, ticket_row)

        self.summary = QLabel("Pick a customer to see whether a call may be placed now.")
        self.summary.setObjectName("gateSummary")
        self.summary.setWordWrap(True)
        self.summary.setAccessibleName("Dial gate summary")
        self._rows = QWidget()
        self._rows_layout = QGridLayout(self._rows)
        self._rows_layout.setColumnStretch(1, 1)
        self._rows_layout.setVerticalSpacing(6)
        margins = self._rows_layout.contentsMargins()  # no gap above the first (blocking) rule
        self._rows_layout.setContentsMargins(margins.left(), 0, margins.right(), 0)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(self._rows)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setAccessibleName("Dial gate checklist")

        self.dial = QPushButton("Dial  (Ctrl+D)")
        self.dial.setObjectName("dialButton")
        emphasise(self.dial)
        self.dial.setMinimumHeight(self.dial.sizeHint().height() + 6)  # the action that matters
        self.dial.setAccessibleName("Dial")
        self.dial.setShortcut(QKeySequence("Ctrl+D"))
        self.dial.setEnabled(False)
        self.hangup = QPushButton("Hang up  (Ctrl+E)")
        self.hangup.setObjectName("hangupButton")
        self.hangup.setAccessibleName("Hang up")
        self.hangup.setShortcut(QKeySequence("Ctrl+E"))
        self.hangup.setEnabled(False)
        self.hold = QPushButton("Hold  (Ctrl+H)")
        self.hold.setAccessibleName("Hold or resume the call")
        self.hold.setShortcut(QKeySequence("Ctrl+H"))
        self.hold.setCheckable(True)
        self.hold.setEnabled(False)
        self.keypad = QLineEdit()
        self.keypad.setPlaceholderText("Keypad: type digits, Enter sends  (Ctrl+K)")
        self.keypad.setAccessibleName("Keypad: tones to send on the call")
        self.keypad.setEnabled(False)
        self.keypad.setVisible(False)  # shown with the call record: between calls, room for rules
        self.keypad.setValidator(QRegularExpressionValidator(QRegularExpression(r"[0-9*#]{0,32}")))
        self.call_status = QLabel("")
        self.call_status.setAccessibleName("Call status")
        self.call_status.setVisible(False)  # its empty line is the checklist's between calls
        buttons = QHBoxLayout()
        buttons.addWidget(self.dial, 2)
        buttons.addWidget(self.hold, 1)
        buttons.addWidget(self.hangup, 1)
        controls = QHBoxLayout()
        controls.addWidget(self.keypad, 1)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(setup)
        title = QLabel("<b>Dial gate</b>")
        layout.addWidget(title)
        layout.addWidget(self.summary)
        layout.addWidget(scroll, 1)
        layout.addWidget(self.call_status)
        layout.addLayout(controls)
        layout.addLayout(buttons)

        self.origin.currentIndexChanged.connect(self._context_changed)
        self.reason.currentIndexChanged.connect(self._context_changed)
        self.directed.toggled.connect(self._context_changed)
        self.ticket.editingFinished.connect(self._context_changed)
        self.dial.clicked.connect(self.dial_was_requested)
        self.hangup.clicked.connect(self.hangup_was_requested)
        self.hold.clicked.connect(lambda _checked: self.hold_was_requested.emit())
        self.keypad.returnPressed.connect(self._send_tones)
        self._in_call = False
        self._live = False
        self._connected = False
        self._allowed = False
        self._reasons: list[tuple[QLabel, str, str]] = []  # blocked rules: label, head, reason
        self._shown_rules: tuple[RuleVerdict, ...] | None = None  # what the rows show now
        follow(self, self._recolour)

    def context(self) -> CallContext:
        # Qt hands StrEnum item data back as plain str: rebuild the enums.
        return CallContext(origin=CallOrigin(self.origin.currentData()),
                           reason=CallReason(self.reason.currentData()),
                           directed_by_policy=self.directed.isChecked(),
                           ticket_ref=self.ticket.text().strip())

    def show_context(self, context: CallContext) -> None:
        """Set by "Call now" on a callback: shown without echoing it back as a change."""
        widgets = (self.origin, self.reason, self.directed, self.ticket)
        for w in widgets:
            w.blockSignals(True)
        self.origin.setCurrentIndex(self.origin.findData(context.origin))
        self.reason.setCurrentIndex(self.reason.findData(context.reason))
        self.directed.setChecked(context.directed_by_policy)
        self.ticket.setText(context.ticket_ref)
        for w in widgets:
            w.blockSignals(False)

    def _context_changed(self) -> None:
        self.context_did_change.emit(self.context())

    def show_verdict(self, verdict: Verdict) -> None:
        # The gate is re-evaluated often (each clock tick near a window edge, every phone and
        # record event) and mostly says the same: rebuilding its rows each time was the GUI
        # thread's largest piece of our own work during a call burst (docs/benchmarks).
        if verdict.rules != self._shown_rules:
            self._show_rules(verdict)
        self._allowed = verdict.allowed
        self._summarise(verdict)

    def _show_rules(self, verdict: Verdict) -> None:
        while self._rows_layout.count():
            item = self._rows_layout.takeAt(0)
            widget = item.widget() if item is not None else None
            if widget is not None:
                widget.setParent(None)  # gone now, not at the next event-loop turn
                widget.deleteLater()
        self._reasons.clear()
        # Blocking rules first, then the rest, each in pack order (a stable sort): the list
        # scrolls at 1366×768, and what stops the call, with its fix, must be in view first.
        ordered = sorted(verdict.rules, key=lambda r: not r.blocks)
        for row, rule in enumerate(ordered):
            glyph, tone, spoken = _MARK[rule.outcome.value]
            mark = QLabel(glyph)
            mark.setObjectName(f"mark-{rule.id}")
            font = mark.font()  # in points, from the system font: follows DPI and accessibility
            font.setPointSizeF(font.pointSizeF() * 1.4)
            mark.setFont(font)
            tint(mark, tone, bold=True)
            mark.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignHCenter)
            mark.setAccessibleName(f"{rule.id} {spoken}")
            head = f"<b>{rule.id}</b> · {rule.title}"
            text = QLabel(f"{head}<br>{rule.reason}")
            if rule.blocks:
                self._reasons.append((text, head, rule.reason))
            else:
                tint(text, "muted")  # lighter than what blocks; the ✔ or – still says which
            text.setWordWrap(True)
            text.setToolTip(f"Policy: {rule.source}")
            text.setAccessibleName(f"{rule.id}: {rule.reason}")
            text.setObjectName(f"rule-{rule.id}")
            cell = QWidget()
            cell_layout = QVBoxLayout(cell)
            cell_layout.setContentsMargins(0, 0, 0, 0)
            cell_layout.setSpacing(2)
            cell_layout.addWidget(text)
            if rule.blocks and rule.action is not None:
                fix = QPushButton(f"→ {rule.action.label}")
                fix.setObjectName(f"fix-{rule.id}")
                fix.setAccessibleName(f"Fix {rule.id}: {rule.action.label}")
                fix.clicked.connect(lambda _=False, a=rule.action: self.action_was_requested.emit(a))
                cell_layout.addWidget(fix, 0, Qt.AlignmentFlag.AlignLeft)
            self._rows_layout.addWidget(mark, row, 0)
            self._rows_layout.addWidget(cell, row, 1)
        self._rows_layout.setRowStretch(len(verdict.rules), 1)
        self._recolour(tones())
        self._shown_rules = verdict.rules

    def _summarise(self, verdict: Verdict) -> None:
        if self._in_call:
            pass  # the summary keeps saying the gate is for the next call
        elif verdict.allowed:
            self.summary.setText(f"✔ All checks pass. Dial string {verdict.dial_string}.")
            tint(self.summary, "ok", bold=True)
        else:
            n = len(verdict.blocked_by)
            self.summary.setText(f"✖ {n} check{'s' * (n != 1)} block{'s' * (n == 1)} this call: "
                                 f"{', '.join(verdict.blocked_by)}. Fix them below.")
            tint(self.summary, "error", bold=True)
        self._update_buttons()

    def _recolour(self, now: Tones) -> None:
        """Blocked reasons are rich text (the rule name stays plain): re-written per theme, and
        plain while a record is open, when a coloured span would outshine the dimmed rows."""
        for label, head, reason in self._reasons:
            shown = reason if self._in_call else f"<span style='color:{now.error}'>{reason}</span>"
            label.setText(f"{head}<br>{shown}")

    def _send_tones(self) -> None:
        digits = self.keypad.text()
        if digits:
            self.tones_were_typed.emit(digits)
            self.keypad.clear()

    def show_held(self, held: bool) -> None:
        self.hold.setChecked(held)
        self.hold.setText("Resume  (Ctrl+H)" if held else "Hold  (Ctrl+H)")

    def show_refusal(self, text: str) -> None:
        """The point-of-action re-check refused the dial; the next verdict replaces this."""
        self.summary.setText(f"✖ {text}")
        tint(self.summary, "error", bold=True)

    def set_live(self, live: bool, connected: bool = False) -> None:
        """The SIP call itself is up (dialling, ringing or connected): only then can it be hung up;
        hold and tones need it connected."""
        self._live = live
        self._connected = connected and live
        if not self._connected:
            self.show_held(False)
        self._update_buttons()

    def set_in_call(self, in_call: bool, status: str = "") -> None:
        """While a record is open the checklist describes the next call, not this one: dim it."""
        changed = in_call != self._in_call
        self._in_call = in_call
        if changed:
            self._recolour(tones())
        self.call_status.setText(status)
        self.call_status.setVisible(bool(status))
        self._rows.setEnabled(not in_call)
        for w in (self.origin, self.reason, self.directed, self.ticket):
            w.setEnabled(not in_call)
        if in_call:
            self.summary.setText("A call record is open: the gate applies to the next call, once "
                                 "this record is closed.")
            tint(self.summary, None, bold=True)
        self._update_buttons()

    def _update_buttons(self) -> None:
        self.dial.setEnabled(self._allowed and not self._in_call)
        self.hangup.setEnabled(self._in_call and self._live)
        self.hold.setEnabled(self._in_call and self._connected)
        self.keypad.setEnabled(self._in_call and self._connected)
        self.keypad.setVisible(self._in_call)
