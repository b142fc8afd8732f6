"""Numbers as people type them, the digits the line dials, and the zones a number rings in."""

from __future__ import annotations

import pytest

from app.policy.numbers import (
    dial_string,
    is_toll_free,
    is_valid,
    parse_number,
    to_e164,
    zone_city,
    zone_exists,
    zones_for,
)


@pytest.mark.parametrize(("typed", "e164"), [
    ("+1 312 555 0142", "+13125550142"),
    ("(312) 555-0142", "+13125550142"),
    ("312.555.0142", "+13125550142"),
    ("1-312-555-0142", "+13125550142"),
    ("3125550142", "+13125550142"),
    ("+44 20 7946 0958", "+442079460958"),
    ("011 44 20 7946 0958", "+442079460958"),
    ("+33 (0)1 42 68 53 00", "+33142685300"),
])
def test_e164(typed: str, e164: str) -> None:
    assert is_valid(typed)
    assert to_e164(typed) == e164


@pytest.mark.parametrize(("typed", "dial"), [
    ("+1 312 555 0142", "13125550142"),  # the acceptance README's example
    ("312-555-0142", "13125550142"),
    ("+1 416 555 0100", "14165550100"),  # Canada is NANP: 1 + number
    ("+44 20 7946 0958", "011442079460958"),
    ("+33 1 42 68 53 00", "01133142685300"),
    ("+39 06 6982 0000", "011390669820000"),  # Italy keeps its leading 0
    ("+61 2 9374 4000", "01161293744000"),
    ("12345", None),
])
def test_dial_string_digits_only(typed: str, dial: str | None) -> None:
    assert dial_string(typed) == dial
    if dial is not None:
        assert dial.isdigit()


def test_dial_plan_is_configurable() -> None:
    assert dial_string("+44 20 7946 0958", home_country_code=44, national_prefix="0",
                       international_prefix="00") == "02079460958"
    assert dial_string("+1 312 555 0142", home_country_code=44, national_prefix="0",
                       international_prefix="00") == "0013125550142"


def test_default_region_reads_numbers_without_country_code() -> None:
    assert to_e164("020 7946 0958", "GB") == "+442079460958"
    assert to_e164("020 7946 0958") is None  # not a US number


def test_toll_free() -> None:
    assert is_toll_free("1-800-555-0199")
    assert is_toll_free("(888) 555-0100")
    assert not is_toll_free("+1 312 555 0142")
    decision = zones_for("1-800-555-0199", None)
    assert decision.zones == () and decision.source == "unknown"
    assert "toll-free" in decision.explanation


@pytest.mark.parametrize(("typed", "zones"), [
    ("+1 312 555 0142", ("America/Chicago",)),
    ("+1 208 555 0100", ("America/Boise", "America/Los_Angeles")),
    ("+1 605 555 0110", ("America/Denver", "America/North_Dakota/Center")),
    ("+1 602 555 0100", ("America/Phoenix",)),
    ("+1 808 555 0100", ("Pacific/Honolulu",)),
    ("+44 20 7946 0958", ("Europe/London",)),
])
def test_zones_from_the_number(typed: str, zones: tuple[str, ...]) -> None:
    decision = zones_for(typed, None)
    assert decision.zones == zones
    assert decision.source == "phone number"


def test_service_zone_wins_over_the_number() -> None:
    decision = zones_for("+1 312 555 0142", "America/Los_Angeles")
    assert decision.zones == ("America/Los_Angeles",)
    assert decision.source == "service address"


@pytest.mark.parametrize("zone", ["Mars/Olympus_Mons", "", "../etc/passwd", "/etc/localtime",
                                  "Etc/Unknown"])
def test_unknown_service_zone(zone: str) -> None:
    assert not zone_exists(zone)
    assert zones_for("+1 312 555 0142", zone).source == "unknown"


def test_invalid_number_has_no_zone() -> None:
    decision = zones_for("12345", None)
    assert decision.zones == ()
    assert "not valid" in decision.explanation


@pytest.mark.parametrize(("zone", "city"), [
    ("America/Chicago", "Chicago"),
    ("America/Los_Angeles", "Los Angeles"),
    ("America/North_Dakota/Center", "Center, North Dakota"),
    ("America/Argentina/Buenos_Aires", "Buenos Aires, Argentina"),
    ("Pacific/Honolulu", "Honolulu"),
])
def test_zone_city(zone: str, city: str) -> None:
    assert zone_city(zone) == city


@pytest.mark.parametrize(("typed", "problem"), [
    ("", "no number was entered"),
    ("   ", "no number was entered"),
    ("call me", "does not look like a phone number"),
    ("12345", "too short"),
    ("+1 312 555 01420", "too long"),
])
def test_invalid_numbers_say_why(typed: str, problem: str) -> None:
    parsed = parse_number(typed)
    assert not parsed.valid
    assert parsed.problem is not None and problem in parsed.problem


def test_parse_is_cached_and_immutable() -> None:
    assert parse_number("+1 312 555 0142") is parse_number("+1 312 555 0142")
