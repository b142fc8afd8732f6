"""The demo seed against a real store: once only, and every demo customer can be looked up."""

from __future__ import annotations

from app.demo.customers import DEMO_AGENT_ID, demo_agent, demo_customers, demo_history, seed_demo
from app.storage import SqlStore
from tests.integration.storage.conftest import make_customer


def test_seeding_is_idempotent_and_every_demo_customer_is_findable(store: SqlStore) -> None:
    assert seed_demo(store) is True
    assert seed_demo(store) is False
    with store.unit_of_work(read_only=True) as uow:
        assert uow.customers.count() == len(demo_customers())
        assert uow.agents.get(DEMO_AGENT_ID) == demo_agent()
        for customer in demo_customers():
            assert uow.customers.get(customer.id) == customer
            national = customer.primary_number[-10:]
            typed = f"({national[:3]}) {national[3:6]}-{national[6:]}"
            assert customer.id in [c.id for c in uow.customers.search(typed)], typed
            assert customer.id in [c.id for c in uow.customers.search(customer.last_name)]


def test_the_seeded_history_drives_the_dial_gate_facts(store: SqlStore) -> None:
    seed_demo(store)
    with store.unit_of_work(read_only=True) as uow:
        history = {c.id: uow.customers.contact_history(c.id) for c in demo_customers()}
        assert len(uow.calls.recent_for_customer("demo-marcus-johnson", 10)) == 3
        assert all(uow.calls.get(r.id) == r for r in demo_history())
    assert not history["demo-northwind-freight"].spoke_before
    assert history["demo-marcus-johnson"].unanswered_attempts == 2
    assert history["demo-priya-patel"].unanswered_attempts == 1
    assert history["demo-ana-garcia"].spoke_before
    assert history["demo-ana-garcia"].unanswered_attempts == 0


def test_a_store_with_real_customers_gets_no_demo_customers(store: SqlStore) -> None:
    with store.unit_of_work() as uow:
        uow.customers.add(make_customer("real-1", "Real", "Person", "R-1", "+13125559999"))
        uow.commit()
    assert seed_demo(store) is False
    with store.unit_of_work(read_only=True) as uow:
        assert uow.customers.count() == 1
        assert uow.agents.get(DEMO_AGENT_ID) is not None
