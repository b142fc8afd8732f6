"""Text that must never be stored: Social Security numbers, PINs/passcodes, payment card numbers.

OB-NOSSN forbids verifying an SSN or PIN on an outbound call, and what is never asked for must
never be written down either. The memo form runs this on every keystroke and the record refuses
to close while anything is found, so the checks favour patterns people actually type over
exotic ones, and they stay quiet on what memos are full of: ticket numbers, phone numbers,
dates and amounts.

Ticket formats assumed (masked before any check): "TKT-" + 8 digits ("TKT-12345678") and
"INC" + 7 digits ("INC1234567"), in any letter case. More generally, digits glued to letters
(an identifier such as "ORD20260001234567") are never read as SSN, PIN or card.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum


class SensitiveKind(StrEnum):
    SSN = "ssn"
    PIN = "pin"
    CARD = "card"

    @property
    def label(self) -> str:
        return _LABELS[self]


_LABELS = {
    SensitiveKind.SSN: "a Social Security number",
    SensitiveKind.PIN: "a PIN or passcode",
    SensitiveKind.CARD: "a payment card number",
}

_MESSAGES = {
    SensitiveKind.SSN: "This looks like a Social Security number. Social Security numbers are "
                       "never verified on outbound calls and never stored: remove it.",
    SensitiveKind.PIN: "This looks like a PIN or passcode. PINs and passcodes are never verified "
                       "on outbound calls and never stored: remove it.",
    SensitiveKind.CARD: "This looks like a payment card number. Card numbers are never stored: "
                        "remove it.",
}


@dataclass(frozen=True)
class Finding:
    kind: SensitiveKind
    start: int  # [start, end) in the text checked
    end: int
    message: str  # what the agent reads


TICKET_PATTERN = re.compile(r"(?<![A-Za-z0-9])(?:TKT-\d{8}|INC\d{7})(?![A-Za-z0-9])", re.I)

# A number token: digits, possibly grouped by single dashes, dots or spaces ("123-45-6789").
# Not glued to letters, "$" or another digit group.
_EDGE_BEFORE = r"(?<![A-Za-z0-9$])(?<!\d[-.])(?<![A-Za-z]-)"
_EDGE_AFTER = r"(?![A-Za-z0-9])(?![-.]\d)(?![.,]\d)"

_SSN_SHAPE = re.compile(_EDGE_BEFORE + r"\d{3}([-. ])\d{2}\1\d{4}" + r"(?![A-Za-z0-9])(?![-. ]\d)")

# A run of digit groups joined by single spaces or dashes, not glued to letters or "$".
_RUN = re.compile(r"(?<![A-Za-z0-9$])(?<!\d[-.])(?<![A-Za-z]-)"
                  r"\d+(?:[ -]\d+)*"
                  r"(?![A-Za-z0-9])(?![.,]\d)")
# How cards are printed: 4-4-4-4(-3), Amex 4-6-5, Diners 4-6-4.
_CARD_GROUPINGS = ((4, 4, 4, 4), (4, 4, 4, 4, 3), (4, 6, 5), (4, 6, 4), (4, 4, 4, 4, 2),
                   (4, 4, 4, 1))

_SSN_WORD = r"(?:ssn|s\.s\.n\.?|social\s+security(?:\s+(?:number|no\.?|num|#))?|social)"
_PIN_WORD = r"(?:pin|passcode|pass\s+code|password|passwd)"
# Short words people put between the keyword and the digits: "SSN ends in 6789".
_FILLER = (r"(?:\s*(?:[:#=]|(?:is|was|ending|ends|ended|in|with|last|four|4|digits?|of|number|"
           r"no|num|code|new|old|set|to|changed|given|provided|her|his|their|the|as|are)\b))"
           r"{0,4}\s*")
_DIGITS = r"(\d(?:[-. ]?\d){3,8})"

_SSN_AFTER = re.compile(r"\b" + _SSN_WORD + r"\b" + _FILLER + _EDGE_BEFORE + _DIGITS
                        + _EDGE_AFTER, re.I)
_PIN_AFTER = re.compile(r"\b" + _PIN_WORD + r"\b" + _FILLER + _EDGE_BEFORE + r"(\d{4,8})"
                        + _EDGE_AFTER, re.I)
_PIN_BEFORE = re.compile(_EDGE_BEFORE + r"(\d{4,8})" + _EDGE_AFTER
                         + r"\s*(?:(?:is|was|as|for|the|her|his|their|new|old|account)\s+){0,3}"
                         + _PIN_WORD + r"\b", re.I)


def luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def _card_spans(run: str) -> list[tuple[int, int]]:
    """Card numbers inside one run of digit groups: the whole run, or (when a card was typed
    right after another number) consecutive groups printed the way cards are."""
    digits = re.sub(r"\D", "", run)
    if 13 <= len(digits) <= 19:
        return [(0, len(run))] if luhn_ok(digits) else []
    if len(digits) < 13:
        return []
    groups = [(g.start(), g.end()) for g in re.finditer(r"\d+", run)]
    spans: list[tuple[int, int]] = []
    i = 0
    while i < len(groups):
        for shape in _CARD_GROUPINGS:
            window = groups[i:i + len(shape)]
            if tuple(e - s for s, e in window) != shape:
                continue
            text = "".join(run[s:e] for s, e in window)
            if luhn_ok(text):
                spans.append((window[0][0], window[-1][1]))
                i += len(shape) - 1
                break
        i += 1
    return spans


def _mask_tickets(text: str) -> str:
    """Tickets become letters of the same length, so offsets stay true and no digit survives."""
    return TICKET_PATTERN.sub(lambda m: "T" * len(m.group(0)), text)


def find_sensitive(text: str) -> list[Finding]:
    """Everything in `text` that looks like an SSN, a PIN/passcode or a card number, in order."""
    if not any(ch.isdigit() for ch in text):
        return []
    masked = _mask_tickets(text)
    found: list[Finding] = []

    def add(kind: SensitiveKind, start: int, end: int) -> None:
        if any(f.start < end and start < f.end for f in found):
            return  # one finding per stretch of text: the first, most specific one wins
        found.append(Finding(kind, start, end, _MESSAGES[kind]))

    for m in _RUN.finditer(masked):
        for start, end in _card_spans(m.group(0)):
            add(SensitiveKind.CARD, m.start() + start, m.start() + end)
    for m in _SSN_SHAPE.finditer(masked):
        add(SensitiveKind.SSN, m.start(), m.end())
    for m in _SSN_AFTER.finditer(masked):
        digits = re.sub(r"\D", "", m.group(1))
        if 4 <= len(digits) <= 9:
            add(SensitiveKind.SSN, m.start(1), m.end(1))
    for pattern in (_PIN_AFTER, _PIN_BEFORE):
        for m in pattern.finditer(masked):
            add(SensitiveKind.PIN, m.start(1), m.end(1))
    return sorted(found, key=lambda f: f.start)
