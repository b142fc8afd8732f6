"""Reading a customer CSV: every bad row reported by line with a reason, good rows normalised."""

from __future__ import annotations

import io
from datetime import date

import pytest

from app.cli.customers import BadFile, derived_id, parse_number, read_customers
from app.domain.customer import PhoneNumber

HEADER = "account_number,first_name,last_name,phone,other_phones,service_zone,last_care_call\n"


def read(text: str, region: str = "US") -> tuple[list[tuple[int, str]], dict[int, str]]:
    parsed = read_customers(io.StringIO(text, newline=""), region)
    return ([(line, c.id) for line, c in parsed.customers],
            {p.line: p.reason for p in parsed.problems})


@pytest.mark.parametrize(("typed", "e164"), [
    ("(312) 555-0142", "+13125550142"),
    ("312.555.0142", "+13125550142"),
    ("+1 312 555 0142", "+13125550142"),
    ("1-312-555-0142", "+13125550142"),
    ("+44 20 7946 0958", "+442079460958"),
])
def test_numbers_typed_any_way_become_e164(typed: str, e164: str) -> None:
    assert parse_number(typed, "US") == e164


def test_a_national_number_is_read_in_the_given_region() -> None:
    assert parse_number("020 7946 0958", "GB") == "+442079460958"
    with pytest.raises(ValueError, match="not a valid phone number in region US"):
        parse_number("020 7946 0958", "US")


def test_good_rows_are_read_and_bad_rows_reported_by_line() -> None:
    text = (HEADER
            + "ACC-1,Ana,García,(312) 555-0142,mobile: 773 555 0119,America/Chicago,2025-02-01\n"
            + "ACC-2,Ben,Smith,555-01,,,\n"                      # line 3: too short a number
            + "ACC-3,Cy,Lee,+1 212 555 0122,,America/Chicagoo,\n"  # line 4: zone typo
            + "\n"                                                # line 5: blank, skipped
            + "ACC-4,,Kim,+1 212 555 0123,,,\n"                   # line 6: no first name
            + "ACC-5,Di,Ng,+1 212 555 0124,,,2025-13-01\n"       # line 7: no such month
            + '"ACC-6","Ed","Multi\nLine",+1 212 555 0125,,,\n'  # lines 8-9: one record
            + "ACC-1,Ana,Again,+1 312 555 0142,,,\n"              # line 10: same id as line 2
            + "ACC-7,Fi,Two,+1 212 555 0126,+1 212 555 0126,,\n"  # line 11: number twice
            + "ACC-8,Gu,Short,+1 212 555 0127\n")                 # line 12: fields missing
    good, bad = read(text)
    assert good == [(2, "acct-acc1"), (8, "acct-acc6")]
    assert set(bad) == {3, 4, 6, 7, 10, 11, 12}
    assert "'555-01'" in bad[3]
    assert "America/Chicagoo" in bad[4] and "IANA" in bad[4]
    assert bad[6] == "first_name is empty"
    assert "YYYY-MM-DD" in bad[7]
    assert "already on line 2" in bad[10]
    assert "listed twice" in bad[11]
    assert "has 4 fields, the header has 7" in bad[12]


def test_a_good_row_is_complete() -> None:
    parsed = read_customers(io.StringIO(
        HEADER + "ACC-1,Ana,García,(312) 555-0142,mobile: 773 555 0119; 212 555 0122,"
                 "America/Chicago,2025-02-01\n", newline=""))
    (_, customer), = parsed.customers
    assert customer.numbers == (PhoneNumber("+13125550142", "primary"),
                                PhoneNumber("+17735550119", "mobile"),
                                PhoneNumber("+12125550122", "alt2"))
    assert customer.service_zone == "America/Chicago"
    assert customer.last_care_call == date(2025, 2, 1)
    assert customer.line_of_business == "postpaid"


def test_an_explicit_id_wins_and_derived_ids_are_stable() -> None:
    good, _ = read("id,account_number,first_name,last_name,phone\n"
                   "cust-9,ACC 9,Ana,Lee,+13125550142\n"
                   ",ACC 10,Bo,Lee,+13125550143\n")
    assert good == [(2, "cust-9"), (3, derived_id("ACC 10"))]
    assert derived_id("ACC 10") == derived_id("acc-10") == "acct-acc10"


@pytest.mark.parametrize(("text", "reason"), [
    ("", "empty"),
    ("first_name,last_name,phone\n", "missing column(s) account_number"),
    (HEADER.replace("phone,", "phone,fax,"), "unknown column(s) fax"),
    ("account_number,first_name,first_name,last_name,phone\n", "repeated column(s) first_name"),
    ('account_number,first_name,last_name,phone\n"ACC-1,Ana,Lee,+13125550142\n', "not valid CSV"),
])
def test_an_unusable_file_is_refused_as_a_whole(text: str, reason: str) -> None:
    with pytest.raises(BadFile, match=reason.replace("(", r"\(").replace(")", r"\)")):
        read_customers(io.StringIO(text, newline=""))


def test_over_long_values_are_reported_not_cut() -> None:
    _, bad = read("account_number,first_name,last_name,phone\n"
                  f"ACC-1,{'A' * 101},Lee,+13125550142\n")
    assert bad == {2: "first_name is longer than 100 characters"}
