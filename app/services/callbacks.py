"""Callbacks as commitments (COMMIT, SA-OWNERSHIP, OB-NOCALLBACK): promise, list, hand over, keep.

Thread: like the Desk, a `Commitments` is used from the one worker thread the UI runs its
background work on, so its writes are serialised with the Desk's and the GUI thread never waits
on them. Every method opens its own unit of work; `complete_on_close` instead runs inside the
caller's, so a call record and the callbacks it keeps close in one transaction.

What a promise must satisfy, checked when the dialog asks (`check`) and again at the point of
action (`schedule`, STYLE 8), whatever the dialog showed:

- the due time is typed on the customer's clock, in one of the customer's zones (service address,
  else every zone the customer's numbers map to), and stored in UTC;
- it is ahead of now and at most `MAX_AHEAD` away;
- it falls inside the calling window (OB-WINDOW, or the customer's recorded consent window) in
  every zone the customer may be in, at least `WINDOW_MARGIN` before the window closes;
- its reason is not one OB-NOCALLBACK excludes; the pack's `lifted_by_policy` reasons pass only
  when "directed by policy" is ticked AND the policy reference is given;
- the note holds no SSN-, PIN- or card-like text (OB-NOSSN: the note is kept in the audit trail,
  which is append-only, so it must be clean before it is written).

Ownership (SA-OWNERSHIP): the scheduling agent keeps the callback when its due time falls inside
one of the agent's shifts. Otherwise it waits in the agent's team assignment queue (`queue` =
the team's id, e.g. "care", "service_assurance") until someone whose shift covers it takes it
or a leader assigns it. The store requires an owner on every callback, so a queued callback keeps
the promising agent as `owner_id` (the person accountable until it is assigned); "mine" lists
only callbacks with no queue.

Kept promises: when a call record closes having reached the customer, the customer's open
callbacks that were promised before the call was dialled and are due no later than
`KEPT_EARLY_BY` after the close are done (and the one named by `callback_id` whatever its due
time), whoever owned them: the company kept the promise. A call that did not reach the customer
keeps nothing; each such callback gets a "callback_attempted" audit entry and stays open, so it
stays overdue until it is kept or cancelled with a reason.

Note, policy reference and the zone the time was typed in have no column on the callback row; they
live in the "callback_scheduled" audit entry and are read back from there when listing.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from app.domain.agent import Agent
from app.domain.call import CallContext, CallRecord, new_record_id
from app.domain.clock import Clock
from app.domain.commitment import (
    KEPT_EARLY_BY,
    MAX_AHEAD,
    WINDOW_MARGIN,
    CallbackRefused,
    CallbackRequest,
    local_words,
    to_utc,
)
from app.domain.customer import Customer
from app.domain.enums import CallOrigin, CallReason, Team, queue_label
from app.domain.errors import CallwiseError
from app.policy.engine import clock_words, in_window, window_words
from app.policy.numbers import ZoneDecision, zone_city, zones_for
from app.policy.pack import NoCallbackParams, PolicyPack, WindowParams
from app.policy.sensitive import find_sensitive
from app.ports.store import Callback, CallbackStatus, Store, UnitOfWork

log = logging.getLogger(__name__)

# Lists reach this far ahead: beyond any due time that can be scheduled (MAX_AHEAD).
LIST_AHEAD = MAX_AHEAD * 12

AUDIT_SCHEDULED = "callback_scheduled"
AUDIT_DONE = "callback_done"
AUDIT_CANCELLED = "callback_cancelled"
AUDIT_ASSIGNED = "callback_assigned"
AUDIT_ATTEMPTED = "callback_attempted"

_NO_CALLBACK_WORDS = {
    CallReason.CUSTOMER_DISCONNECTED: "because the customer clearly ended the last call "
                                      "themselves",
    CallReason.TIME_RESTRICTION: "because the customer could not finish the call for lack of "
                                 "time or other priorities",
    CallReason.ACTIVATION: "to complete a feature, plan or add-on activation",
    CallReason.SALES: "for a sales follow-up",
}


# -- what the service hands out -----------------------------------------------------------------

@dataclass(frozen=True)
class Problem:
    """One reason a callback cannot be promised as asked, with the rule that says so."""

    rule: str
    text: str


@dataclass(frozen=True)
class Placement:
    """Who will make the callback (SA-OWNERSHIP), in words for the dialog."""

    owner_id: str
    queue: str | None
    shift_id: str | None
    text: str

    @property
    def queued(self) -> bool:
        return self.queue is not None


@dataclass(frozen=True)
class CallbackCheck:
    """The verdict on a requested callback; `request` tells the dialog which draft it answers."""

    request: CallbackRequest
    due_at: datetime | None  # UTC; None when the typed time does not exist or no zone is known
    when: str  # the due time on every clock the customer may read: "3:00 PM in Chicago"
    problems: tuple[Problem, ...]
    placement: Placement | None  # only when nothing refuses the callback

    @property
    def allowed(self) -> bool:
        return self.due_at is not None and not self.problems

    @property
    def rules(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(p.rule for p in self.problems))


@dataclass(frozen=True)
class SchedulingContext:
    """What the scheduling dialog needs to ask for a due time; plain data, safe on any thread."""

    customer_id: str
    customer_name: str
    zones: tuple[str, ...]  # empty when the customer's zone is unknown
    zone_explanation: str
    window: tuple[time, time] | None  # None when the pack has no calling window
    window_is_consent: bool
    excluded: frozenset[CallReason]
    lifted: frozenset[CallReason]
    queue_label: str  # where a callback outside the agent's shifts goes: "Care"
    now: datetime
    call_id: str | None = None

    @property
    def window_text(self) -> str:
        if self.window is None:
            return "any time (the policy pack sets no calling window)"
        words = window_words(*self.window)
        return f"{words} (hours the customer agreed to)" if self.window_is_consent else words

    def fits_window(self, due_at: datetime) -> bool:
        if self.window is None:
            return True
        start, end = self.window
        return all(_fits(start, end, due_at.astimezone(ZoneInfo(z))) for z in self.zones)

    def suggested_local(self) -> datetime:
        """A first proposal on the customer's clock (first zone): the first quarter hour at least
        an hour ahead that fits the calling window, else simply an hour ahead."""
        zone = ZoneInfo(self.zones[0]) if self.zones else UTC
        start = self.now + timedelta(hours=1)
        start = start.replace(second=0, microsecond=0) + timedelta(minutes=-start.minute % 15)
        candidate = start
        for _ in range(4 * 24 * 3):
            if self.fits_window(candidate):
                return candidate.astimezone(zone).replace(tzinfo=None)
            candidate += timedelta(minutes=15)
        return start.astimezone(zone).replace(tzinfo=None)


@dataclass(frozen=True)
class CallbackItem:
    """A callback as the panels show it: the stored row plus what was said when it was promised."""

    callback: Callback
    customer_name: str
    reason: CallReason
    note: str = ""
    directed_by_policy: bool = False
    policy_ref: str = ""
    zone: str | None = None  # the customer's zone the time was typed in
    promised_by: str = ""
    attempts: int = 0  # calls that did not reach the customer since it was promised
    owner_name: str = ""  # the owner's display name, for leaders who know people, not logins

    @property
    def id(self) -> str:
        return self.callback.id

    @property
    def customer_id(self) -> str:
        return self.callback.customer_id

    @property
    def due_at(self) -> datetime:
        return self.callback.due_at

    @property
    def queue(self) -> str | None:
        return self.callback.queue

    @property
    def owner_id(self) -> str:
        return self.callback.owner_id

    def due_words(self) -> str:
        """The due time on the customer's clock ("Fri Nov 20, 3:00 PM CST")."""
        return local_words(self.due_at, self.zone or "UTC")


@dataclass(frozen=True)
class CallbackBoard:
    """Everything the callbacks panel shows, read in one unit of work."""

    mine: tuple[CallbackItem, ...]
    queue: tuple[CallbackItem, ...]  # the team's assignment queue (every team's, for leaders)
    overdue_everywhere: tuple[CallbackItem, ...] = ()  # every owner's overdue: leaders only
    leader: bool = False
    loaded_at: datetime = field(default=datetime(1970, 1, 1, tzinfo=UTC))


# -- pure rules ---------------------------------------------------------------------------------

def _fits(start: time, end: time, local: datetime) -> bool:
    """[local, local + WINDOW_MARGIN) lies inside [start, end): time left to notify and dial."""
    last = local + WINDOW_MARGIN - timedelta(microseconds=1)
    return in_window(start, end, local.time()) and in_window(start, end, last.time())


def _join(items: list[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def customer_zones(pack: PolicyPack, customer: Customer) -> ZoneDecision:
    """The zones a callback's due time must fit: the service address's when known, else every
    zone any of the customer's numbers maps to (the call may go to any of them)."""
    region = pack.dial_plan.default_region
    if customer.service_zone is not None or len(customer.numbers) <= 1:
        return zones_for(customer.primary_number, customer.service_zone, region)
    decisions = [zones_for(n.number, None, region) for n in customer.numbers]
    zones = tuple(dict.fromkeys(z for d in decisions for z in d.zones))
    if not zones:
        return decisions[0]
    several = ", which span several time zones" if len(zones) > 1 else ""
    return ZoneDecision(zones, "phone number", f"from the customer's phone numbers{several}")


def _window(pack: PolicyPack, customer: Customer) -> tuple[tuple[time, time] | None, bool]:
    params = pack.params("OB-WINDOW", WindowParams)
    if params is None:
        return None, False
    if customer.consent is not None:
        return (customer.consent.start, customer.consent.end), True
    return (params.start, params.end), False


def check_request(pack: PolicyPack, customer: Customer, request: CallbackRequest,
                  now: datetime) -> tuple[datetime | None, str, list[Problem]]:
    """(due time in UTC, the due time in words, problems) for `request`; pure, any thread."""
    problems: list[Problem] = []
    due: datetime | None = None
    when = ""
    decision = customer_zones(pack, customer)
    if not decision.zones:
        problems.append(Problem("OB-WINDOW",
                                f"The customer's time zone is unknown: {decision.explanation}; "
                                "record the time zone of the customer's service address first"))
    elif request.zone not in decision.zones:
        problems.append(Problem("OB-WINDOW",
                                f"{request.zone} is not the customer's time zone "
                                f"({', '.join(decision.zones)}); enter the time on the customer's "
                                "clock"))
    else:
        due = to_utc(request.local_due, request.zone)
        if due is None:
            typed = request.local_due
            problems.append(Problem("OB-WINDOW",
                                    f"{clock_words(typed.time())} on {typed:%b} {typed.day} does "
                                    f"not exist in {zone_city(request.zone)}: the clocks go "
                                    "forward that night; pick another time"))
        else:
            locals_ = [(z, due.astimezone(ZoneInfo(z))) for z in decision.zones]
            when = _join([f"{clock_words(lt.time())} in {zone_city(z)}" for z, lt in locals_])
            if due <= now:
                problems.append(Problem("COMMIT", "That time has already passed; a callback is "
                                                  "promised for a time still ahead"))
            elif due - now > MAX_AHEAD:
                problems.append(Problem("COMMIT",
                                        f"That is more than {MAX_AHEAD.days} days ahead; promise "
                                        "only a callback you can keep, or ask the customer to "
                                        "call in"))
            problems += _window_problems(pack, customer, locals_, when)
    problems += _reason_problems(pack, request)
    for finding in find_sensitive(request.note):
        problems.append(Problem("OB-NOSSN", f"Note: {finding.message}"))
    return due, when, problems


def _window_problems(pack: PolicyPack, customer: Customer,
                     locals_: list[tuple[str, datetime]], when: str) -> list[Problem]:
    window, consent = _window(pack, customer)
    if window is None:
        return []
    start, end = window
    if start == end:
        return [Problem("OB-WINDOW", f"The recorded consent window {window_words(start, end)} is "
                                     "empty; record the hours the customer agreed to again")]
    hours = (f"the customer agreed to calls only {window_words(start, end)}" if consent
             else f"callbacks are made only {window_words(start, end)} on the customer's clock")
    spans = ("; the customer's numbers span several time zones and the callback must fit all of "
             "them" if len(locals_) > 1 else "")
    if not all(in_window(start, end, lt.time()) for _, lt in locals_):
        return [Problem("OB-WINDOW", f"At that time it is {when}; {hours}{spans}")]
    if not all(_fits(start, end, lt) for _, lt in locals_):
        minutes = int(WINDOW_MARGIN.total_seconds() // 60)
        return [Problem("OB-WINDOW",
                        f"At that time it is {when}: less than {minutes} minutes before calling "
                        f"hours end at {clock_words(end)}, too late to notify the customer and "
                        "dial; pick an earlier time")]
    return []


def _reason_problems(pack: PolicyPack, request: CallbackRequest) -> list[Problem]:
    params = pack.params("OB-NOCALLBACK", NoCallbackParams)
    reason = request.reason
    if params is None or reason not in params.excluded_reasons:
        return []
    words = _NO_CALLBACK_WORDS.get(reason, f"for “{reason.label}”")
    if reason not in params.lifted_by_policy:
        even = " (not even when a policy is named)" if request.directed_by_policy else ""
        return [Problem("OB-NOCALLBACK", f"No callback is promised {words}{even}")]
    if not request.directed_by_policy:
        return [Problem("OB-NOCALLBACK",
                        f"No callback is promised {words} unless a policy specifically directs "
                        "it; tick “Directed by policy” and give its reference")]
    if not request.policy_ref.strip():
        return [Problem("OB-NOCALLBACK",
                        "Give the reference of the policy that directs this callback")]
    findings = find_sensitive(request.policy_ref)
    if findings:
        return [Problem("OB-NOSSN", f"Policy reference: {findings[0].message}")]
    return []


def call_context(item: CallbackItem) -> CallContext:
    """The dial gate's context for making `item` ("Call now"): a follow-up for the promised
    reason. The agent changes the origin in the gate when the callback answers a ticket."""
    return CallContext(origin=CallOrigin.FOLLOW_UP, reason=item.reason,
                       directed_by_policy=item.directed_by_policy)


def _kept_by(record: CallRecord, callbacks: Iterable[Callback], now: datetime,
             callback_id: str | None) -> list[Callback]:
    return [cb for cb in callbacks
            if cb.call_id != record.id and cb.created_at < record.dialed_at
            and (cb.id == callback_id or cb.due_at <= now + KEPT_EARLY_BY)]


def complete_on_close(uow: UnitOfWork, record: CallRecord, agent_id: str, now: datetime,
                      callback_id: str | None = None) -> list[Callback]:
    """Inside the caller's unit of work (Desk.close_record's): mark done what `record` kept.

    Returns the callbacks marked done; the caller commits. See the module docstring for which.
    """
    candidates = _kept_by(record, uow.callbacks.open_for_customer(record.customer_id), now,
                          callback_id)
    outcome = record.outcome.value if record.outcome is not None else None
    if not record.reached_customer:
        for cb in candidates:
            uow.audit.append(AUDIT_ATTEMPTED, cb.id, {"record": record.id, "agent": agent_id,
                                                      "outcome": outcome}, now)
        return []
    done: list[Callback] = []
    for cb in candidates:
        uow.callbacks.set_status(cb.id, CallbackStatus.DONE, now)
        uow.audit.append(AUDIT_DONE, cb.id, {"record": record.id, "agent": agent_id,
                                             "customer": cb.customer_id,
                                             "late_s": max(int((now - cb.due_at).total_seconds()),
                                                           0)}, now)
        done.append(Callback(cb.id, cb.customer_id, cb.owner_id, cb.due_at, cb.reason,
                             cb.created_at, CallbackStatus.DONE, cb.queue, cb.call_id, now))
    return done


# -- the service --------------------------------------------------------------------------------

class Commitments:
    """The agent's callbacks. Used from the UI's single worker thread (see the module docstring)."""

    def __init__(self, *, store: Store, pack: PolicyPack, clock: Clock, agent: Agent) -> None:
        self._store = store
        self._pack = pack
        self._clock = clock
        self._agent = agent

    @property
    def agent(self) -> Agent:
        return self._agent

    @property
    def leader(self) -> bool:
        return self._agent.team is Team.LEADER

    def now(self) -> datetime:
        return self._clock.now()

    # -- promising ---------------------------------------------------------------------------

    def context(self, customer_id: str, call_id: str | None = None) -> SchedulingContext:
        """What the scheduling dialog needs for this customer (read once, before it opens)."""
        with self._store.unit_of_work(read_only=True) as uow:
            customer = self._customer(uow, customer_id)
        decision = customer_zones(self._pack, customer)
        window, consent = _window(self._pack, customer)
        params = self._pack.params("OB-NOCALLBACK", NoCallbackParams)
        return SchedulingContext(
            customer_id=customer.id, customer_name=customer.full_name, zones=decision.zones,
            zone_explanation=decision.explanation, window=window, window_is_consent=consent,
            excluded=params.excluded_reasons if params else frozenset(),
            lifted=params.lifted_by_policy if params else frozenset(),
            queue_label=queue_label(self._agent.team.value), now=self._clock.now(),
            call_id=call_id)

    def check(self, request: CallbackRequest) -> CallbackCheck:
        """The dialog's live check: the same rules `schedule` applies, without writing."""
        now = self._clock.now()
        with self._store.unit_of_work(read_only=True) as uow:
            return self._check(uow, request, now)

    def _check(self, uow: UnitOfWork, request: CallbackRequest, now: datetime) -> CallbackCheck:
        customer = self._customer(uow, request.customer_id)
        due, when, problems = check_request(self._pack, customer, request, now)
        placement = None
        if due is not None and not problems:
            placement = self._placement(uow, due)
        return CallbackCheck(request, due, when, tuple(problems), placement)

    def _placement(self, uow: UnitOfWork, due: datetime) -> Placement:
        agent = self._agent
        shift = uow.shifts.covering(agent.id, due)
        if shift is not None:
            return Placement(agent.id, None, shift.id,
                             "Due inside your shift: you keep this callback and make it yourself "
                             "(SA-OWNERSHIP)")
        queue = agent.team.value
        return Placement(agent.id, queue, None,
                         f"Due outside your shifts: it goes to the {queue_label(queue)} "
                         "assignment queue, where a leader assigns it to someone on shift "
                         "(SA-OWNERSHIP)")

    def schedule(self, request: CallbackRequest) -> CallbackItem:
        """Re-check at the point of action, then store the promise and its audit entry together."""
        now = self._clock.now()
        with self._store.unit_of_work() as uow:
            check = self._check(uow, request, now)
            if not check.allowed or check.due_at is None or check.placement is None:
                texts = "; ".join(p.text for p in check.problems) or "no due time"
                raise CallbackRefused(f"The callback cannot be promised: {texts}.",
                                      list(check.rules),
                                      action="Change the time or the reason, then schedule again.")
            customer = self._customer(uow, request.customer_id)
            placement = check.placement
            callback = Callback(id=new_record_id(), customer_id=request.customer_id,
                                owner_id=placement.owner_id, due_at=check.due_at,
                                reason=request.reason.value, created_at=now,
                                queue=placement.queue, call_id=request.call_id)
            uow.callbacks.add(callback)
            uow.audit.append(AUDIT_SCHEDULED, callback.id, {
                "customer": request.customer_id, "agent": self._agent.id,
                "due": check.due_at.isoformat(), "zone": request.zone,
                "local_due": request.local_due.isoformat(), "reason": request.reason.value,
                "note": request.note.strip(), "directed_by_policy": request.directed_by_policy,
                "policy_ref": request.policy_ref.strip(), "owner": placement.owner_id,
                "queue": placement.queue, "shift": placement.shift_id,
                "call": request.call_id}, now)
            uow.commit()
        log.info("callback %s promised for %s, due %s, %s", callback.id, callback.customer_id,
                 callback.due_at.isoformat(),
                 f"queue {placement.queue}" if placement.queue else "owner keeps it")
        return CallbackItem(callback, customer.full_name, request.reason, request.note.strip(),
                            request.directed_by_policy, request.policy_ref.strip(), request.zone,
                            self._agent.id)

    # -- seeing them -------------------------------------------------------------------------

    def board(self) -> CallbackBoard:
        """My open callbacks, my team's assignment queue, and (leaders) everyone's overdue ones."""
        now = self._clock.now()
        with self._store.unit_of_work(read_only=True) as uow:
            mine = [cb for cb in uow.callbacks.due(self._agent.id, now + LIST_AHEAD)
                    if cb.queue is None]
            queues = [t.value for t in Team] if self.leader else [self._agent.team.value]
            queued = sorted((cb for q in queues for cb in uow.callbacks.in_queue(q)),
                            key=lambda cb: (cb.due_at, cb.id))
            overdue = uow.callbacks.due(None, now) if self.leader else []
            names: dict[str, str] = {}  # customers, and owners below: each read once per board
            owners: dict[str, str] = {}
            return CallbackBoard(mine=self._items(uow, mine, names, owners),
                                 queue=self._items(uow, queued, names, owners),
                                 overdue_everywhere=self._items(uow, overdue, names, owners),
                                 leader=self.leader, loaded_at=now)

    def item(self, callback_id: str) -> CallbackItem:
        with self._store.unit_of_work(read_only=True) as uow:
            return self._items(uow, [self._callback(uow, callback_id)], {}, {})[0]

    def _items(self, uow: UnitOfWork, callbacks: Iterable[Callback], names: dict[str, str],
               owners: dict[str, str]) -> tuple[CallbackItem, ...]:
        items: list[CallbackItem] = []
        for cb in callbacks:
            if cb.customer_id not in names:
                customer = uow.customers.get(cb.customer_id)
                names[cb.customer_id] = customer.full_name if customer else cb.customer_id
            if cb.owner_id not in owners:
                owner = uow.agents.get(cb.owner_id)
                owners[cb.owner_id] = owner.name if owner else cb.owner_id
            item = self._item(uow, cb, names[cb.customer_id])
            items.append(replace(item, owner_name=owners[cb.owner_id]))
        return tuple(items)

    @staticmethod
    def _item(uow: UnitOfWork, cb: Callback, name: str) -> CallbackItem:
        try:
            reason = CallReason(cb.reason)
        except ValueError:
            reason = CallReason.OTHER  # written by another system in its own words
        entries = uow.audit.for_record(cb.id)
        promised = next((e.payload for e in entries if e.kind == AUDIT_SCHEDULED), {})
        attempts = sum(1 for e in entries if e.kind == AUDIT_ATTEMPTED)
        zone = promised.get("zone")
        return CallbackItem(cb, name, reason, note=str(promised.get("note") or ""),
                            directed_by_policy=bool(promised.get("directed_by_policy")),
                            policy_ref=str(promised.get("policy_ref") or ""),
                            zone=str(zone) if zone else None,
                            promised_by=str(promised.get("agent") or cb.owner_id),
                            attempts=attempts)

    # -- handing over ------------------------------------------------------------------------

    def take(self, callback_id: str) -> CallbackItem:
        """Take a queued callback: allowed when its due time falls inside one of my shifts."""
        return self.assign(callback_id, self._agent.id)

    def assign(self, callback_id: str, agent_id: str) -> CallbackItem:
        """Leaders assign to anyone, agents only to themselves from their team's queue; either
        way the new owner's shift must cover the due time (SA-OWNERSHIP)."""
        now = self._clock.now()
        with self._store.unit_of_work() as uow:
            cb = self._open_callback(uow, callback_id)
            if not self.leader:
                if agent_id != self._agent.id:
                    raise CallwiseError("Only a leader assigns a callback to someone else.",
                                        action="Ask your leader, or take it yourself.")
                if cb.queue != self._agent.team.value:
                    raise CallwiseError("This callback is not waiting in your team's queue.")
            target = uow.agents.get(agent_id)
            if target is None:
                raise CallwiseError(f"No agent {agent_id} in the records.")
            who = "you" if agent_id == self._agent.id else target.name
            if cb.queue is None and cb.owner_id == agent_id:
                raise CallwiseError(f"This callback already belongs to {who}.")
            shift = uow.shifts.covering(agent_id, cb.due_at)
            if shift is None:
                raise CallbackRefused(
                    f"It is due outside {'your' if who == 'you' else who + '’s'} shifts, so "
                    f"{who} cannot keep it (SA-OWNERSHIP).", ["SA-OWNERSHIP"],
                    action="Assign it to someone whose shift covers the due time.")
            uow.callbacks.reassign(cb.id, agent_id, None)
            uow.audit.append(AUDIT_ASSIGNED, cb.id, {"from_owner": cb.owner_id,
                                                     "from_queue": cb.queue, "to": agent_id,
                                                     "by": self._agent.id, "shift": shift.id}, now)
            uow.commit()
        return self.item(callback_id)

    # -- closing -----------------------------------------------------------------------------

    def cancel(self, callback_id: str, reason: str) -> Callback:
        """Withdraw a promise, with the reason the next person reads; owner or leader only."""
        reason = reason.strip()
        if not reason:
            raise CallwiseError("Say why the callback is cancelled.",
                                action="Type the reason, then cancel again.")
        findings = find_sensitive(reason)
        if findings:
            raise CallwiseError(f"Cancellation reason: {findings[0].message}")
        now = self._clock.now()
        with self._store.unit_of_work() as uow:
            cb = self._open_callback(uow, callback_id)
            if cb.owner_id != self._agent.id and not self.leader:
                raise CallwiseError("Only the callback's owner or a leader can cancel it.")
            uow.callbacks.set_status(cb.id, CallbackStatus.CANCELLED, now)
            uow.audit.append(AUDIT_CANCELLED, cb.id, {"agent": self._agent.id, "reason": reason,
                                                      "customer": cb.customer_id}, now)
            uow.commit()
        return Callback(cb.id, cb.customer_id, cb.owner_id, cb.due_at, cb.reason, cb.created_at,
                        CallbackStatus.CANCELLED, cb.queue, cb.call_id, now)

    def complete_for_customer(self, customer_id: str, record_id: str,
                              callback_id: str | None = None) -> list[Callback]:
        """After the call record `record_id` to `customer_id` closed: mark done what it kept.

        Prefer `complete_on_close` inside Desk.close_record's own unit of work; this opens its
        own (for a record closed elsewhere, or by a supervisor's tool).
        """
        now = self._clock.now()
        with self._store.unit_of_work() as uow:
            record = uow.calls.get(record_id)
            if record is None:
                raise CallwiseError("That call record no longer exists.")
            if record.customer_id != customer_id:
                raise CallwiseError("That call record is for another customer.")
            done = complete_on_close(uow, record, self._agent.id, now, callback_id)
            uow.commit()
        return done

    # -- helpers -----------------------------------------------------------------------------

    @staticmethod
    def _customer(uow: UnitOfWork, customer_id: str) -> Customer:
        customer = uow.customers.get(customer_id)
        if customer is None:
            raise CallwiseError("That customer no longer exists in the record store.")
        return customer

    @staticmethod
    def _callback(uow: UnitOfWork, callback_id: str) -> Callback:
        cb = uow.callbacks.get(callback_id)
        if cb is None:
            raise CallwiseError("That callback no longer exists in the record store.")
        return cb

    def _open_callback(self, uow: UnitOfWork, callback_id: str) -> Callback:
        cb = self._callback(uow, callback_id)
        if cb.status is not CallbackStatus.OPEN:
            raise CallwiseError(f"This callback is already {cb.status.value}.")
        return cb
