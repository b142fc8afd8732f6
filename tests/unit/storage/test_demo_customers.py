"""The demo customers cover every time-zone case and every demo-line behaviour they claim to."""

from __future__ import annotations

from collections import Counter

import phonenumbers
from phonenumbers import timezone as pn_timezone

from app.demo.customers import demo_agent, demo_customers, demo_history
from app.domain.call import CallState
from app.domain.enums import Team


def _zones(number: str) -> tuple[str, ...]:
    return tuple(pn_timezone.time_zones_for_number(phonenumbers.parse(number)))


def test_there_are_at_least_a_dozen_with_unique_ids_and_accounts() -> None:
    customers = demo_customers()
    assert len(customers) >= 12
    assert len({c.id for c in customers}) == len(customers)
    assert len({c.account_number for c in customers}) == len(customers)


def test_every_number_is_valid_e164_in_a_range_reserved_for_fiction() -> None:
    for customer in demo_customers():
        for phone in customer.numbers:
            parsed = phonenumbers.parse(phone.number)
            assert phonenumbers.is_valid_number(parsed), phone.number
            assert phonenumbers.format_number(
                parsed, phonenumbers.PhoneNumberFormat.E164) == phone.number
            national = phonenumbers.national_significant_number(parsed)
            assert national[3:7] == "5550" or national.startswith("207946"), phone.number


def test_every_demo_line_behaviour_is_reachable() -> None:
    last_digits = Counter(p.number[-1] for c in demo_customers() for p in c.numbers)
    assert set("1234567") <= set(last_digits)  # answers, busy, no answer … not found


def test_the_time_zone_cases_are_all_there() -> None:
    by_name = {c.full_name: c for c in demo_customers()}
    zones = {name: _zones(c.primary_number) for name, c in by_name.items()}
    assert zones["Ana García"] == ("America/Chicago",)
    assert zones["Marcus Johnson"] == ("America/New_York",)
    assert zones["Priya Patel"] == ("America/Phoenix",)
    assert zones["Keoni Kahananui"] == ("Pacific/Honolulu",)
    assert set(zones["Emily Carter"]) == {"America/Boise", "America/Los_Angeles"}
    assert by_name["Emily Carter"].service_zone is None  # so the window must hold in both
    assert zones["Oliver Bennett"] == ("Europe/London",)
    assert len(zones["Northwind Freight"]) > 10  # toll-free: the number says nothing
    ported = by_name["Daniel Kim"]
    assert zones["Daniel Kim"] == ("America/Chicago",)
    assert ported.service_zone == "America/Los_Angeles"
    consenting = [c for c in demo_customers() if c.consent is not None]
    assert [c.full_name for c in consenting] == ["Sofia Rossi"]


def test_every_customer_has_the_proof_facts_an_agent_may_need() -> None:
    for customer in demo_customers():
        assert customer.last_bill_amount and customer.device and customer.last_care_call


def test_the_demo_agent_is_on_the_care_team() -> None:
    assert demo_agent().team is Team.CARE


def test_the_history_is_closed_records_for_demo_customers_only() -> None:
    ids = {c.id for c in demo_customers()}
    history = demo_history()
    assert history == sorted(history, key=lambda r: r.dialed_at)
    assert len({r.id for r in history}) == len(history)
    for record in history:
        assert record.customer_id in ids
        assert record.state is CallState.CLOSED and record.agent_id == demo_agent().id
    spoken = {r.customer_id for r in history if r.reached_customer}
    assert ids - spoken == {"demo-northwind-freight"}  # the one OB-SPOKE blocks
