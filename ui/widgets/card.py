"""The customer card: who, where, their local time ticking, and what happened before.

Nothing account-specific beyond what the agent needs to dial is shown here; the OB-PROOF facts
live in the script panel and appear only after verification (OB-VERIFY).
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from PySide6.QtCore import QTimer, Signal
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.domain.clock import Clock
from app.domain.commitment import local_words, status_words
from app.domain.enums import CallReason
from app.domain.errors import CallwiseError
from app.ports.store import Callback
from app.services.lines import show_number
from ui.theme import emphasise, tint

if TYPE_CHECKING:  # cards arrive with the records; the window is built before the policy loads
    from app.services.desk import CustomerCard


def _short(text: str, limit: int = 70) -> str:
    return text if len(text) <= limit else text[:limit - 1].rstrip() + "…"


def _reason_words(reason: str) -> str:
    try:
        return CallReason(reason).label
    except ValueError:  # written by another system in its own words
        return reason


def _when(at: datetime | None) -> str:
    return at.strftime("%b %d, %Y %H:%M UTC") if at else "never"


class CustomerCardView(QFrame):
    # OB-ALTNUMBER: "Customer can't use the device: ask for a different number" — typed here.
    alternate_was_entered = Signal(str)

    def __init__(self, clock: Clock, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self._clock = clock
        self._zones: tuple[str, ...] = ()
        self._callbacks: tuple[Callback, ...] = ()
        self.name = QLabel("Pick a customer on the left.")
        self.name.setObjectName("customerName")
        emphasise(self.name, point_size=13)
        self.name.setAccessibleName("Customer name")
        self.account = QLabel("")
        self.number = QComboBox()
        self.number.setAccessibleName("Number to call")
        self.alternate = QLineEdit()
        self.alternate.setPlaceholderText("e.g. (312) 555-0142")
        self.alternate.setAccessibleName("Alternate number the customer gave")
        self.use_alternate = QPushButton("Call this instead  (Ctrl+Shift+N)")
        self.use_alternate.setAccessibleName("Call the alternate number instead")
        self.use_alternate.setShortcut(QKeySequence("Ctrl+Shift+N"))
        self.alternate_problem = QLabel("")
        self.alternate_problem.setAccessibleName("Alternate number problem")
        self.alternate_problem.setWordWrap(True)
        self.alternate_problem.setVisible(False)
        alternate = QHBoxLayout()
        alternate.addWidget(self.alternate, 1)
        alternate.addWidget(self.use_alternate)
        self.use_alternate.clicked.connect(self._use_alternate)
        self.alternate.returnPressed.connect(self._use_alternate)
        self.local_time = QLabel("")
        self.local_time.setObjectName("localTime")
        self.local_time.setAccessibleName("Customer's local time")
        self.zone = QLabel("")
        self.zone.setWordWrap(True)
        self.attempts = QLabel("")
        self.last_talk = QLabel("")
        self.consent = QLabel("")
        self.consent.setWordWrap(True)
        self.recent = QLabel("")
        self.recent.setWordWrap(True)
        self.recent.setAccessibleName("Recent calls")
        self.callbacks = QLabel("")
        self.callbacks.setWordWrap(True)
        self.callbacks.setAccessibleName("Open callbacks promised to this customer")
        form = QFormLayout()
        form.addRow("Account", self.account)
        form.addRow("Number", self.number)
        form.addRow("Alternate", alternate)
        form.addRow("", self.alternate_problem)
        form.addRow("Local time", self.local_time)
        form.addRow("Time zone", self.zone)
        form.addRow("Unanswered attempts", self.attempts)
        form.addRow("Last conversation", self.last_talk)
        form.addRow("Consent to other hours", self.consent)
        form.addRow("Open callbacks", self.callbacks)
        form.addRow("Recent calls", self.recent)
        layout = QVBoxLayout(self)
        layout.addWidget(self.name)
        layout.addLayout(form)
        self._ticker = QTimer(self)
        self._ticker.setInterval(1000)
        self._ticker.timeout.connect(self._tick)  # started by the first card: no clock before

    def _use_alternate(self) -> None:
        self.alternate_problem.setVisible(False)
        self.alternate_was_entered.emit(self.alternate.text())

    def show_alternate_refusal(self, error: CallwiseError) -> None:
        self.alternate_problem.setText(error.said())
        tint(self.alternate_problem, "error", bold=True)
        self.alternate_problem.setVisible(True)

    def show_alternate(self, number: str) -> None:
        """The alternate number joins the list and is chosen (the store keeps it on the call
        record; the customer's own numbers on file are not changed from the desktop)."""
        self.alternate_problem.setVisible(False)
        self.alternate.setText(show_number(number))
        self.number.blockSignals(True)
        if self.number.findData(number) < 0:
            self._add_alternate(number)
        self.number.setCurrentIndex(self.number.findData(number))
        self.number.blockSignals(False)

    def _add_alternate(self, number: str) -> None:
        self.number.addItem(f"{number}  (alternate, given on the call)", number)

    def show_card(self, card: CustomerCard, number: str, cap: int | None = None,
                  alternate: str = "") -> None:
        c, h = card.customer, card.history
        self.name.setText(c.full_name)
        self.account.setText(f"{c.account_number} · {c.line_of_business}")
        self.number.blockSignals(True)
        self.number.clear()
        for n in c.numbers:
            self.number.addItem(f"{n.number}  ({n.label})", n.number)
        if alternate and alternate not in [n.number for n in c.numbers]:
            self._add_alternate(alternate)
        if not alternate:
            self.alternate.clear()
        index = self.number.findData(number)
        self.number.setCurrentIndex(max(index, 0))
        self.number.blockSignals(False)
        from app.policy.numbers import zones_for  # loaded with the records, like every card

        decision = zones_for(number or c.primary_number, c.service_zone)
        self._zones = decision.zones
        self.zone.setText(f"{', '.join(decision.zones) or 'unknown'} — {decision.explanation}")
        suffix = "" if h.complete else "  (central records unreachable: may be incomplete)"
        text = f"{h.unanswered_attempts} since the last conversation"
        if cap is not None:  # OB-SEQUENCE: the attempts left, and what the last one requires
            left = max(cap - h.unanswered_attempts, 0)
            text += (f" — {left} of {cap} left" if left else f" — none left of {cap}")
            if left == 1:
                text += "; if unanswered: voicemail and an account note"
        self.attempts.setText(text + suffix)
        self.last_talk.setText(_when(h.last_conversation_at))
        if c.consent:
            self.consent.setText(
                f"{c.consent.start:%H:%M}–{c.consent.end:%H:%M} local, recorded by "
                f"{c.consent.recorded_by} on {c.consent.recorded_at:%b %d, %Y}")
        else:
            self.consent.setText("none on record")
        lines = [f"{r.dialed_at:%b %d %H:%M} · {r.outcome.label if r.outcome else r.state.label}"
                 + (f" · {_short(r.memo.summary)}" if r.memo.summary else "") for r in card.recent[:4]]
        self.recent.setText("\n".join(lines) or "none")
        self._callbacks = card.callbacks  # COMMIT: in front of whoever calls this customer next
        self._render_callbacks()  # "none open" too, which the tick leaves alone
        self._tick()
        if not self._ticker.isActive():
            self._ticker.start()

    def _render_callbacks(self) -> None:
        """Re-worded as time passes ("Due in 5 min" becomes "Overdue by 1 min"); the label is
        touched only when its words change, so the one-second tick costs no restyling."""
        now = self._clock.now()
        zone = self._zones[0] if self._zones else "UTC"  # the customer's first zone
        rows = [f"{local_words(cb.due_at, zone)} · {status_words(cb.due_at, now)}"
                f" · {_reason_words(cb.reason)}" + (f" · in the {cb.queue} queue" if cb.queue else "")
                for cb in self._callbacks]
        text = "\n".join(rows) or "none open"
        if text == self.callbacks.text():
            return
        self.callbacks.setText(text)
        overdue = any(cb.due_at <= now for cb in self._callbacks)
        tint(self.callbacks, "error" if overdue else None, bold=overdue)

    def _tick(self) -> None:
        if self._callbacks:
            self._render_callbacks()
        if not self._zones:
            self.local_time.setText("unknown zone")
            return
        now = self._clock.now()
        parts = []
        for zone in self._zones:
            local = now.astimezone(ZoneInfo(zone))
            city = zone.rsplit("/", 1)[-1].replace("_", " ")
            parts.append(f"{local:%I:%M:%S %p} {local.tzname()} ({city})".lstrip("0"))
        self.local_time.setText("  ·  ".join(parts))
