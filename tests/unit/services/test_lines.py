"""The consult number (OB-ALTNUMBER: "Enter the 10-digit number") and the two lines' bookkeeping."""

from __future__ import annotations

import pytest

from app.domain.enums import CallOutcome
from app.domain.errors import CallwiseError
from app.ports.phone import CallPhase
from app.services.lines import Lines, LineStatus, consult_number, same_number, show_number


@pytest.mark.parametrize("typed", ["(312) 555-0142", "312.555.0142", "312 555 0142",
                                   "3125550142", "+1 312 555 0142", "1-312-555-0142"])
def test_ten_digits_typed_any_way_become_one_number(typed: str) -> None:
    assert consult_number(typed) == "+13125550142"


@pytest.mark.parametrize(("typed", "says"), [
    ("312 555 014", "That is 9 digits"),
    ("312 555 01422", "That is 11 digits"),
    ("", "Enter the 10-digit number"),
    ("312-555-CALL", "has letters"),
    ("(012) 555-0142", "area code 012 cannot start with 0"),
    ("(312) 155-0142", "exchange 155"),
    ("+44 20 7946 0142", "North American"),
    ("312#555#0142", "is not a phone number"),
])
def test_anything_else_is_refused_with_the_reason(typed: str, says: str) -> None:
    with pytest.raises(CallwiseError) as refused:
        consult_number(typed)
    assert says in refused.value.message


def test_line_one_held_while_line_two_talks_then_ended_alone() -> None:
    lines = Lines()
    lines.ring("in-1", "+13125550141")
    assert lines.one is not None and lines.one.status is LineStatus.RINGING
    assert not lines.consulting  # not before it is answered
    lines.progressed("in-1", CallPhase.CONNECTED)
    assert lines.consulting and lines.talking() is lines.one
    lines.progressed("in-1", CallPhase.HELD)
    lines.dialled("rec-2", "+13125550188", "Ana García")
    lines.progressed("rec-2", CallPhase.CONNECTED)
    assert lines.talking() is lines.two
    ended = lines.ended("in-1", CallOutcome.LOCAL_HANGUP)
    assert ended is not None and ended.outcome is CallOutcome.LOCAL_HANGUP and not ended.live
    assert lines.two is not None and lines.two.live  # line two untouched
    lines.clear("in-1")
    assert lines.one is None and lines.get("rec-2") is lines.two
    assert lines.progressed("unknown", CallPhase.HELD) is None


def test_numbers_are_shown_and_compared_as_agents_read_them() -> None:
    assert show_number("+13125550142") == "(312) 555-0142"
    assert show_number("sip-user") == "sip-user"
    assert same_number("13125550142", "+1 (312) 555-0142")
    assert not same_number("5550142", "3125550142")
