"""The dialogs behind the gate's one-click fixes: consent to other hours, the service zone, and
the Service Assurance email. Each checks its input as it is typed and says what is wrong."""

from __future__ import annotations

from datetime import date, time, timedelta
from zoneinfo import available_timezones

from PySide6.QtCore import QDate, QTime
from PySide6.QtWidgets import (
    QComboBox,
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QTimeEdit,
    QVBoxLayout,
    QWidget,
)

from app.domain.customer import Customer
from ui.theme import lines_high, tint

# The zones a US contact center meets most, first; every IANA zone is still reachable by typing.
COMMON_ZONES = ("America/New_York", "America/Chicago", "America/Denver", "America/Phoenix",
                "America/Los_Angeles", "America/Anchorage", "Pacific/Honolulu",
                "America/Puerto_Rico", "America/Boise", "Europe/London")


def _time(t: QTime) -> time:
    return time(t.hour(), t.minute())


def _buttons(dialog: QDialog, ok_text: str) -> QDialogButtonBox:
    box = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                           | QDialogButtonBox.StandardButton.Cancel)
    box.button(QDialogButtonBox.StandardButton.Ok).setText(ok_text)
    box.accepted.connect(dialog.accept)
    box.rejected.connect(dialog.reject)
    return box


def _problem_label() -> QLabel:
    label = QLabel("")
    label.setWordWrap(True)
    tint(label, "error")
    label.setAccessibleName("Problem")
    return label


class ConsentDialog(QDialog):
    """OB-WINDOW: the hours the customer agreed to be called, in their local time."""

    def __init__(self, customer: Customer, zone_text: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Consent to other hours — {customer.full_name}")
        self.start = QTimeEdit(QTime(9, 0))
        self.start.setAccessibleName("Consent from")
        self.end = QTimeEdit(QTime(21, 0))
        self.end.setAccessibleName("Consent until")
        for edit in (self.start, self.end):
            edit.setDisplayFormat("h:mm AP")
        self.note = QLineEdit()
        self.note.setAccessibleName("How the customer agreed")
        self.note.setPlaceholderText("How and when the customer agreed (e.g. on the call of Nov 20)")
        self.problem = _problem_label()
        form = QFormLayout()
        form.addRow("From", self.start)
        form.addRow("Until", self.end)
        form.addRow("Note*", self.note)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel(f"Customer's local time: {zone_text}. Record only what the "
                                "customer said; your name and the time are stored with it."))
        layout.addLayout(form)
        layout.addWidget(self.problem)
        self.buttons = _buttons(self, "Record consent")
        layout.addWidget(self.buttons)
        for w in (self.start, self.end):
            w.timeChanged.connect(self._check)
        self.note.textChanged.connect(self._check)
        self._check()

    def values(self) -> tuple[time, time, str]:
        return (_time(self.start.time()), _time(self.end.time()), self.note.text().strip())

    def _check(self) -> None:
        start, end, note = self.values()
        problem = ""
        if start == end:
            problem = "The window is empty: it starts when it ends."
        elif not note:
            problem = "Say how the customer agreed, for the record."
        self.problem.setText(problem)
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(not problem)


class ZoneDialog(QDialog):
    """OB-WINDOW: the service address's zone, when the number maps to none or several."""

    def __init__(self, customer: Customer, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Service-address time zone — {customer.full_name}")
        self.zone = QComboBox()
        self.zone.setEditable(True)
        self.zone.setAccessibleName("Time zone of the service address")
        others = sorted(z for z in available_timezones() if z not in COMMON_ZONES and "/" in z)
        self.zone.addItems([*COMMON_ZONES, *others])
        self.zone.setCurrentText(customer.service_zone or "")
        self.problem = _problem_label()
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("The time zone of the customer's service address, from the "
                                "account. The calling window is then checked there only."))
        layout.addWidget(self.zone)
        layout.addWidget(self.problem)
        self.buttons = _buttons(self, "Record zone")
        layout.addWidget(self.buttons)
        self._zones = set(available_timezones())
        self.zone.currentTextChanged.connect(self._check)
        self._check()

    def value(self) -> str:
        return self.zone.currentText().strip()

    def _check(self) -> None:
        ok = self.value() in self._zones
        self.problem.setText("" if ok else "Pick a zone from the list, e.g. America/Chicago.")
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(ok)


class SaEmailDialog(QDialog):
    """SA-EMAILFIRST: purpose, availability windows, next steps; sent before the call."""

    def __init__(self, customer: Customer, today: date, zone: str, ticket_ref: str,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Email before calling — {customer.full_name}")
        self.address = QLineEdit(customer.extra.get("email", ""))
        self.address.setAccessibleName("Customer's email address")
        self.purpose = QLineEdit("Update on your support ticket and troubleshooting together")
        self.purpose.setAccessibleName("Purpose of the callback")
        self.ticket = QLineEdit(ticket_ref)
        self.ticket.setAccessibleName("Ticket or email reference")
        self.ticket.setPlaceholderText("The ticket or the customer's email request")
        self.windows: list[tuple[QDateEdit, QTimeEdit, QTimeEdit]] = []
        windows_box = QVBoxLayout()
        for offset in (1, 2):
            day = QDateEdit(QDate(today + timedelta(days=offset)))
            day.setCalendarPopup(True)
            day.setAccessibleName(f"Window {offset} day")
            start = QTimeEdit(QTime(10, 0))
            end = QTimeEdit(QTime(12, 0))
            start.setAccessibleName(f"Window {offset} from")
            end.setAccessibleName(f"Window {offset} until")
            row = QHBoxLayout()
            row.addWidget(day)
            row.addWidget(start)
            row.addWidget(QLabel("–"))
            row.addWidget(end)
            windows_box.addLayout(row)
            self.windows.append((day, start, end))
        self.steps = QPlainTextEdit("We call you in the window you choose.\n"
                                    "We troubleshoot together and update your ticket.")
        self.steps.setAccessibleName("Expected next steps, one per line")
        self.steps.setFixedHeight(lines_high(self.steps, 3))
        form = QFormLayout()
        form.addRow("Email*", self.address)
        form.addRow("Purpose*", self.purpose)
        form.addRow("Reference*", self.ticket)
        form.addRow(f"Windows ({zone})*", windows_box)
        form.addRow("Next steps*", self.steps)
        self.problem = _problem_label()
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.problem)
        self.buttons = _buttons(self, "Send email")
        layout.addWidget(self.buttons)
        for edit in (self.address, self.purpose, self.ticket):
            edit.textChanged.connect(self._check)
        self._check()

    def values(self) -> tuple[str, str, list[tuple[date, time, time]], list[str], str]:
        windows = [(date(d.date().year(), d.date().month(), d.date().day()),
                    _time(s.time()), _time(e.time())) for d, s, e in self.windows]
        steps = [line.strip() for line in self.steps.toPlainText().splitlines() if line.strip()]
        return (self.address.text().strip(), self.purpose.text().strip(), windows, steps,
                self.ticket.text().strip())

    def _check(self) -> None:
        address, purpose, _windows, _steps, reference = self.values()
        problem = ("Enter the customer's email address." if "@" not in address else
                   "Say why you are calling." if not purpose else
                   "Enter the ticket or email reference this request came from." if not reference
                   else "")
        self.problem.setText(problem)
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(not problem)
