"""The memo form that holds the call record open until it is complete (OB-MEMO, SA-DOCUMENT).

Text that looks like an SSN, PIN or card number is caught as it is typed; while any is present
the draft is not written anywhere and the record cannot close (OB-NOSSN).
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import (
    QButtonGroup,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from app.domain.call import CallRecord
from app.domain.memo import Memo, PaymentTopic
from ui.theme import lines_high, tint


def _text_box(name: str, lines: float = 3) -> QPlainTextEdit:
    box = QPlainTextEdit()
    box.setAccessibleName(name)
    box.setTabChangesFocus(True)
    box.setFixedHeight(lines_high(box, lines))
    return box


class MemoForm(QGroupBox):
    memo_did_change = Signal(object)  # Memo
    close_was_requested = Signal(object)  # Memo

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Call memo", parent)
        self.reason = QLineEdit()
        self.reason.setAccessibleName(Memo.field_label("reason"))
        self.tickets = QLineEdit()
        self.tickets.setAccessibleName(Memo.field_label("ticket_numbers"))
        self.tickets.setPlaceholderText("e.g. TKT-20261121-0042")
        self.summary = _text_box(Memo.field_label("summary"))
        self.response = _text_box(Memo.field_label("customer_response"))
        self.pay_none = QRadioButton("Not discussed")
        self.pay_customer = QRadioButton("Customer raised it")
        self.pay_none.setAccessibleName("Payment topic: not discussed")
        self.pay_customer.setAccessibleName("Payment topic: customer raised it")
        self._pay = QButtonGroup(self)
        self._pay.addButton(self.pay_none)
        self._pay.addButton(self.pay_customer)
        pay_row = QHBoxLayout()
        pay_row.addWidget(self.pay_none)
        pay_row.addWidget(self.pay_customer)
        pay_row.addStretch(1)
        self.vm_yes = QRadioButton("Voicemail left")
        self.vm_no = QRadioButton("No voicemail")
        self.vm_yes.setAccessibleName("Voicemail left")
        self.vm_no.setAccessibleName("No voicemail left")
        self._vm = QButtonGroup(self)
        self._vm.addButton(self.vm_yes)
        self._vm.addButton(self.vm_no)
        vm_row = QHBoxLayout()
        vm_row.addWidget(self.vm_yes)
        vm_row.addWidget(self.vm_no)
        vm_row.addStretch(1)
        self.vm_why = QLineEdit()
        self.vm_why.setAccessibleName(Memo.field_label("no_voicemail_reason"))
        self.vm_why.setPlaceholderText("Why not (e.g. mailbox full)")
        self.note = _text_box(Memo.field_label("account_note"), 2)
        self.findings = _text_box(Memo.field_label("ticket_findings"), 2)

        self.form = QFormLayout()
        self.form.addRow("Reason*", self.reason)
        self.form.addRow("Ticket(s)", self.tickets)
        self.form.addRow("Summary*", self.summary)
        self.form.addRow("Customer response*", self.response)
        self.form.addRow("Payment topic*", pay_row)
        self.form.addRow("Voicemail*", vm_row)
        self.form.addRow("", self.vm_why)
        self.form.addRow("Account note*", self.note)
        self.form.addRow("Ticket findings", self.findings)

        self.problems = QLabel("")
        self.problems.setObjectName("memoProblems")
        self.problems.setWordWrap(True)
        self.problems.setAccessibleName("Memo problems")
        tint(self.problems, "error")
        self.missing = QLabel("")
        self.missing.setWordWrap(True)
        self.missing.setAccessibleName("Still needed")
        self.saved = QLabel("")
        self.saved.setAccessibleName("Draft status")
        self.close_button = QPushButton("Close record  (Ctrl+Return)")
        self.close_button.setObjectName("closeRecordButton")
        self.close_button.setAccessibleName("Close record")
        self.close_button.setShortcut(QKeySequence("Ctrl+Return"))
        self.close_button.setEnabled(False)

        layout = QVBoxLayout(self)
        layout.addLayout(self.form)
        layout.addWidget(self.problems)
        layout.addWidget(self.missing)
        layout.addStretch(1)
        bottom = QHBoxLayout()
        bottom.addWidget(self.saved, 1)
        bottom.addWidget(self.close_button)
        layout.addLayout(bottom)

        for w in (self.reason, self.tickets, self.vm_why):
            w.textChanged.connect(self._changed)
        for b in (self.summary, self.response, self.note, self.findings):
            b.textChanged.connect(self._changed)
        for r in (self.pay_none, self.pay_customer, self.vm_yes, self.vm_no):
            r.toggled.connect(self._changed)
        self.close_button.clicked.connect(lambda: self.close_was_requested.emit(self.memo()))
        self._loading = False
        self._reached = False

    def memo(self) -> Memo:
        payment = (PaymentTopic.CUSTOMER_RAISED if self.pay_customer.isChecked()
                   else PaymentTopic.NOT_DISCUSSED if self.pay_none.isChecked() else None)
        voicemail = True if self.vm_yes.isChecked() else False if self.vm_no.isChecked() else None
        return Memo(reason=self.reason.text(), ticket_numbers=self.tickets.text(),
                    summary=self.summary.toPlainText(), customer_response=self.response.toPlainText(),
                    payment_topic=payment, voicemail_left=voicemail,
                    no_voicemail_reason=self.vm_why.text(), account_note=self.note.toPlainText(),
                    ticket_findings=self.findings.toPlainText())

    def load(self, record: CallRecord) -> None:
        self._loading = True
        m = record.memo
        self._reached = record.reached_customer
        self.reason.setText(m.reason)
        self.tickets.setText(m.ticket_numbers)
        self.summary.setPlainText(m.summary)
        self.response.setPlainText(m.customer_response)
        for group in (self._pay, self._vm):
            group.setExclusive(False)
            for b in group.buttons():
                b.setChecked(False)
            group.setExclusive(True)
        self.pay_none.setChecked(m.payment_topic is PaymentTopic.NOT_DISCUSSED)
        self.pay_customer.setChecked(m.payment_topic is PaymentTopic.CUSTOMER_RAISED)
        self.vm_yes.setChecked(m.voicemail_left is True)
        self.vm_no.setChecked(m.voicemail_left is False)
        self.vm_why.setText(m.no_voicemail_reason)
        self.note.setPlainText(m.account_note)
        self.findings.setPlainText(m.ticket_findings)
        self._loading = False
        self._show_fields()

    def _show_fields(self) -> None:
        reached = self._reached
        for widget in (self.summary, self.response):
            self.form.setRowVisible(widget, reached)
        self.form.setRowVisible(4, reached)  # payment topic
        self.form.setRowVisible(5, not reached)  # voicemail
        self.form.setRowVisible(self.vm_why, not reached)
        self.form.setRowVisible(self.note, not reached)

    def _changed(self) -> None:
        if not self._loading:
            self.memo_did_change.emit(self.memo())

    def show_check(self, problems: list[str], missing: list[str], in_wrap_up: bool) -> None:
        self.problems.setText("\n".join(f"✖ {p}" for p in problems))
        labels = [Memo.field_label(m) if m.islower() else m for m in missing
                  if m != "call_ended"]
        self.missing.setText("Still needed: " + ", ".join(labels) if labels else
                             "Complete: the record can be closed.")
        self.close_button.setEnabled(in_wrap_up and not problems and not missing)

    def show_saved(self, ok: bool, when: str) -> None:
        self.saved.setText(f"Draft saved {when}" if ok else "Draft not saved (see above)")
