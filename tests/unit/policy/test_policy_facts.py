"""Dial facts built from the domain objects the desk holds."""

from __future__ import annotations

from datetime import UTC, datetime, time

import pytest

from app.domain.agent import Agent
from app.domain.customer import Consent, ContactHistory, Customer, PhoneNumber
from app.domain.enums import AgentState, CallOrigin, CallReason, Team
from app.policy.engine import Outcome, evaluate
from app.policy.facts import ConsentWindow, DialFacts
from app.policy.pack import PolicyPack
from tests.unit.policy.builders import facts, utc

AGENT = Agent(id="a1", name="Ana", team=Team.GLOBAL_CARE, state=AgentState.NOT_READY_FOLLOW_UP,
              international_calling=True)
CUSTOMER = Customer(id="c1", first_name="Lee", last_name="Park", account_number="9001",
                    numbers=(PhoneNumber("+13125550142"),), service_zone="America/Chicago",
                    consent=Consent(time(8), time(21), recorded_by="a2",
                                    recorded_at=datetime(2026, 11, 1, tzinfo=UTC)))


def test_from_domain_carries_every_fact(pack: PolicyPack) -> None:
    history = ContactHistory(spoke_before=True, unanswered_attempts=0, complete=False)
    f = DialFacts.from_domain(AGENT, CUSTOMER, history, number=CUSTOMER.primary_number,
                              origin=CallOrigin.FOLLOW_UP, reason=CallReason.TROUBLESHOOTING)
    assert f.team is Team.GLOBAL_CARE and f.international_calling
    assert f.consent == ConsentWindow(time(8), time(21))
    assert f.service_zone == "America/Chicago"
    assert f.history_complete is False
    # 8:30 AM in Chicago: outside the default window, inside the recorded consent.
    rule = evaluate(pack, f, utc("2026-11-20T14:30:00Z")).rule("OB-WINDOW")
    assert rule.outcome is Outcome.PASS


def test_consent_needs_both_ends() -> None:
    with pytest.raises(ValueError, match="both"):
        facts(consent_from=time(9))


def test_attempts_cannot_be_negative() -> None:
    with pytest.raises(ValueError, match="negative"):
        facts(unanswered_attempts=-1)
