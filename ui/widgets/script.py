"""The script panel, in the order a call happens: verify the name, read the recording notice,
then (only after verification) the proof facts and the OTP step; standing reminders throughout.

The texts are data from the policy pack (and the company settings), never literals in code.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import Signal
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import (
    QCheckBox,
    QFormLayout,
    QGroupBox,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.domain.call import CallRecord
from app.domain.customer import Customer


@dataclass(frozen=True)
class ScriptTexts:
    verify_prompt: str
    recording_notice: str
    proof_intro: str
    otp_note: str
    reminders: tuple[str, ...]
    team_steps: tuple[tuple[str, str, str], ...] = ()  # (rule id, step id, text to say)


class ScriptPanel(QWidget):
    verification_was_confirmed = Signal()
    notice_was_confirmed = Signal()
    step_was_said = Signal(str)  # script step id

    def __init__(self, parent: QWidget | None = None) -> None:
        """Empty until `use_texts`: the texts come from the policy pack, loaded with the records."""
        super().__init__(parent)
        self.status = QLabel("No call in progress.")
        self.status.setObjectName("callStatus")
        self.status.setAccessibleName("Script status")
        self.status.setWordWrap(True)

        self.verify_box = QGroupBox("1. Verify the customer")
        self.verify_text = QLabel("")
        self.verify_text.setWordWrap(True)
        self.verify_button = QPushButton("Name confirmed  (Ctrl+1)")
        self.verify_button.setAccessibleName("Customer's first and last name confirmed")
        self.verify_button.setShortcut(QKeySequence("Ctrl+1"))
        v = QVBoxLayout(self.verify_box)
        v.addWidget(self.verify_text)
        v.addWidget(self.verify_button)

        self.notice_box = QGroupBox("2. Read the recording notice aloud")
        self.notice_text = QLabel("")
        self.notice_text.setObjectName("recordingNotice")
        self.notice_text.setWordWrap(True)
        self.notice_button = QPushButton("I read it  (Ctrl+2)")
        self.notice_button.setAccessibleName("Recording notice read")
        self.notice_button.setShortcut(QKeySequence("Ctrl+2"))
        n = QVBoxLayout(self.notice_box)
        n.addWidget(self.notice_text)
        n.addWidget(self.notice_button)

        self.proof_box = QGroupBox("If asked “Is this really you?”")
        self.proof_box.setAccessibleName("Proof facts")
        self.proof_locked = QLabel("Available after the customer is verified.")
        self.proof_form = QFormLayout()
        self.bill = QLabel()
        self.device = QLabel()
        self.last_call = QLabel()
        self.proof_form.addRow("Last bill", self.bill)
        self.proof_form.addRow("Device in use", self.device)
        self.proof_form.addRow("Last call to care", self.last_call)
        self.proof_facts = QWidget()
        self.proof_facts.setLayout(self.proof_form)
        p = QVBoxLayout(self.proof_box)
        self.proof_intro = QLabel("")
        self.proof_intro.setWordWrap(True)
        p.addWidget(self.proof_intro)
        p.addWidget(self.proof_locked)
        p.addWidget(self.proof_facts)
        self.otp = QLabel("")
        self.otp.setWordWrap(True)
        p.addWidget(self.otp)

        self.reminders = QGroupBox("Always")
        self._reminder_rows = QVBoxLayout(self.reminders)
        # SA-PREPARE / SA-ALTERNATIVE: said on the call and ticked, or the record stays open.
        self.steps_box = QGroupBox("3. Say these, then tick each")
        self._step_rows = QVBoxLayout(self.steps_box)
        self.step_checks: dict[str, QCheckBox] = {}
        self.steps_box.setVisible(False)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.status)
        layout.addWidget(self.verify_box)
        layout.addWidget(self.notice_box)
        layout.addWidget(self.proof_box)
        layout.addWidget(self.steps_box)
        layout.addWidget(self.reminders)
        layout.addStretch(1)
        self.verify_button.clicked.connect(self.verification_was_confirmed)
        self.notice_button.clicked.connect(self.notice_was_confirmed)
        self._customer: Customer | None = None
        self.show_record(None)

    def use_texts(self, texts: ScriptTexts) -> None:
        """The script of the policy pack in force (set once, when the records open)."""
        self.verify_text.setText(texts.verify_prompt)
        self.notice_text.setText(f"“{texts.recording_notice}”")
        self.proof_intro.setText(texts.proof_intro)
        self.otp.setText(texts.otp_note)
        for line in texts.reminders:
            label = QLabel(f"• {line}")
            label.setWordWrap(True)
            self._reminder_rows.addWidget(label)
        for rule_id, step_id, text in texts.team_steps:
            check = QCheckBox(f"{text} ({rule_id})")
            check.setAccessibleName(f"Said: {text}")
            check.toggled.connect(lambda on, sid=step_id: self._said(on, sid))
            self.step_checks[step_id] = check
            self._step_rows.addWidget(check)
        self.steps_box.setVisible(bool(texts.team_steps))

    def _said(self, on: bool, step_id: str) -> None:
        if on:  # a step once said stays said: the audit trail is append-only
            self.step_was_said.emit(step_id)

    def show_steps_done(self, done: frozenset[str]) -> None:
        for step_id, check in self.step_checks.items():
            check.blockSignals(True)
            check.setChecked(step_id in done)
            check.setEnabled(step_id not in done)
            check.blockSignals(False)

    def set_customer(self, customer: Customer | None) -> None:
        self._customer = customer

    def show_record(self, record: CallRecord | None) -> None:
        connected = record is not None and record.connected_at is not None and record.outcome is None
        verified = record is not None and record.verified_at is not None
        noticed = record is not None and record.recording_notice_at is not None
        if record is None:
            self.status.setText("No call in progress.")
        elif record.outcome is not None:
            self.status.setText(f"Call ended: {record.outcome.label}. Complete the memo.")
        elif connected:
            self.status.setText("Connected — follow the steps in order.")
        else:
            self.status.setText(f"{record.state.label}… {record.dial_string}")
        self.verify_box.setEnabled(connected and not verified)
        self.verify_button.setText("✔ Name confirmed" if verified else "Name confirmed  (Ctrl+1)")
        self.notice_box.setEnabled(connected and verified and not noticed)
        self.notice_button.setText(
            f"✔ Read at {record.recording_notice_at:%H:%M:%S} UTC" if record and noticed
            else "I read it  (Ctrl+2)")
        self.steps_box.setEnabled(connected)
        # OB-PROOF and OB-OTP: nothing account-specific before verification.
        self.proof_facts.setVisible(verified)
        self.otp.setVisible(verified)
        self.proof_locked.setVisible(not verified)
        c = self._customer
        if verified and c is not None:
            self.bill.setText(c.last_bill_amount or "not on file")
            self.device.setText(c.device or "not on file")
            self.last_call.setText(f"{c.last_care_call:%B %d, %Y}" if c.last_care_call else "not on file")
        else:
            for label in (self.bill, self.device, self.last_call):
                label.clear()
