"""The phone lines panel: an incoming call's banner, then line one (the caller) and line two (the
consult call to the number they gave, OB-ALTNUMBER) side by side with the controls of the flow:
Consult, Dial line two, Back to line one, End line one, Resume line two.

Owned by the GUI thread. It only asks (signals) and shows what the controller announces; which
button is live follows the lines' states, so the flow's order is the only order on offer.
"""

from __future__ import annotations

from html import escape

from PySide6.QtCore import Signal
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import (
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.domain.errors import CallwiseError
from app.services.lines import Line, Lines, LineStatus, show_number
from ui.theme import tint


def _button(text: str, keys: str, name: str) -> QPushButton:
    button = QPushButton(f"{text} ({keys})")
    button.setShortcut(QKeySequence(keys))
    button.setAccessibleName(name)
    return button


def _number_html(number: str) -> str:
    """A number never broken across lines ("(312)" / "555-0141"), and escaped: it comes from
    the caller's SIP request, as the name may, and these labels are rich text."""
    return f"<span style='white-space:nowrap'>{escape(number)}</span>"


def _describe(line: Line | None, role: str) -> str:
    if line is None:
        return f"{role}: —"
    who = f"{escape(line.who)} · " if line.who else ""
    return f"<b>{role}</b> · {who}{_number_html(show_number(line.number) or 'unknown number')}" \
           f" · <b>{line.status.label}</b>"


class LinesPanel(QFrame):
    answer_was_requested = Signal()
    decline_was_requested = Signal()
    consult_was_requested = Signal()
    consult_dial_was_requested = Signal(str)  # the number as typed
    back_was_requested = Signal()
    end_one_was_requested = Signal()
    resume_two_was_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setAccessibleName("Phone lines")

        # The ringing banner.
        self.incoming = QFrame()
        self.incoming.setObjectName("incomingBanner")
        self.incoming_text = QLabel("")
        self.incoming_text.setObjectName("incomingText")
        self.incoming_text.setAccessibleName("Incoming call")
        self.incoming_text.setWordWrap(True)
        self.answer = _button("Answer", "Ctrl+Shift+A", "Answer the incoming call")
        self.decline = _button("Decline", "Ctrl+Shift+X", "Decline the incoming call")
        banner = QHBoxLayout(self.incoming)
        banner.setContentsMargins(0, 0, 0, 0)
        banner.addWidget(self.incoming_text, 1)
        banner.addWidget(self.answer)
        banner.addWidget(self.decline)

        # Both lines at once.
        self.line_one = QLabel("")
        self.line_one.setAccessibleName("Line one")
        self.line_two = QLabel("")
        self.line_two.setAccessibleName("Line two")
        self.consult = _button("Consult", "Ctrl+Shift+C", "Consult: hold line one and dial "
                               "another number")
        self.number = QLineEdit()
        self.number.setPlaceholderText("10-digit number, e.g. (312) 555-0142")
        self.number.setAccessibleName("Number to dial on line two")
        self.dial_two = _button("Dial line two", "Ctrl+Shift+D", "Dial line two")
        self.back = _button("Back to line one", "Ctrl+Shift+1", "Back to line one")
        self.end_one = _button("End line one", "Ctrl+Shift+E", "End line one")
        self.resume_two = _button("Resume line two", "Ctrl+Shift+2", "Resume line two")
        self.refusal = QLabel("")
        self.refusal.setObjectName("consultRefusal")
        self.refusal.setAccessibleName("Consult call problem")
        self.refusal.setWordWrap(True)
        self.refusal.setVisible(False)  # empty labels would still take a line of height
        self.outcome = QLabel("")
        self.outcome.setObjectName("lineOutcome")
        self.outcome.setAccessibleName("How the last line ended")
        self.outcome.setWordWrap(True)
        self.outcome.setVisible(False)

        self.lines_box = QWidget()
        grid = QGridLayout(self.lines_box)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setVerticalSpacing(4)
        grid.addWidget(self.line_one, 0, 0)
        grid.addWidget(self.line_two, 1, 0)
        grid.setColumnStretch(0, 1)
        dial_row = QHBoxLayout()
        dial_row.addWidget(self.consult)
        dial_row.addWidget(self.number, 1)
        dial_row.addWidget(self.dial_two)
        flow_row = QHBoxLayout()
        flow_row.addWidget(self.back)
        flow_row.addWidget(self.end_one)
        flow_row.addWidget(self.resume_two)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.setSpacing(4)
        layout.addWidget(self.incoming)
        layout.addWidget(self.lines_box)
        layout.addLayout(dial_row)
        layout.addLayout(flow_row)
        layout.addWidget(self.refusal)
        layout.addWidget(self.outcome)
        self._flow = [self.consult, self.number, self.dial_two, self.back, self.end_one,
                      self.resume_two]

        self.answer.clicked.connect(self.answer_was_requested)
        self.decline.clicked.connect(self.decline_was_requested)
        self.consult.clicked.connect(self.consult_was_requested)
        self.dial_two.clicked.connect(self._dial)
        self.number.returnPressed.connect(self._dial)
        self.back.clicked.connect(self.back_was_requested)
        self.end_one.clicked.connect(self.end_one_was_requested)
        self.resume_two.clicked.connect(self.resume_two_was_requested)
        self._open = False  # Consult pressed: the number field is live
        self.show_lines(Lines())

    def _dial(self) -> None:
        if self.dial_two.isEnabled():
            self.refusal.clear()
            self.refusal.setVisible(False)
            self.consult_dial_was_requested.emit(self.number.text())

    def show_lines(self, lines: Lines) -> None:
        one, two = lines.one, lines.two
        ringing = one is not None and one.status is LineStatus.RINGING
        self.incoming.setVisible(ringing)
        if ringing and one is not None:
            number = _number_html(show_number(one.number) or "an unknown number")
            who = f"{escape(one.who)} · {number}" if one.who else number
            self.incoming_text.setText(f"<b>Incoming call from {who}</b>")
            tint(self.incoming_text, "warn", bold=True)
            self.outcome.clear()
            self.outcome.setVisible(False)
        answered = one is not None and one.live and one.answered
        self.lines_box.setVisible(answered or two is not None)
        self.line_one.setText(_describe(one if answered else None, "Line one"))
        self.line_two.setText(_describe(two, "Line two"))
        for w in self._flow:
            w.setVisible(answered or two is not None)
        if not answered and two is None:
            self._open = False
            self.refusal.clear()
            self.refusal.setVisible(False)
        one_held = one is not None and one.status is LineStatus.HELD
        self.consult.setEnabled(answered and two is None)
        self.number.setEnabled(answered and two is None and self._open)
        self.dial_two.setEnabled(answered and two is None and self._open)
        self.back.setEnabled(answered and one_held)
        self.end_one.setEnabled(answered)
        self.resume_two.setEnabled(two is not None and two.status is LineStatus.HELD)
        self.setVisible(ringing or answered or two is not None or bool(self.outcome.text()))

    def show_consult_open(self) -> None:
        """Line one is going on hold: the number field takes the keyboard."""
        self._open = True
        self.number.setEnabled(True)
        self.dial_two.setEnabled(True)
        self.number.setFocus()

    def show_refusal(self, error: CallwiseError) -> None:
        self.refusal.setText(error.said())
        tint(self.refusal, "error", bold=True)
        self.refusal.setVisible(True)
        self.setVisible(True)

    def show_outcome(self, text: str) -> None:
        self.outcome.setText(text)
        tint(self.outcome, "muted")
        self.outcome.setVisible(True)
        self.setVisible(True)
