"""The agent's phone lines as the desktop shows them: line one (an inbound call) and line two
(the consult call placed from it, OB-ALTNUMBER), each with its state.

Pure bookkeeping, no I/O: the desk controller owns one `Lines` on the GUI thread and feeds it the
phone's events; the SIP engine stays the authority on what a call really is. Why keep it here and
not in the widgets: "Back to line one" and "End line one" need to know which ref is which and what
is held, and that must be testable without Qt.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from enum import StrEnum

from app.domain.enums import CallOutcome
from app.domain.errors import CallwiseError
from app.ports.phone import CallPhase


class LineStatus(StrEnum):
    RINGING = "ringing"  # inbound, not answered yet
    DIALING = "dialing"  # outbound, INVITE sent
    TALKING = "talking"
    HELD = "held"
    ENDED = "ended"

    @property
    def label(self) -> str:
        return {LineStatus.RINGING: "Ringing", LineStatus.DIALING: "Dialling",
                LineStatus.TALKING: "Talking", LineStatus.HELD: "On hold",
                LineStatus.ENDED: "Ended"}[self]


@dataclass(frozen=True)
class Line:
    ref: str  # the phone's call ref; for line two also its call record's id
    number: str  # the caller's number (line one) or the number dialled (line two)
    inbound: bool
    status: LineStatus
    who: str = ""  # the customer's name when the number is on record
    outcome: CallOutcome | None = None
    answered: bool = False

    @property
    def live(self) -> bool:
        return self.status is not LineStatus.ENDED


class Lines:
    """Line one is the inbound call, line two the outbound call placed while it is up.

    An outbound call placed with no inbound call up is line two as well: it is the call record's
    line, and "line one" only ever means the customer who called in.
    """

    def __init__(self) -> None:
        self.one: Line | None = None
        self.two: Line | None = None

    def get(self, ref: str) -> Line | None:
        for line in (self.one, self.two):
            if line is not None and line.ref == ref:
                return line
        return None

    def is_inbound(self, ref: str) -> bool:
        return self.one is not None and self.one.ref == ref

    def ring(self, ref: str, number: str, who: str = "") -> Line:
        """A new inbound call. A second caller while line one is live never gets here: the
        flow has one inbound call, so the desk controller declines them at once."""
        self.one = Line(ref, number, True, LineStatus.RINGING, who)
        return self.one

    def name_caller(self, ref: str, who: str) -> None:
        if self.one is not None and self.one.ref == ref:
            self.one = replace(self.one, who=who)

    def dialled(self, ref: str, number: str, who: str = "") -> Line:
        self.two = Line(ref, number, False, LineStatus.DIALING, who)
        return self.two

    def _set(self, ref: str, **changes: object) -> Line | None:
        line = self.get(ref)
        if line is None:
            return None
        new = replace(line, **changes)  # type: ignore[arg-type]
        if self.one is line:
            self.one = new
        else:
            self.two = new
        return new

    def progressed(self, ref: str, phase: CallPhase) -> Line | None:
        line = self.get(ref)
        if line is None or not line.live:
            return line
        if phase is CallPhase.CONNECTED:
            return self._set(ref, status=LineStatus.TALKING, answered=True)
        if phase is CallPhase.HELD:
            return self._set(ref, status=LineStatus.HELD)
        if phase is CallPhase.RESUMED:
            return self._set(ref, status=LineStatus.TALKING)
        return line

    def ended(self, ref: str, outcome: CallOutcome) -> Line | None:
        return self._set(ref, status=LineStatus.ENDED, outcome=outcome)

    def clear(self, ref: str) -> None:
        """Forget an ended line once its outcome has been shown (line two: its record closed)."""
        if self.one is not None and self.one.ref == ref:
            self.one = None
        if self.two is not None and self.two.ref == ref:
            self.two = None

    def talking(self) -> Line | None:
        """The line the agent is speaking on (at most one: the other is held)."""
        for line in (self.one, self.two):
            if line is not None and line.status is LineStatus.TALKING:
                return line
        return None

    @property
    def consulting(self) -> bool:
        """Line one is up, answered: a consult call may be (or has been) placed from it."""
        return self.one is not None and self.one.live and self.one.answered


def consult_number(text: str) -> str:
    """The 10-digit NANP number the agent typed, as E.164 ("(312) 555-0142" -> "+13125550142").

    OB-ALTNUMBER says "Enter the 10-digit number you are calling": spaces, dots, dashes and
    brackets are fine, a leading 1 or +1 country code is accepted, anything else is refused with
    the reason, so the agent fixes it before anything is dialled.
    """
    raw = text.strip()
    if not raw:
        raise CallwiseError("Enter the 10-digit number the customer gave.")
    if re.search(r"[A-Za-z]", raw):
        raise CallwiseError(f"“{raw}” has letters in it; type the number as digits.",
                            action="Ask the customer for the digits, e.g. (312) 555-0142.")
    if re.search(r"[^\d\s().+\-]", raw) or raw.count("+") > 1 or ("+" in raw
                                                                     and not raw.startswith("+")):
        raise CallwiseError(f"“{raw}” is not a phone number.",
                            action="Type the 10 digits, e.g. (312) 555-0142.")
    digits = re.sub(r"\D", "", raw)
    if raw.startswith("+") and not digits.startswith("1"):
        raise CallwiseError("Only North American (+1) numbers can be dialled as a consult call.",
                            action="Type the 10-digit number, e.g. (312) 555-0142.")
    if len(digits) == 11 and digits.startswith("1"):
        digits = digits[1:]
    if len(digits) != 10:
        raise CallwiseError(f"That is {len(digits)} digit{'s' * (len(digits) != 1)}; the number "
                            "needs exactly 10 (area code and number).",
                            action="Check the number with the customer.")
    if digits[0] in "01":
        raise CallwiseError(f"The area code {digits[:3]} cannot start with {digits[0]}.",
                            action="Check the area code with the customer.")
    if digits[3] in "01":
        raise CallwiseError(f"The exchange {digits[3:6]} (after the area code) cannot start "
                            f"with {digits[3]}.", action="Check the number with the customer.")
    return f"+1{digits}"


def same_number(a: str, b: str) -> bool:
    """Two ways of writing one NANP number (last ten digits equal)."""
    da, db = re.sub(r"\D", "", a), re.sub(r"\D", "", b)
    return len(da) >= 10 and da[-10:] == db[-10:]


def show_number(e164: str) -> str:
    """+13125550142 -> (312) 555-0142; anything else as it came."""
    digits = re.sub(r"\D", "", e164)
    if len(digits) == 11 and digits.startswith("1"):
        digits = digits[1:]
    if len(digits) == 10:
        return f"({digits[:3]}) {digits[3:6]}-{digits[6:]}"
    return e164
