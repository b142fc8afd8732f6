"""Agents, shifts, notifications, callbacks and tickets on both backends."""

from __future__ import annotations

from datetime import timedelta

import pytest

from app.domain.agent import Agent
from app.domain.enums import AgentState, NotificationTemplate, Team
from app.ports.store import Callback, CallbackStatus, Conflict, NotFound, Notification, Shift
from app.storage import SqlStore
from tests.integration.storage.conftest import T0, make_customer


@pytest.fixture
def ready(store: SqlStore, agents: tuple[Agent, Agent]) -> SqlStore:
    with store.unit_of_work() as uow:
        uow.customers.add(make_customer("c-ana", "Ana", "García", "ACC-1", "+13125550142"))
        uow.commit()
    return store


def test_an_agent_round_trips_and_its_state_changes_are_kept(
        store: SqlStore, agents: tuple[Agent, Agent]) -> None:
    ann, _ = agents
    with store.unit_of_work() as uow:
        assert uow.agents.get("ann") == ann
        assert uow.agents.get("nobody") is None
        uow.agents.record_state("ann", AgentState.NOT_READY_FOLLOW_UP, T0)
        uow.agents.record_state("ann", AgentState.TALKING, T0 + timedelta(minutes=1))
        with pytest.raises(NotFound):
            uow.agents.record_state("nobody", AgentState.READY, T0)
        uow.commit()
    with store.unit_of_work() as uow:
        stored = uow.agents.get("ann")
        changes = uow.agents.state_changes("ann", since=T0 + timedelta(seconds=1))
    assert stored is not None and stored.state is AgentState.TALKING
    assert [(c.state, c.at) for c in changes] == [(AgentState.TALKING, T0 + timedelta(minutes=1))]


def test_agents_on_a_new_team_share_its_row(store: SqlStore) -> None:
    with store.unit_of_work() as uow:
        uow.agents.add(Agent("g1", "G One", Team.GLOBAL_CARE, international_calling=True))
        uow.agents.add(Agent("g2", "G Two", Team.GLOBAL_CARE))
        uow.commit()
    with store.unit_of_work() as uow:
        g1 = uow.agents.get("g1")
    assert g1 is not None and g1.team is Team.GLOBAL_CARE and g1.international_calling


def test_the_shift_covering_a_time_is_found(store: SqlStore, agents: tuple[Agent, Agent]) -> None:
    morning = Shift("s1", "sam", T0, T0 + timedelta(hours=8))
    with store.unit_of_work() as uow:
        uow.shifts.add(morning)
        with pytest.raises(ValueError):
            uow.shifts.add(Shift("s2", "sam", T0, T0))
        uow.commit()
    with store.unit_of_work() as uow:
        assert uow.shifts.covering("sam", T0 + timedelta(hours=3)) == morning
        assert uow.shifts.covering("sam", T0 + timedelta(hours=8)) is None  # end is exclusive
        assert uow.shifts.covering("ann", T0 + timedelta(hours=3)) is None


def test_only_a_delivered_notification_counts_as_sent(ready: SqlStore) -> None:
    def note(nid: str, minutes: int, delivered: bool) -> Notification:
        return Notification(nid, "c-ana", "ann", "sip_message",
                            NotificationTemplate.CUSTOMER_CALLBACK.value,
                            "sip:13125550142@example.test", "We will call you shortly.",
                            T0 + timedelta(minutes=minutes), delivered,
                            "" if delivered else "408 Request Timeout")

    sent, failed_later = note("n1", 0, True), note("n2", 5, False)
    with ready.unit_of_work() as uow:
        uow.notifications.add(sent)
        uow.notifications.add(failed_later)
        with pytest.raises(ValueError):
            uow.notifications.add(Notification("n3", "c-ana", "ann", "fax",  # type: ignore[arg-type]
                                               "x", "d", "b", T0, True))
        uow.commit()
    with ready.unit_of_work() as uow:
        last = uow.notifications.last_sent
        assert last("c-ana", NotificationTemplate.CUSTOMER_CALLBACK, T0) == sent
        assert last("c-ana", "customer_callback", T0 + timedelta(minutes=1)) is None
        assert last("c-ana", "dropped_call", T0 - timedelta(days=1)) is None
        assert uow.notifications.for_customer("c-ana") == [failed_later, sent]


def test_callbacks_are_tracked_until_done(ready: SqlStore) -> None:
    def promise(cid: str, owner: str, hours: int, queue: str | None = None) -> Callback:
        return Callback(cid, "c-ana", owner, T0 + timedelta(hours=hours), "Check the repair",
                        T0, queue=queue)

    soon, later, queued = promise("cb1", "ann", 1), promise("cb2", "ann", 5), \
        promise("cb3", "sam", 2, queue="sa-assignment")
    with ready.unit_of_work() as uow:
        for cb in (later, soon, queued):
            uow.callbacks.add(cb)
        uow.commit()
    with ready.unit_of_work() as uow:
        cbs = uow.callbacks
        assert cbs.get("cb1") == soon
        assert [c.id for c in cbs.open_for_customer("c-ana")] == ["cb1", "cb3", "cb2"]
        assert [c.id for c in cbs.due("ann", T0 + timedelta(hours=2))] == ["cb1"]
        assert [c.id for c in cbs.due(None, T0 + timedelta(hours=3))] == ["cb1", "cb3"]
        assert [c.id for c in cbs.in_queue("sa-assignment")] == ["cb3"]
        cbs.set_status("cb1", CallbackStatus.DONE, T0 + timedelta(minutes=50))
        cbs.reassign("cb3", "ann", None)
        with pytest.raises(NotFound):
            cbs.set_status("cb-none", CallbackStatus.DONE, T0)
        uow.commit()
    with ready.unit_of_work() as uow:
        done = uow.callbacks.get("cb1")
        assert done is not None and done.status is CallbackStatus.DONE
        assert done.closed_at == T0 + timedelta(minutes=50)
        assert [c.id for c in uow.callbacks.due("ann", T0 + timedelta(hours=9))] == ["cb3", "cb2"]
        assert uow.callbacks.in_queue("sa-assignment") == []


def test_a_callback_for_an_unknown_owner_is_a_conflict(ready: SqlStore) -> None:
    with ready.unit_of_work() as uow, pytest.raises(Conflict):
        uow.callbacks.add(Callback("cbx", "c-ana", "ghost", T0, "r", T0))


def test_ticket_updates_need_a_reference_and_a_real_record(ready: SqlStore) -> None:
    with ready.unit_of_work() as uow:
        with pytest.raises(ValueError):
            uow.tickets.add_update(" ", None, "text", T0)
        with pytest.raises(NotFound):
            uow.tickets.add_update("TCK-1", "no-such-record", "text", T0)
        uow.tickets.add_update("TCK-1", None, "emailed the customer first", T0)
        uow.tickets.add_update("TCK-1", None, "second", T0 + timedelta(minutes=1))
        uow.commit()
    with ready.unit_of_work() as uow:
        assert [u.text for u in uow.tickets.updates("TCK-1")] == [
            "emailed the customer first", "second"]
