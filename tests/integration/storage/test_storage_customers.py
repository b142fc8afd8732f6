"""Customers on both backends: round trip, search as agents type, consent, zone, contact history."""

from __future__ import annotations

from datetime import date, time, timedelta

import pytest

from app.domain.agent import Agent
from app.domain.call import CallRecord, new_record_id
from app.domain.customer import Consent, ContactHistory
from app.domain.enums import CallOrigin, CallOutcome, CallReason
from app.ports.store import Conflict, NotFound
from app.storage import SqlStore
from tests.integration.storage.conftest import T0, make_customer

ANA = make_customer("c-ana", "Ana", "García", "ACC-10042", "+13125550142", "+17735550199",
                    line_of_business="business", service_zone="America/Chicago",
                    last_bill_amount="$84.12", device="Pixel 8", last_care_call=date(2025, 2, 3),
                    extra={"segment": "gold"},
                    consent=Consent(time(20, 0), time(21, 30), "ann", T0, "evenings only"))
BEN = make_customer("c-ben", "Ben", "Garner", "ACC-20077", "+12125550123")
LEO = make_customer("c-leo", "Leo", "Müller", "ZX-55", "+442079460958")


@pytest.fixture
def stocked(store: SqlStore) -> SqlStore:
    with store.unit_of_work() as uow:
        uow.customers.add_many([ANA, BEN, LEO])
        uow.commit()
    return store


def _ids(store: SqlStore, text: str, limit: int = 50) -> list[str]:
    with store.unit_of_work(read_only=True) as uow:
        return [c.id for c in uow.customers.search(text, limit)]


def test_a_customer_comes_back_exactly_as_stored(stocked: SqlStore) -> None:
    with stocked.unit_of_work(read_only=True) as uow:
        assert uow.customers.get("c-ana") == ANA
        assert uow.customers.get("c-nobody") is None
        assert uow.customers.count() == 3


@pytest.mark.parametrize("typed", [
    "(312) 555-0142", "312.555.0142", "+13125550142", "+1 312 555 0142", "1-312-555-0142",
    "3125550142", "555-0142", "0142", "011 1 312 555 0142", "773 555 0199",
])
def test_any_number_typed_any_way_finds_its_customer(stocked: SqlStore, typed: str) -> None:
    assert _ids(stocked, typed) == ["c-ana"]


@pytest.mark.parametrize("typed", ["020 7946 0958", "+44 20 7946 0958", "011 44 20 7946 0958",
                                   "0044 20 7946 0958", "7946 0958"])
def test_a_london_number_is_found_with_or_without_its_prefixes(stocked: SqlStore,
                                                                typed: str) -> None:
    assert _ids(stocked, typed) == ["c-leo"]


@pytest.mark.parametrize(("typed", "expected"), [
    ("ana", ["c-ana"]),
    ("GARCIA", ["c-ana"]),
    ("García, Ana", ["c-ana"]),
    ("ana garc", ["c-ana"]),
    ("gar", ["c-ana", "c-ben"]),  # ordered by last name
    ("muller", ["c-leo"]),
    ("acc-100", ["c-ana"]),
    ("acc", ["c-ana", "c-ben"]),
    ("zx55", ["c-leo"]),
])
def test_names_and_account_numbers_match_by_prefix(stocked: SqlStore, typed: str,
                                                   expected: list[str]) -> None:
    assert _ids(stocked, typed) == expected


@pytest.mark.parametrize("typed", ["xyz", "999 999 9999", "12"])
def test_search_finds_nothing_rather_than_everything(stocked: SqlStore, typed: str) -> None:
    assert _ids(stocked, typed) == []


@pytest.mark.parametrize("typed", ["", "   "])
def test_blank_search_lists_the_first_page_by_last_name(stocked: SqlStore, typed: str) -> None:
    assert _ids(stocked, typed) == ["c-ana", "c-ben", "c-leo"]
    assert _ids(stocked, typed, limit=2) == ["c-ana", "c-ben"]


def test_search_stops_at_the_limit(stocked: SqlStore) -> None:
    assert _ids(stocked, "gar", limit=1) == ["c-ana"]


def test_a_duplicate_customer_id_is_a_conflict(stocked: SqlStore) -> None:
    with stocked.unit_of_work() as uow, pytest.raises(Conflict):
        uow.customers.add(ANA)


def test_a_number_that_is_not_e164_is_refused(store: SqlStore) -> None:
    with store.unit_of_work() as uow, pytest.raises(ValueError, match=r"E\.164"):
        uow.customers.add(make_customer("c-x", "X", "Y", "A1", "312-555-0142"))


def test_service_zone_is_validated_and_remembered(stocked: SqlStore) -> None:
    with stocked.unit_of_work() as uow:
        with pytest.raises(ValueError, match="time zone"):
            uow.customers.set_service_zone("c-ben", "Mars/Olympus", "ann", T0)
        with pytest.raises(NotFound):
            uow.customers.set_service_zone("c-nobody", "America/Denver", "ann", T0)
        uow.customers.set_service_zone("c-ben", "America/Los_Angeles", "ann", T0)
        uow.commit()
    with stocked.unit_of_work() as uow:
        ben = uow.customers.get("c-ben")
    assert ben is not None and ben.service_zone == "America/Los_Angeles"


def test_the_newest_consent_applies_until_it_is_revoked(stocked: SqlStore) -> None:
    later = Consent(time(7, 0), time(9, 0), "sam", T0 + timedelta(days=1), "early mornings")
    with stocked.unit_of_work() as uow:
        uow.customers.record_consent("c-ana", later)
        uow.commit()
    with stocked.unit_of_work() as uow:
        ana = uow.customers.get("c-ana")
        assert ana is not None and ana.consent == later
        uow.customers.revoke_consent("c-ana", "ann", T0 + timedelta(days=2))
        uow.commit()
    with stocked.unit_of_work() as uow:
        ana = uow.customers.get("c-ana")
        assert ana is not None and ana.consent is None
        with pytest.raises(NotFound):
            uow.customers.record_consent("c-nobody", later)


def _attempt(customer_id: str, agent: Agent, at_minutes: int,
             outcome: CallOutcome | None, connected: bool = False) -> CallRecord:
    dialed = T0 + timedelta(minutes=at_minutes)
    record = CallRecord(new_record_id(), customer_id, agent.id, "+13125550142",
                        "13125550142", CallOrigin.FOLLOW_UP, CallReason.TROUBLESHOOTING, dialed)
    if connected:
        record.connected(dialed + timedelta(seconds=20))
    if outcome is not None:
        record.ended(dialed + timedelta(minutes=1), outcome)
    return record


def test_contact_history_counts_every_agents_attempts_since_the_last_conversation(
        stocked: SqlStore, agents: tuple[Agent, Agent]) -> None:
    ann, sam = agents
    with stocked.unit_of_work() as uow:
        assert uow.customers.contact_history("c-ana") == ContactHistory(False, 0)
        uow.calls.add(_attempt("c-ana", ann, 0, CallOutcome.NO_ANSWER))
        uow.calls.add(_attempt("c-ana", sam, 10, CallOutcome.BUSY))
        uow.commit()
    with stocked.unit_of_work() as uow:
        history = uow.customers.contact_history("c-ana")
    assert history == ContactHistory(spoke_before=False, unanswered_attempts=2,
                                     last_attempt_at=T0 + timedelta(minutes=10))

    talk = _attempt("c-ana", sam, 60, CallOutcome.REMOTE_HANGUP, connected=True)
    with stocked.unit_of_work() as uow:
        uow.calls.add(talk)
        uow.calls.add(_attempt("c-ana", ann, 120, CallOutcome.DECLINED))
        uow.calls.add(_attempt("c-ana", sam, 180, None))  # still ringing: an attempt all the same
        uow.calls.add(_attempt("c-ben", ann, 5, CallOutcome.NO_ANSWER))  # someone else
        uow.commit()
    with stocked.unit_of_work() as uow:
        history = uow.customers.contact_history("c-ana")
    assert history.spoke_before
    assert history.unanswered_attempts == 2
    assert history.last_conversation_at == talk.connected_at
    assert history.last_attempt_at == T0 + timedelta(minutes=180)
    assert history.complete
