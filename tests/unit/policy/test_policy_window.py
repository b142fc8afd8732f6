"""OB-WINDOW: 9 a.m.–8 p.m. in the customer's time zone, in every zone they may be in.

Instants are written in UTC with the expected local time worked out in the comment, so these
tests do not lean on the same zone arithmetic the engine uses.
"""

from __future__ import annotations

from datetime import time

import pytest

from app.policy.engine import Action, Outcome, evaluate
from app.policy.pack import PolicyPack
from tests.unit.policy.builders import facts, utc

PHOENIX = "+1 602 555 0100"
HONOLULU = "+1 808 555 0100"
IDAHO = "+1 208 555 0100"  # area code 208: America/Boise (Mountain) and America/Los_Angeles
SOUTH_DAKOTA = "+1 605 555 0110"  # America/Denver and America/North_Dakota/Center
LONDON = "+44 20 7946 0958"
PARIS = "+33 1 42 68 53 00"
TOLL_FREE = "1-800-555-0199"


def window(pack: PolicyPack, now: str, **changes: object) -> tuple[Outcome, str]:
    rule = evaluate(pack, facts(**changes), utc(now)).rule("OB-WINDOW")
    return rule.outcome, rule.reason


@pytest.mark.parametrize(("now", "expected"), [
    # Chicago in November is CST, UTC-6.
    ("2026-11-20T14:59:59Z", Outcome.BLOCK),  # 8:59:59 AM
    ("2026-11-20T15:00:00Z", Outcome.PASS),  # 9:00 AM: the window opens, inclusive
    ("2026-11-21T01:59:59Z", Outcome.PASS),  # 7:59:59 PM
    ("2026-11-21T02:00:00Z", Outcome.BLOCK),  # 8:00 PM: the window is closed, exclusive
    ("2026-11-21T02:30:00Z", Outcome.BLOCK),  # 8:30 PM (acceptance example)
    ("2026-11-21T08:00:00Z", Outcome.BLOCK),  # 2:00 AM
])
def test_window_edges_in_chicago(pack: PolicyPack, now: str, expected: Outcome) -> None:
    assert window(pack, now)[0] is expected


def test_blocked_reason_names_the_city_and_local_time(pack: PolicyPack) -> None:
    outcome, reason = window(pack, "2026-11-21T02:30:00Z")
    assert outcome is Outcome.BLOCK
    assert reason == ("It is 8:30 PM in Chicago (customer's local time); calls are allowed "
                      "9:00 AM–8:00 PM unless the customer agreed otherwise")
    rule = evaluate(pack, facts(), utc("2026-11-21T02:30:00Z")).rule("OB-WINDOW")
    assert rule.action is Action.RECORD_CONSENT
    assert "9 a.m. - 8 p.m." in rule.source


@pytest.mark.parametrize(("now", "expected"), [
    # US DST starts Sunday 2026-03-08: on Monday Chicago is CDT, UTC-5 (not UTC-6).
    ("2026-03-09T13:59:00Z", Outcome.BLOCK),  # 8:59 AM CDT
    ("2026-03-09T14:00:00Z", Outcome.PASS),  # 9:00 AM CDT (would be 8:00 with the old offset)
    ("2026-03-10T00:59:00Z", Outcome.PASS),  # 7:59 PM CDT on the 9th
    ("2026-03-10T01:00:00Z", Outcome.BLOCK),  # 8:00 PM CDT (would be 7:00 PM with UTC-6)
    # US DST ends Sunday 2026-11-01: on Monday Chicago is back on CST, UTC-6.
    ("2026-11-02T14:59:00Z", Outcome.BLOCK),  # 8:59 AM CST (would be 9:59 with UTC-5)
    ("2026-11-02T15:00:00Z", Outcome.PASS),  # 9:00 AM CST
    ("2026-11-03T01:59:00Z", Outcome.PASS),  # 7:59 PM CST on the 2nd (8:59 PM with UTC-5)
    ("2026-11-03T02:00:00Z", Outcome.BLOCK),  # 8:00 PM CST
])
def test_day_after_us_dst_change(pack: PolicyPack, now: str, expected: Outcome) -> None:
    assert window(pack, now)[0] is expected


@pytest.mark.parametrize(("number", "now", "expected"), [
    # Europe's DST starts Sunday 2026-03-29: on Monday London is BST, UTC+1.
    (LONDON, "2026-03-30T07:59:00Z", Outcome.BLOCK),  # 8:59 AM BST
    (LONDON, "2026-03-30T08:00:00Z", Outcome.PASS),  # 9:00 AM BST
    (LONDON, "2026-03-30T18:59:00Z", Outcome.PASS),  # 7:59 PM BST
    (LONDON, "2026-03-30T19:00:00Z", Outcome.BLOCK),  # 8:00 PM BST
    # Europe's DST ends Sunday 2026-10-25: on Monday Paris is CET, UTC+1 (not CEST, UTC+2).
    (PARIS, "2026-10-26T07:59:00Z", Outcome.BLOCK),  # 8:59 AM CET
    (PARIS, "2026-10-26T08:00:00Z", Outcome.PASS),  # 9:00 AM CET
    (PARIS, "2026-10-26T18:59:00Z", Outcome.PASS),  # 7:59 PM CET (8:59 PM with CEST)
    (PARIS, "2026-10-26T19:00:00Z", Outcome.BLOCK),  # 8:00 PM CET
    # Between the US and the European change (2026-03-09..28) London is still GMT.
    (LONDON, "2026-03-16T08:59:00Z", Outcome.BLOCK),  # 8:59 AM GMT
    (LONDON, "2026-03-16T09:00:00Z", Outcome.PASS),
])
def test_day_after_european_dst_change(pack: PolicyPack, number: str, now: str,
                                       expected: Outcome) -> None:
    assert window(pack, now, number=number, international_calling=True)[0] is expected


@pytest.mark.parametrize(("number", "now", "expected", "city"), [
    # Phoenix keeps MST (UTC-7) all summer, while Denver is on MDT.
    (PHOENIX, "2026-07-15T15:59:00Z", Outcome.BLOCK, "Phoenix"),  # 8:59 AM MST
    (PHOENIX, "2026-07-15T16:00:00Z", Outcome.PASS, "Phoenix"),  # 9:00 AM MST
    (PHOENIX, "2026-07-16T02:59:00Z", Outcome.PASS, "Phoenix"),  # 7:59 PM MST
    (PHOENIX, "2026-07-16T03:00:00Z", Outcome.BLOCK, "Phoenix"),  # 8:00 PM MST
    # Honolulu is HST (UTC-10) all year.
    (HONOLULU, "2026-07-15T18:59:00Z", Outcome.BLOCK, "Honolulu"),  # 8:59 AM HST
    (HONOLULU, "2026-07-15T19:00:00Z", Outcome.PASS, "Honolulu"),  # 9:00 AM HST
    (HONOLULU, "2026-07-16T05:59:00Z", Outcome.PASS, "Honolulu"),  # 7:59 PM HST
    (HONOLULU, "2026-07-16T06:00:00Z", Outcome.BLOCK, "Honolulu"),  # 8:00 PM HST
])
def test_zones_without_summer_time(pack: PolicyPack, number: str, now: str, expected: Outcome,
                                   city: str) -> None:
    outcome, reason = window(pack, now, number=number)
    assert outcome is expected
    assert f"in {city} " in reason


@pytest.mark.parametrize(("number", "now", "expected"), [
    # Idaho (208): Boise is MST (UTC-7), northern Idaho PST (UTC-8) in November.
    (IDAHO, "2026-11-20T16:30:00Z", Outcome.BLOCK),  # 9:30 AM Boise, 8:30 AM Los Angeles
    (IDAHO, "2026-11-20T17:00:00Z", Outcome.PASS),  # 10:00 AM Boise, 9:00 AM Los Angeles
    (IDAHO, "2026-11-21T02:59:00Z", Outcome.PASS),  # 7:59 PM Boise, 6:59 PM Los Angeles
    (IDAHO, "2026-11-21T03:00:00Z", Outcome.BLOCK),  # 8:00 PM Boise, 7:00 PM Los Angeles
    # South Dakota (605): Mountain and Central (acceptance example).
    (SOUTH_DAKOTA, "2026-11-20T15:30:00Z", Outcome.BLOCK),  # 8:30 AM Denver, 9:30 AM Center
    (SOUTH_DAKOTA, "2026-11-20T16:00:00Z", Outcome.PASS),  # 9:00 AM Denver, 10:00 AM Center
])
def test_area_codes_spanning_two_zones_must_fit_both(pack: PolicyPack, number: str, now: str,
                                                     expected: Outcome) -> None:
    assert window(pack, now, number=number)[0] is expected


def test_multi_zone_reason_names_each_zone(pack: PolicyPack) -> None:
    verdict = evaluate(pack, facts(number=IDAHO), utc("2026-11-20T16:30:00Z"))
    reason = verdict.rule("OB-WINDOW").reason
    assert "9:30 AM in Boise" in reason
    assert "8:30 AM in Los Angeles" in reason
    assert verdict.zones.zones == ("America/Boise", "America/Los_Angeles")
    assert verdict.zones.source == "phone number"


def test_toll_free_number_has_no_zone_until_the_service_zone_is_recorded(
        pack: PolicyPack) -> None:
    noon_in_chicago = "2026-11-20T18:00:00Z"
    verdict = evaluate(pack, facts(number=TOLL_FREE), utc(noon_in_chicago))
    rule = verdict.rule("OB-WINDOW")
    assert rule.outcome is Outcome.BLOCK
    assert rule.action is Action.RECORD_SERVICE_ZONE
    assert "toll-free" in rule.reason
    assert verdict.zones.source == "unknown"
    assert verdict.dial_string == "18005550199"  # the number itself is fine
    with_zone = evaluate(pack, facts(number=TOLL_FREE, service_zone="America/New_York"),
                         utc(noon_in_chicago))
    assert with_zone.rule("OB-WINDOW").outcome is Outcome.PASS
    assert "in New York" in with_zone.rule("OB-WINDOW").reason


def test_ported_number_uses_the_service_address_zone(pack: PolicyPack) -> None:
    # A Chicago number whose owner now lives in Los Angeles: 10:30 AM in Chicago, 8:30 in LA.
    now = utc("2026-11-20T16:30:00Z")
    assert evaluate(pack, facts(), now).rule("OB-WINDOW").outcome is Outcome.PASS
    ported = evaluate(pack, facts(service_zone="America/Los_Angeles"), now)
    rule = ported.rule("OB-WINDOW")
    assert rule.outcome is Outcome.BLOCK
    assert "8:30 AM in Los Angeles (customer's local time, from the service address)" in rule.reason
    assert ported.zones.source == "service address"


def test_unknown_service_zone_blocks_instead_of_guessing(pack: PolicyPack) -> None:
    rule = evaluate(pack, facts(service_zone="Mars/Olympus_Mons"),
                    utc("2026-11-20T18:00:00Z")).rule("OB-WINDOW")
    assert rule.outcome is Outcome.BLOCK
    assert rule.action is Action.RECORD_SERVICE_ZONE
    assert "Mars/Olympus_Mons" in rule.reason


def test_invalid_number_without_service_zone_has_no_known_zone(pack: PolicyPack) -> None:
    verdict = evaluate(pack, facts(number="12345"), utc("2026-11-20T18:00:00Z"))
    assert verdict.rule("OB-WINDOW").outcome is Outcome.BLOCK
    assert set(verdict.blocked_by) == {"NUMBER", "OB-WINDOW"}


@pytest.mark.parametrize(("consent", "now", "expected"), [
    # Wider: agreed 09:00–21:00; 8:30 PM CST (acceptance example).
    ((time(9), time(21)), "2026-11-21T02:30:00Z", Outcome.PASS),
    ((time(9), time(21)), "2026-11-21T03:00:00Z", Outcome.BLOCK),  # 9:00 PM: end exclusive
    ((time(7), time(21)), "2026-11-20T13:30:00Z", Outcome.PASS),  # 7:30 AM
    # Narrower: agreed 10:00–12:00 only. 1:00 PM is inside the default window but not theirs.
    ((time(10), time(12)), "2026-11-20T19:00:00Z", Outcome.BLOCK),  # 1:00 PM
    ((time(10), time(12)), "2026-11-20T15:30:00Z", Outcome.BLOCK),  # 9:30 AM
    ((time(10), time(12)), "2026-11-20T17:00:00Z", Outcome.PASS),  # 11:00 AM
    # Past midnight: a night-shift worker agreed to 21:00–07:00.
    ((time(21), time(7)), "2026-11-21T04:00:00Z", Outcome.PASS),  # 10:00 PM
    ((time(21), time(7)), "2026-11-21T12:59:00Z", Outcome.PASS),  # 6:59 AM
    ((time(21), time(7)), "2026-11-20T18:00:00Z", Outcome.BLOCK),  # noon
    # An empty window opens nothing.
    ((time(9), time(9)), "2026-11-20T18:00:00Z", Outcome.BLOCK),
])
def test_consent_replaces_the_default_window(pack: PolicyPack, consent: tuple[time, time],
                                             now: str, expected: Outcome) -> None:
    outcome, reason = window(pack, now, consent_from=consent[0], consent_to=consent[1])
    assert outcome is expected
    assert "agreed" in reason


def test_consent_applies_in_every_zone_of_the_number(pack: PolicyPack) -> None:
    # 208 at 20:30 Boise / 19:30 LA; consent until 21:00 opens both.
    outcome, _ = window(pack, "2026-11-21T03:30:00Z", number=IDAHO, consent_from=time(9),
                        consent_to=time(21))
    assert outcome is Outcome.PASS


def test_now_with_any_offset_gives_the_same_verdict(pack: PolicyPack) -> None:
    a = evaluate(pack, facts(), utc("2026-11-21T02:30:00Z"))
    b = evaluate(pack, facts(), utc("2026-11-20T20:30:00-06:00"))
    c = evaluate(pack, facts(), utc("2026-11-21T11:30:00+09:00"))
    assert a == b == c


def test_naive_now_is_refused(pack: PolicyPack) -> None:
    from datetime import datetime

    with pytest.raises(ValueError, match="aware"):
        evaluate(pack, facts(), datetime(2026, 11, 20, 12, 0))
