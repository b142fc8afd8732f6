"""What the dial gate reads at every dial, on both backends: one query per fact, and the same
answers as the general-purpose reads they stand in for."""

from __future__ import annotations

from datetime import time, timedelta

import pytest

from app.domain.agent import Agent
from app.domain.call import CallRecord, new_record_id
from app.domain.customer import Consent, Customer
from app.domain.enums import CallOrigin, CallOutcome, CallReason, NotificationTemplate
from app.domain.memo import Memo, PaymentTopic
from app.ports.store import Notification
from app.storage import SqlStore
from tests.integration.storage.conftest import T0, make_customer

CALLBACK = NotificationTemplate.CUSTOMER_CALLBACK.value
DROPPED = NotificationTemplate.DROPPED_CALL.value


@pytest.fixture
def ready(store: SqlStore, agents: tuple[Agent, Agent]) -> SqlStore:
    with store.unit_of_work() as uow:
        uow.customers.add(make_customer("c-ana", "Ana", "García", "ACC-1", "+13125550142",
                                        "+13125550199", "+442079460958",
                                        service_zone="America/Chicago", device="Pixel 8",
                                        extra={"plan": "Unlimited"}))
        uow.customers.add(make_customer("c-ben", "Ben", "Okafor", "ACC-2", "+13125550143"))
        uow.customers.add(Customer("c-nonum", "Noa", "Numberless", "ACC-3", ()))
        uow.commit()
    return store


def _note(nid: str, template: str, minutes: int, delivered: bool = True,
          customer: str = "c-ana") -> Notification:
    channel = "email" if template == "sa_email" else "sip_message"
    return Notification(nid, customer, "ann", channel, template, "sip:13125550142@example.test",
                        "We will call you shortly.", T0 + timedelta(minutes=minutes), delivered,
                        "" if delivered else "408 Request Timeout")


def test_templates_sent_names_every_delivered_template_since_a_time(ready: SqlStore) -> None:
    with ready.unit_of_work() as uow:
        for note in (_note("n1", CALLBACK, 0), _note("n2", DROPPED, 5, delivered=False),
                     _note("n3", "sa_email", 10), _note("n4", CALLBACK, 12),
                     _note("n5", DROPPED, 20, customer="c-ben")):
            uow.notifications.add(note)
        uow.commit()
    with ready.unit_of_work(read_only=True) as uow:
        sent = uow.notifications.templates_sent
        assert sent("c-ana", T0) == {CALLBACK, "sa_email"}  # the failed Dropped Call is not
        assert sent("c-ana", T0 + timedelta(minutes=10)) == {CALLBACK, "sa_email"}  # inclusive
        assert sent("c-ana", T0 + timedelta(minutes=11)) == {CALLBACK}
        assert sent("c-ana", T0 + timedelta(minutes=13)) == set()
        assert sent("c-ben", T0) == {DROPPED}
        assert sent("c-nobody", T0) == set()
        # The same answer as asking `last_sent` template by template, which it replaces.
        for since_minutes in (0, 1, 10, 11, 13):
            since = T0 + timedelta(minutes=since_minutes)
            one_by_one = {t for t in (CALLBACK, DROPPED, "sa_email")
                          if uow.notifications.last_sent("c-ana", t, since) is not None}
            assert sent("c-ana", since) == one_by_one


def test_get_reads_numbers_in_order_and_only_the_consent_in_effect(ready: SqlStore) -> None:
    newest = Consent(time(7, 0), time(9, 0), "sam", T0 + timedelta(days=2), "early mornings")
    older_entered_later = Consent(time(18, 0), time(20, 0), "ann", T0 + timedelta(days=1),
                                  "evenings, typed in late")
    with ready.unit_of_work() as uow:
        uow.customers.record_consent("c-ana", newest)
        uow.customers.record_consent("c-ana", older_entered_later)
        uow.commit()
    with ready.unit_of_work(read_only=True) as uow:
        ana = uow.customers.get("c-ana")
        searched = uow.customers.search("Ana Garc")
        nonum = uow.customers.get("c-nonum")
        assert uow.customers.get("c-nobody") is None
    assert ana is not None
    assert [n.number for n in ana.numbers] == ["+13125550142", "+13125550199", "+442079460958"]
    assert ana.consent == newest  # the newest by when it was recorded, not by when typed in
    assert ana.device == "Pixel 8" and ana.extra == {"plan": "Unlimited"}
    assert searched == [ana]  # the dial's one-statement read agrees with the search's
    assert nonum == Customer("c-nonum", "Noa", "Numberless", "ACC-3", ())

    with ready.unit_of_work() as uow:
        uow.customers.revoke_consent("c-ana", "ann", T0 + timedelta(days=3))
        uow.commit()
    with ready.unit_of_work(read_only=True) as uow:
        revoked = uow.customers.get("c-ana")
    assert revoked is not None and revoked.consent is None


def _record(agent: Agent, minutes: int, customer: str = "c-ana") -> CallRecord:
    dialed = T0 + timedelta(minutes=minutes)
    return CallRecord(new_record_id(), customer, agent.id, "+13125550142", "13125550142",
                      CallOrigin.FOLLOW_UP, CallReason.TROUBLESHOOTING, dialed,
                      memo=Memo(reason="Troubleshooting"), verdicts={"OB-NOTIFY": "pass"})


def test_open_records_are_found_among_many_closed_ones_oldest_first(
        ready: SqlStore, agents: tuple[Agent, Agent]) -> None:
    ann, sam = agents
    done = Memo(reason="Troubleshooting", summary="Fixed.", customer_response="Thanks.",
                payment_topic=PaymentTopic.NOT_DISCUSSED)
    closed = []
    for minute in range(0, 120, 3):
        record = _record(ann, minute)
        record.connected(record.dialed_at + timedelta(seconds=5))
        record.ended(record.dialed_at + timedelta(minutes=1), CallOutcome.REMOTE_HANGUP)
        record.verify_customer(record.dialed_at + timedelta(seconds=10))
        record.confirm_recording_notice(record.dialed_at + timedelta(seconds=10))
        record.memo = done
        record.close(record.dialed_at + timedelta(minutes=2), [])
        closed.append(record)
    later, earlier, theirs = _record(ann, 200), _record(ann, 150), _record(sam, 160)
    with ready.unit_of_work() as uow:
        for record in (*closed, later, earlier, theirs):
            uow.calls.add(record)
        uow.commit()
    with ready.unit_of_work(read_only=True) as uow:
        open_ones = uow.calls.open_records("ann")
        assert open_ones == [uow.calls.get(earlier.id), uow.calls.get(later.id)]
        assert uow.calls.open_records("sam") == [theirs]
        assert uow.calls.recent_for_customer("c-ana", 2) == [later, theirs]
    assert open_ones == [earlier, later]
