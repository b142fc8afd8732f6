"""Callbacks as commitments: what may be promised, who keeps it, what closes it (no I/O peers).

The store here is an in-memory fake of the store port (transactions included: nothing is kept
without `commit`); the same behaviour on real SQLite and PostgreSQL is proven in
tests/integration/storage/test_commitments.py.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, time, timedelta
from typing import Any

import pytest

from app.demo.customers import demo_customers
from app.domain.agent import Agent
from app.domain.call import CallRecord
from app.domain.clock import FixedClock
from app.domain.commitment import (
    CallbackRefused,
    CallbackRequest,
    Urgency,
    local_words,
    span_words,
    status_words,
    to_utc,
    urgency,
)
from app.domain.customer import Consent, Customer, PhoneNumber
from app.domain.enums import CallOrigin, CallOutcome, CallReason, Team
from app.domain.errors import CallwiseError
from app.policy.pack import PolicyPack, load_pack
from app.ports.store import CallbackStatus, Shift
from app.services.callbacks import Commitments, call_context, complete_on_close
from tests.unit.services.memory_store import MemoryStore, MemoryUnitOfWork

NOW = datetime(2026, 11, 20, 16, 0, tzinfo=UTC)  # Friday 10:00 AM in Chicago
CHICAGO = "America/Chicago"


# -- fixtures ---------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def pack() -> PolicyPack:
    return load_pack(None)


CARE = Agent("ann", "Ann Agent", Team.CARE)
SA = Agent("sam", "Sam Specialist", Team.SERVICE_ASSURANCE)
LEAD = Agent("lee", "Lee Leader", Team.LEADER)


@pytest.fixture
def store() -> MemoryStore:
    s = MemoryStore()
    for c in demo_customers():
        s.state.customers[c.id] = c
    for a in (CARE, SA, LEAD):
        s.state.agents[a.id] = a
    # Ann works 8 AM - 6 PM Chicago today (14:00-00:00 UTC); Sam has no shift today.
    s.state.shifts.append(Shift("ann-fri", "ann", NOW - timedelta(hours=2),
                                NOW + timedelta(hours=8)))
    return s


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOW)


def service(store: MemoryStore, pack: PolicyPack, clock: FixedClock,
            agent: Agent = CARE) -> Commitments:
    return Commitments(store=store, pack=pack, clock=clock, agent=agent)  # type: ignore[arg-type]


def ask(customer: str, local: datetime, zone: str = CHICAGO,
        reason: CallReason = CallReason.TROUBLESHOOTING, **kw: Any) -> CallbackRequest:
    return CallbackRequest(customer_id=customer, local_due=local, zone=zone, reason=reason, **kw)


def today(hour: int, minute: int = 0, day: int = 20) -> datetime:
    return datetime(2026, 11, day, hour, minute)


# -- the domain's words and clocks ------------------------------------------------------------

def test_lateness_is_worded_to_the_minute() -> None:
    assert span_words(timedelta(seconds=59)) == "0 min"
    assert span_words(timedelta(minutes=125)) == "2 h 05 min"
    assert span_words(timedelta(days=3, hours=4, minutes=2)) == "3 days 4 h"
    assert status_words(NOW, NOW + timedelta(minutes=65)) == "Overdue by 1 h 05 min"
    assert status_words(NOW + timedelta(minutes=12), NOW) == "Due in 12 min"
    assert status_words(NOW, NOW + timedelta(seconds=10)) == "Overdue: due now"


def test_a_callback_is_due_soon_half_an_hour_ahead_and_overdue_from_its_due_time() -> None:
    assert urgency(NOW + timedelta(minutes=31), NOW) is Urgency.LATER
    assert urgency(NOW + timedelta(minutes=30), NOW) is Urgency.DUE_SOON
    assert urgency(NOW, NOW) is Urgency.OVERDUE


def test_the_customer_clock_becomes_utc_and_a_skipped_hour_does_not_exist() -> None:
    assert to_utc(today(15), CHICAGO) == datetime(2026, 11, 20, 21, 0, tzinfo=UTC)
    assert to_utc(datetime(2026, 3, 8, 2, 30), CHICAGO) is None  # clocks jump 2:00 → 3:00
    # 1:30 AM happens twice on Nov 1, 2026: the first (still daylight time) is meant.
    assert to_utc(datetime(2026, 11, 1, 1, 30), CHICAGO) == datetime(2026, 11, 1, 6, 30,
                                                                     tzinfo=UTC)
    assert local_words(NOW, CHICAGO) == "Fri Nov 20, 10:00 AM CST"


# -- promising --------------------------------------------------------------------------------

def test_a_callback_typed_on_the_customers_clock_is_stored_in_utc_and_kept_in_shift(
        store: MemoryStore, pack: PolicyPack, clock: FixedClock) -> None:
    svc = service(store, pack, clock)
    item = svc.schedule(ask("demo-ana-garcia", today(15), note="Check the repair finished"))
    stored = store.state.callbacks[item.id]
    assert stored.due_at == datetime(2026, 11, 20, 21, 0, tzinfo=UTC)
    assert stored.owner_id == "ann" and stored.queue is None
    assert stored.reason == "troubleshooting" and stored.created_at == NOW
    [entry] = [e for e in store.state.audit if e.record_id == item.id]
    assert entry.kind == "callback_scheduled"
    assert entry.payload["note"] == "Check the repair finished"
    assert entry.payload["zone"] == CHICAGO and entry.payload["shift"] == "ann-fri"
    assert [i.id for i in svc.board().mine] == [item.id]
    assert svc.board().mine[0].due_words() == "Fri Nov 20, 3:00 PM CST"


def test_outside_the_calling_window_is_refused_and_nothing_is_stored(
        store: MemoryStore, pack: PolicyPack, clock: FixedClock) -> None:
    svc = service(store, pack, clock)
    check = svc.check(ask("demo-ana-garcia", today(20, 30)))
    assert not check.allowed and check.rules == ("OB-WINDOW",)
    assert "8:30 PM in Chicago" in check.problems[0].text
    assert "9:00 AM–8:00 PM" in check.problems[0].text
    with pytest.raises(CallbackRefused) as refused:
        svc.schedule(ask("demo-ana-garcia", today(20, 30)))
    assert refused.value.rules == ["OB-WINDOW"]
    assert store.state.callbacks == {} and store.state.audit == []


def test_a_due_time_too_close_to_the_end_of_the_window_leaves_no_time_to_dial(
        store: MemoryStore, pack: PolicyPack, clock: FixedClock) -> None:
    svc = service(store, pack, clock)
    late = svc.check(ask("demo-ana-garcia", today(19, 50)))
    assert late.rules == ("OB-WINDOW",) and "less than 15 minutes" in late.problems[0].text
    assert svc.check(ask("demo-ana-garcia", today(19, 45))).allowed


def test_a_number_spanning_two_zones_must_fit_the_window_in_both(
        store: MemoryStore, pack: PolicyPack, clock: FixedClock) -> None:
    svc = service(store, pack, clock)
    ctx = svc.context("demo-emily-carter")
    assert set(ctx.zones) == {"America/Boise", "America/Los_Angeles"}
    early = svc.check(ask("demo-emily-carter", today(9, 30), zone="America/Boise"))
    assert early.rules == ("OB-WINDOW",)
    assert "9:30 AM in Boise" in early.when and "8:30 AM in Los Angeles" in early.when
    assert "must fit all of them" in early.problems[0].text
    fine = svc.check(ask("demo-emily-carter", today(10, 0), zone="America/Boise"))
    assert fine.allowed and fine.due_at == datetime(2026, 11, 20, 17, 0, tzinfo=UTC)
    wrong_zone = svc.check(ask("demo-emily-carter", today(11), zone=CHICAGO))
    assert wrong_zone.rules == ("OB-WINDOW",) and "not the customer's time zone" in (
        wrong_zone.problems[0].text)


def test_a_consent_window_replaces_the_default_hours(
        store: MemoryStore, pack: PolicyPack, clock: FixedClock) -> None:
    svc = service(store, pack, clock)
    ny = "America/New_York"
    evening = svc.check(ask("demo-sofia-rossi", today(20, 30), zone=ny))
    assert evening.allowed
    morning = svc.check(ask("demo-sofia-rossi", today(13), zone=ny))
    assert morning.rules == ("OB-WINDOW",)
    assert "agreed to calls only 8:00 PM–9:30 PM" in morning.problems[0].text
    assert svc.context("demo-sofia-rossi").window_is_consent


def test_a_customer_with_no_known_zone_cannot_be_promised_a_time(
        store: MemoryStore, pack: PolicyPack, clock: FixedClock) -> None:
    svc = service(store, pack, clock)
    ctx = svc.context("demo-northwind-freight")
    assert ctx.zones == ()
    check = svc.check(ask("demo-northwind-freight", today(11), zone=""))
    assert check.rules == ("OB-WINDOW",) and "service address" in check.problems[0].text


def test_the_past_and_the_far_future_are_not_promises(
        store: MemoryStore, pack: PolicyPack, clock: FixedClock) -> None:
    svc = service(store, pack, clock)
    assert svc.check(ask("demo-ana-garcia", today(9, 59))).rules == ("COMMIT",)
    assert svc.check(ask("demo-ana-garcia", datetime(2026, 12, 21, 11, 0))).rules == ("COMMIT",)


def test_a_skipped_local_hour_is_refused_with_the_reason(
        store: MemoryStore, pack: PolicyPack) -> None:
    clock = FixedClock(datetime(2026, 3, 6, 16, 0, tzinfo=UTC))
    night_owl = replace(store.state.customers["demo-ana-garcia"],
                        consent=Consent(time(0, 0), time(23, 59), "ann", NOW))
    store.state.customers[night_owl.id] = night_owl
    check = service(store, pack, clock).check(ask(night_owl.id, datetime(2026, 3, 8, 2, 30)))
    assert check.due_at is None and not check.allowed
    assert "does not exist in Chicago" in check.problems[0].text


@pytest.mark.parametrize("reason", [CallReason.CUSTOMER_DISCONNECTED,
                                    CallReason.TIME_RESTRICTION])
def test_excluded_reasons_are_refused_even_when_a_policy_is_named(
        store: MemoryStore, pack: PolicyPack, clock: FixedClock, reason: CallReason) -> None:
    svc = service(store, pack, clock)
    check = svc.check(ask("demo-ana-garcia", today(15), reason=reason, directed_by_policy=True,
                          policy_ref="POL-7"))
    assert check.rules == ("OB-NOCALLBACK",)
    assert check.problems[0].text.startswith("No callback is promised because the customer")


@pytest.mark.parametrize("reason", [CallReason.ACTIVATION, CallReason.SALES])
def test_activation_and_sales_need_a_directing_policy_and_its_reference(
        store: MemoryStore, pack: PolicyPack, clock: FixedClock, reason: CallReason) -> None:
    svc = service(store, pack, clock)
    bare = svc.check(ask("demo-ana-garcia", today(15), reason=reason))
    assert bare.rules == ("OB-NOCALLBACK",) and "unless a policy" in bare.problems[0].text
    no_ref = svc.check(ask("demo-ana-garcia", today(15), reason=reason, directed_by_policy=True))
    assert no_ref.rules == ("OB-NOCALLBACK",) and "reference" in no_ref.problems[0].text
    item = svc.schedule(ask("demo-ana-garcia", today(15), reason=reason, directed_by_policy=True,
                            policy_ref="MKT-2026-11"))
    listed = svc.board().mine[0]
    assert listed.id == item.id and listed.reason is reason
    assert listed.directed_by_policy and listed.policy_ref == "MKT-2026-11"
    context = call_context(listed)
    assert context.reason is reason and context.directed_by_policy
    assert context.origin is CallOrigin.FOLLOW_UP


def test_a_note_with_an_ssn_is_never_stored(
        store: MemoryStore, pack: PolicyPack, clock: FixedClock) -> None:
    svc = service(store, pack, clock)
    with pytest.raises(CallbackRefused) as refused:
        svc.schedule(ask("demo-ana-garcia", today(15), note="SSN 123-45-6789 confirmed"))
    assert refused.value.rules == ["OB-NOSSN"]
    assert store.state.audit == []


def test_the_point_of_action_rechecks_instead_of_trusting_the_dialog(
        store: MemoryStore, pack: PolicyPack, clock: FixedClock) -> None:
    svc = service(store, pack, clock)
    request = ask("demo-ana-garcia", today(10, 30))
    assert svc.check(request).allowed
    clock.advance(timedelta(minutes=45))  # the agent left the dialog open
    with pytest.raises(CallbackRefused) as refused:
        svc.schedule(request)
    assert refused.value.rules == ["COMMIT"]


# -- ownership and the queue ------------------------------------------------------------------

def test_outside_the_owners_shift_it_goes_to_the_team_queue(
        store: MemoryStore, pack: PolicyPack, clock: FixedClock) -> None:
    svc = service(store, pack, clock)
    check = svc.check(ask("demo-ana-garcia", today(11, day=23)))  # Monday: no shift recorded
    assert check.allowed and check.placement is not None and check.placement.queued
    assert "Care assignment queue" in check.placement.text
    item = svc.schedule(ask("demo-ana-garcia", today(11, day=23)))
    assert store.state.callbacks[item.id].queue == "care"
    board = svc.board()
    assert board.mine == () and [i.id for i in board.queue] == [item.id]
    assert board.queue[0].promised_by == "ann"
    assert service(store, pack, clock, SA).board().queue == ()  # another team's queue


def test_taking_a_queued_callback_needs_a_shift_that_covers_it(
        store: MemoryStore, pack: PolicyPack, clock: FixedClock) -> None:
    svc = service(store, pack, clock)
    item = svc.schedule(ask("demo-ana-garcia", today(11, day=23)))
    with pytest.raises(CallbackRefused) as refused:
        svc.take(item.id)
    assert refused.value.rules == ["SA-OWNERSHIP"]
    monday = datetime(2026, 11, 23, 14, 0, tzinfo=UTC)
    store.state.shifts.append(Shift("ann-mon", "ann", monday, monday + timedelta(hours=8)))
    taken = svc.take(item.id)
    assert taken.queue is None and taken.owner_id == "ann"
    assert [i.id for i in svc.board().mine] == [item.id]
    assert store.state.audit[-1].kind == "callback_assigned"
    assert store.state.audit[-1].payload["from_queue"] == "care"


def test_leaders_see_every_queue_and_everyones_overdue_and_assign(
        store: MemoryStore, pack: PolicyPack, clock: FixedClock) -> None:
    ann = service(store, pack, clock)
    queued = ann.schedule(ask("demo-ana-garcia", today(11, day=23)))
    mine = ann.schedule(ask("demo-liam-oconnor", today(10, 30)))
    clock.advance(timedelta(hours=1))  # 11:00: Ann's 10:30 callback is 30 min late
    lead = service(store, pack, clock, LEAD)
    board = lead.board()
    assert board.leader and [i.id for i in board.queue] == [queued.id]
    assert [i.id for i in board.overdue_everywhere] == [mine.id]
    assert ann.board().overdue_everywhere == ()
    with pytest.raises(CallwiseError):
        ann.assign(queued.id, "sam")  # only leaders assign to someone else
    monday = datetime(2026, 11, 23, 14, 0, tzinfo=UTC)
    store.state.shifts.append(Shift("sam-mon", "sam", monday, monday + timedelta(hours=8)))
    assigned = lead.assign(queued.id, "sam")
    assert assigned.owner_id == "sam" and assigned.queue is None
    assert [i.id for i in service(store, pack, clock, SA).board().mine] == [queued.id]


def test_mine_lists_overdue_first_then_by_due_time(
        store: MemoryStore, pack: PolicyPack, clock: FixedClock) -> None:
    svc = service(store, pack, clock)
    later = svc.schedule(ask("demo-ana-garcia", today(16)))
    sooner = svc.schedule(ask("demo-liam-oconnor", today(10, 20)))
    clock.advance(timedelta(minutes=30))
    board = svc.board()
    assert [i.id for i in board.mine] == [sooner.id, later.id]
    assert urgency(board.mine[0].due_at, clock.now()) is Urgency.OVERDUE
    assert board.mine[1].customer_name == "Ana García"


# -- keeping and cancelling -------------------------------------------------------------------

def _call(store: MemoryStore, customer: str, dialed: datetime, reached: bool,
          record_id: str = "rec-1") -> CallRecord:
    record = CallRecord(record_id, customer, "ann", "+13125550141", "13125550141",
                        CallOrigin.FOLLOW_UP, CallReason.TROUBLESHOOTING, dialed)
    if reached:
        record.connected(dialed + timedelta(seconds=5))
        record.ended(dialed + timedelta(minutes=5), CallOutcome.LOCAL_HANGUP)
    else:
        record.ended(dialed + timedelta(seconds=30), CallOutcome.NO_ANSWER)
    store.state.calls[record.id] = record
    return record


def test_a_conversation_keeps_the_promise_and_an_unanswered_call_does_not(
        store: MemoryStore, pack: PolicyPack, clock: FixedClock) -> None:
    svc = service(store, pack, clock)
    due = svc.schedule(ask("demo-ana-garcia", today(11)))
    clock.advance(timedelta(hours=1, minutes=5))  # 11:05, five minutes late
    _call(store, "demo-ana-garcia", clock.now(), reached=False, record_id="rec-miss")
    assert svc.complete_for_customer("demo-ana-garcia", "rec-miss") == []
    assert store.state.callbacks[due.id].status is CallbackStatus.OPEN
    assert svc.board().mine[0].attempts == 1
    clock.advance(timedelta(minutes=20))
    _call(store, "demo-ana-garcia", clock.now(), reached=True, record_id="rec-talk")
    [done] = svc.complete_for_customer("demo-ana-garcia", "rec-talk")
    assert done.id == due.id and done.status is CallbackStatus.DONE
    assert store.state.callbacks[due.id].closed_at == clock.now()
    assert svc.board().mine == ()
    kinds = [e.kind for e in store.state.audit if e.record_id == due.id]
    assert kinds == ["callback_scheduled", "callback_attempted", "callback_done"]


def test_a_call_keeps_neither_its_own_promise_nor_one_due_much_later(
        store: MemoryStore, pack: PolicyPack, clock: FixedClock) -> None:
    svc = service(store, pack, clock)
    tomorrow = svc.schedule(ask("demo-ana-garcia", today(11, day=21)))
    clock.advance(timedelta(minutes=1))
    record = _call(store, "demo-ana-garcia", clock.now(), reached=True)
    clock.advance(timedelta(minutes=10))
    promised_on_call = svc.schedule(ask("demo-ana-garcia", today(11), call_id=record.id))
    assert svc.complete_for_customer("demo-ana-garcia", record.id) == []
    assert {cb.status for cb in store.state.callbacks.values()} == {CallbackStatus.OPEN}
    # "Call now" on tomorrow's callback names it: then the conversation keeps it.
    with MemoryUnitOfWork(store) as uow:
        done = complete_on_close(uow, record, "ann", clock.now(),  # type: ignore[arg-type]
                                 callback_id=tomorrow.id)
        uow.commit()
    assert [cb.id for cb in done] == [tomorrow.id]
    assert store.state.callbacks[promised_on_call.id].status is CallbackStatus.OPEN


def test_a_record_for_another_customer_completes_nothing(
        store: MemoryStore, pack: PolicyPack, clock: FixedClock) -> None:
    svc = service(store, pack, clock)
    svc.schedule(ask("demo-ana-garcia", today(11)))
    clock.advance(timedelta(hours=1))
    _call(store, "demo-liam-oconnor", clock.now(), reached=True)
    with pytest.raises(CallwiseError):
        svc.complete_for_customer("demo-ana-garcia", "rec-1")


def test_cancelling_needs_a_reason_and_the_owner_or_a_leader(
        store: MemoryStore, pack: PolicyPack, clock: FixedClock) -> None:
    ann = service(store, pack, clock)
    item = ann.schedule(ask("demo-ana-garcia", today(15)))
    with pytest.raises(CallwiseError, match="Say why"):
        ann.cancel(item.id, "  ")
    with pytest.raises(CallwiseError, match="owner or a leader"):
        service(store, pack, clock, SA).cancel(item.id, "Customer asked")
    cancelled = service(store, pack, clock, LEAD).cancel(item.id, "Customer called in and was "
                                                                  "helped")
    assert cancelled.status is CallbackStatus.CANCELLED
    assert store.state.audit[-1].kind == "callback_cancelled"
    assert store.state.audit[-1].payload["reason"] == "Customer called in and was helped"
    assert ann.board().mine == ()
    with pytest.raises(CallwiseError, match="already cancelled"):
        ann.cancel(item.id, "again")


def test_the_dialog_proposes_a_time_inside_the_window(
        store: MemoryStore, pack: PolicyPack) -> None:
    late = FixedClock(datetime(2026, 11, 21, 1, 30, tzinfo=UTC))  # 7:30 PM in Chicago
    ctx = service(store, pack, late).context("demo-ana-garcia")
    assert ctx.suggested_local() == datetime(2026, 11, 21, 9, 0)  # tomorrow, 9:00 AM
    assert ctx.window_text == "9:00 AM–8:00 PM"
    early = service(store, pack, FixedClock(NOW)).context("demo-ana-garcia")
    assert early.suggested_local() == datetime(2026, 11, 20, 11, 0)


def test_a_customer_with_several_numbers_must_fit_every_numbers_zone(
        store: MemoryStore, pack: PolicyPack, clock: FixedClock) -> None:
    two = Customer("two-zones", "Tess", "Two", "ACC-2",
                   (PhoneNumber("+13125550141"), PhoneNumber("+14155550101", "mobile")))
    store.state.customers[two.id] = two
    svc = service(store, pack, clock)
    assert svc.context(two.id).zones == (CHICAGO, "America/Los_Angeles")
    early = svc.check(ask(two.id, today(10, 30)))  # 8:30 AM in Los Angeles
    assert early.rules == ("OB-WINDOW",)
    assert svc.check(ask(two.id, today(11, 30))).allowed
