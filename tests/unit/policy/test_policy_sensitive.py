"""OB-NOSSN: SSN-, PIN- and card-like text is caught; what memos are full of is not."""

from __future__ import annotations

import pytest

from app.policy.sensitive import TICKET_PATTERN, SensitiveKind, find_sensitive, luhn_ok

SSN, PIN, CARD = SensitiveKind.SSN, SensitiveKind.PIN, SensitiveKind.CARD


@pytest.mark.parametrize(("text", "kind", "found"), [
    ("Customer gave SSN 123-45-6789 by mistake", SSN, "123-45-6789"),
    ("ssn is 123456789", SSN, "123456789"),
    ("SSN: 123 45 6789", SSN, "123 45 6789"),
    ("ss# 123.45.6789", SSN, "123.45.6789"),
    ("no.123-45-6789", SSN, "123-45-6789"),
    ("last 4 of social 6789", SSN, "6789"),
    ("social security number ends in 6789", SSN, "6789"),
    ("Social: 123-45-6789", SSN, "123-45-6789"),
    ("PIN 1234", PIN, "1234"),
    ("pin is 12345678", PIN, "12345678"),
    ("passcode: 9876", PIN, "9876"),
    ("pass code 4321", PIN, "4321"),
    ("customer's pin: 0000.", PIN, "0000"),
    ("1234 is her PIN", PIN, "1234"),
    ("new passcode set to 55667788", PIN, "55667788"),
    ("card 4111 1111 1111 1111 exp 12/27", CARD, "4111 1111 1111 1111"),
    ("card 4111-1111-1111-1111", CARD, "4111-1111-1111-1111"),
    ("4111111111111111", CARD, "4111111111111111"),
    ("amex 3782 822463 10005", CARD, "3782 822463 10005"),
    ("mc 5500 0000 0000 0004 on file", CARD, "5500 0000 0000 0004"),
    ("call 312 555 0142 re card 4111 1111 1111 1111", CARD, "4111 1111 1111 1111"),
])
def test_finds_sensitive_text(text: str, kind: SensitiveKind, found: str) -> None:
    findings = find_sensitive(text)
    assert [(f.kind, text[f.start:f.end]) for f in findings] == [(kind, found)]
    assert findings[0].message.endswith("remove it.")
    assert kind.label.split()[-1].lower() in findings[0].message.lower()


@pytest.mark.parametrize("text", [
    # Ticket numbers in the assumed formats.
    "Updated TKT-12345678 and INC1234567",
    "tickets: TKT-12345678, tkt-87654321; inc7654321",
    "PIN reset requested in TKT-12345678",
    # Identifiers glued to letters.
    "order ORD4111111111111111", "ref ABC-4111111111111111", "INC1234567890123",
    # Phone numbers, however typed.
    "called 312-555-0142, (312) 555-0143 and +1 312 555 0144",
    "3125550142 3125550143",
    "312 555 0142 312 555 0143 312 555 0144",
    "alt number 011 44 20 7946 0958",
    # Dates, times and amounts.
    "on 2026-11-20 at 10:00, and 11/20/2026",
    "bill $1,234.56, paid $1234 on 2026-11-01",
    "balance 1234.56 due",
    # Words that contain the keywords, or keywords without digits.
    "One Time PIN sent and verified",
    "PIN reset in 2024 per customer",
    "spinning wheel on the screen for 2024 seconds",
    "social media post 2024",
    "customer asked about SSN policy",
    # A long number failing the Luhn check.
    "4111111111111112",
    # An account number alone.
    "account 123456789",
])
def test_quiet_on_what_memos_are_full_of(text: str) -> None:
    assert find_sensitive(text) == []


def test_several_findings_in_order_with_true_offsets() -> None:
    text = "SSN 123-45-6789; PIN 4321; card 4111 1111 1111 1111; TKT-12345678"
    findings = find_sensitive(text)
    assert [f.kind for f in findings] == [SSN, PIN, CARD]
    assert [text[f.start:f.end] for f in findings] == ["123-45-6789", "4321",
                                                       "4111 1111 1111 1111"]


def test_ticket_pattern_is_the_documented_one() -> None:
    assert TICKET_PATTERN.fullmatch("TKT-12345678")
    assert TICKET_PATTERN.fullmatch("INC1234567")
    assert not TICKET_PATTERN.fullmatch("TKT-1234")


def test_luhn() -> None:
    assert luhn_ok("4111111111111111")
    assert luhn_ok("378282246310005")
    assert not luhn_ok("4111111111111112")


def test_text_without_digits_is_never_flagged() -> None:
    assert find_sensitive("Customer read me their PIN and social security number.") == []
