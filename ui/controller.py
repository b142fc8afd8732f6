"""The desk controller: views ask it to act and observe the facts it announces.

Owned by the GUI thread. Every use case runs on the TaskRunner's worker; results come back here
and are announced as signals named as facts. Views never call each other.
"""

from __future__ import annotations

import itertools
import logging
import re
from collections.abc import Callable
from dataclasses import replace
from datetime import date, time
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, QTimer, Signal

from app.domain.call import CallContext, CallRecord
from app.domain.clock import Clock
from app.domain.commitment import CallbackRequest
from app.domain.customer import Customer
from app.domain.enums import AgentState, CallOrigin, CallOutcome, NotificationTemplate
from app.domain.errors import CallwiseError, RecordsNotOpen
from app.domain.memo import Memo
from app.ports.phone import (
    CallEnded,
    CallPhase,
    CallProgressed,
    IncomingCall,
    MessageResult,
    PhoneEvent,
    PhoneFailed,
    RegistrationChanged,
)
from app.ports.store import Notification, Store, SyncingStore, SyncStatus
from app.services.lines import Lines, LineStatus, consult_number, same_number, show_number
from ui.tasks import TaskRunner

if TYPE_CHECKING:  # the policy and the services come with the records, after the first frame
    from app.services.callbacks import CallbackItem, Commitments
    from app.services.desk import CustomerCard, Desk

log = logging.getLogger(__name__)

DRAFT_DELAY_MS = 1500  # a draft reaches the disk within two seconds of the last keystroke
GATE_REFRESH_MS = 15_000  # the gate follows the clock across window edges
CALLBACKS_REFRESH_MS = 60_000  # picks up other desktops' queue and assignment changes
SYNC_BUSY_MS = 2_000  # while changes wait for the central store
SYNC_IDLE_MS = 10_000  # otherwise: the reconnect attempt and the ping


def link_number(uri: str) -> str:
    """The number in tel:+1-312-555-0142 or sip:13125550142@pbx;user=phone, digits and '+' only."""
    body = re.sub(r"^(tel|sips?|callto):(//)?", "", uri.strip(), flags=re.IGNORECASE)
    body = body.split("@", 1)[0].split(";", 1)[0]
    return re.sub(r"[^\d+]", "", body)


def caller_number(remote_uri: str) -> str:
    """The caller's number in a remote URI, display name and brackets included
    ('"Customer" <sip:+13125550141@pbx>;tag=1' -> '+13125550141')."""
    inside = re.search(r"<([^>]*)>", remote_uri)
    return link_number(inside.group(1) if inside else remote_uri)


class DeskController(QObject):
    customers_did_load = Signal(list)
    card_did_load = Signal(object)  # CustomerCard
    verdict_did_change = Signal(object)  # Verdict
    agent_did_change = Signal(object)  # Agent
    registration_did_change = Signal(object)  # RegistrationChanged
    call_did_start = Signal(object)  # CallRecord
    call_did_change = Signal(object)  # CallRecord (ringing, connected, notice read, verified)
    call_did_end = Signal(object)  # CallRecord in wrap-up
    record_did_close = Signal(object)  # CallRecord
    record_did_reopen = Signal(object)  # CallRecord found open at start-up
    draft_did_save = Signal(bool)  # False: refused (sensitive text)
    notification_did_finish = Signal(object)  # Notification
    dial_was_blocked = Signal(object)  # CallwiseError / DialBlocked
    hold_did_change = Signal(bool)
    steps_did_change = Signal(object)  # frozenset of script step ids said on this call
    message_did_arrive = Signal(str)  # a sentence for the status line
    error_did_occur = Signal(object)  # CallwiseError
    callbacks_did_load = Signal(object)  # CallbackBoard
    scheduling_did_open = Signal(object)  # SchedulingContext
    callback_check_did_finish = Signal(object)  # CallbackCheck
    callback_did_schedule = Signal(object)  # CallbackItem
    callback_was_refused = Signal(object)  # CallwiseError
    callback_did_change = Signal(object)  # CallbackItem | Callback
    context_did_load = Signal(object)  # CallContext set by "Call now"
    sync_did_change = Signal(object)  # SyncStatus of a shared store with a local copy
    lines_did_change = Signal(object)  # Lines: line one (inbound) and line two (consult)
    line_did_end = Signal(str)  # a sentence: how an inbound or consult line ended
    consult_did_open = Signal()  # line one is held: the agent types the number to call
    consult_was_refused = Signal(object)  # CallwiseError: bad number, or the gate said no
    alternate_did_change = Signal(str)  # E.164 number the customer gave (OB-ALTNUMBER)
    alternate_was_refused = Signal(object)  # CallwiseError: not a 10-digit number

    def __init__(self, runner: TaskRunner, templates: dict[str, str], *, clock: Clock,
                 demo_ring: bool = False, parent: QObject | None = None) -> None:
        """`demo_ring`: `callwise --demo` offers "have a customer call me" (see `Desk.ring_me`).
        The desk, the callbacks and the store arrive with the records (`use_records`)."""
        super().__init__(parent)
        self.clock = clock
        self.demo_ring_available = demo_ring  # the demo line can be asked for a customer's call
        self._desk: Desk | None = None
        self._store: Store | None = None
        self._commitments: Commitments | None = None
        self.callback_id: str | None = None
        self._callbacks_timer = QTimer(self)
        self._callbacks_timer.setInterval(CALLBACKS_REFRESH_MS)
        self._callbacks_timer.timeout.connect(self.refresh_callbacks)
        self._sync_timer = QTimer(self)
        self._sync_timer.setInterval(SYNC_IDLE_MS)
        self._sync_timer.timeout.connect(self.catch_up)
        self._runner = runner
        self._templates = templates
        self.customer: Customer | None = None
        self.number: str = ""
        self.context = CallContext()
        self.record: CallRecord | None = None
        self.held = False
        self.steps_done: frozenset[str] = frozenset()
        self.lines = Lines()
        self.alternate = ""  # a number the customer gave on this call, E.164 (OB-ALTNUMBER)
        self._callers: dict[str, tuple[str, str]] = {}  # inbound ref -> (remote URI, customer id)
        self._turned_away: dict[str, str] = {}  # a second caller's ref -> remote URI
        self._ring_asks: set[str] = set()  # MESSAGE refs of "Demo: have a customer call me"
        self._ring_seq = itertools.count(1)
        self._draft: Memo | None = None
        self._draft_timer = QTimer(self)
        self._draft_timer.setSingleShot(True)
        self._draft_timer.setInterval(DRAFT_DELAY_MS)
        self._draft_timer.timeout.connect(self.flush_draft)
        self._gate_timer = QTimer(self)
        self._gate_timer.setInterval(GATE_REFRESH_MS)
        self._gate_timer.timeout.connect(self.refresh_gate)
        runner.task_did_fail.connect(self.error_did_occur)
        runner.task_did_crash.connect(self.message_did_arrive)

    @property
    def desk(self) -> Desk:
        """Raises RecordsNotOpen (a sentence for the agent) before the records are open."""
        if self._desk is None:
            raise RecordsNotOpen()
        return self._desk

    @property
    def commitments(self) -> Commitments:
        if self._commitments is None:
            raise RecordsNotOpen()
        return self._commitments

    def use_records(self, desk: Desk, commitments: Commitments, store: Store | None) -> None:
        """The records opened after the window was shown (`ui.application.open_records`): the
        desk and callbacks built on them. Call `start` next."""
        self._desk, self._commitments, self._store = desk, commitments, store

    def _run(self, fn: Any, on_done: Any = None, on_error: Any = None) -> None:
        self._runner.submit(fn, on_done, on_error or self.error_did_occur.emit)

    # -- start-up ------------------------------------------------------------------------------

    def start(self) -> None:
        """Once the records are open: the agent, an unfinished record, the customers, the
        callbacks; then the clocks that keep the gate and the callbacks current."""
        self.agent_did_change.emit(self.desk.agent)
        self._gate_timer.start()
        self._callbacks_timer.start()
        self._run(self.desk.open_records, self._reopen)
        self.search("")
        self.refresh_callbacks()
        if isinstance(self._store, SyncingStore):
            self._sync_timer.start()
            self.catch_up()

    def _reopen(self, records: list[CallRecord]) -> None:
        if not records:
            return
        self.record = records[0]
        self._draft = self.record.memo
        record_id = self.record.id
        self._run(lambda: self.desk.script_steps_done(record_id), self._steps_recorded)
        self.message_did_arrive.emit("An unfinished call record was reopened with its memo draft.")
        self.select_customer(self.record.customer_id)
        self.record_did_reopen.emit(self.record)

    # -- customers and the gate ----------------------------------------------------------------

    def search(self, text: str) -> None:
        self._run(lambda: self.desk.search(text), self.customers_did_load.emit)

    def select_customer(self, customer_id: str) -> None:
        self._run(lambda: self.desk.card(customer_id), self._card_loaded)

    def _card_loaded(self, card: CustomerCard) -> None:
        if self.customer is not None and self.customer.id != card.customer.id:
            self.alternate = ""  # a number given by one customer is never offered for another
        self.customer = card.customer
        numbers = [n.number for n in card.customer.numbers] + [self.alternate] * bool(self.alternate)
        if not self.number or self.number not in numbers:
            self.number = card.customer.primary_number
        self.card_did_load.emit(card)
        self.refresh_gate()

    def reload_card(self) -> None:
        if self.customer is not None:
            self.select_customer(self.customer.id)

    def set_number(self, number: str) -> None:
        self.number = number
        self.refresh_gate()

    def set_context(self, context: CallContext) -> None:
        self.context = context
        self.refresh_gate()

    def refresh_gate(self) -> None:
        customer = self.customer
        if customer is None:
            return
        number, context = self.number, self.context
        self._run(lambda: self.desk.verdict(customer.id, number, context),
                  self.verdict_did_change.emit)

    def record_consent(self, start: time, end: time, note: str) -> None:
        customer = self.customer
        if customer is not None:
            self._run(lambda: self.desk.record_consent(customer.id, start, end, note),
                      lambda _c: self._fact_recorded("Consent recorded."))

    def set_service_zone(self, zone: str) -> None:
        customer = self.customer
        if customer is not None:
            self._run(lambda: self.desk.set_service_zone(customer.id, zone),
                      lambda _c: self._fact_recorded(f"Service zone set to {zone}."))

    def _fact_recorded(self, text: str) -> None:
        self.message_did_arrive.emit(text)
        self.reload_card()

    def send_sa_email(self, address: str, purpose: str, windows: list[tuple[date, time, time]],
                      steps: list[str], ticket: str) -> None:
        customer = self.customer
        if customer is not None:
            self._run(lambda: self.desk.send_sa_email(customer.id, address, purpose, windows,
                                                       steps, ticket),
                      self._email_done)

    def _email_done(self, notification: Notification) -> None:
        self.notification_did_finish.emit(notification)
        self.refresh_gate()

    def open_link(self, uri: str) -> None:
        """Click-to-dial: find the customer behind a tel:/sip: link and open the gate for them.

        It never dials by itself: the agent presses Dial, and the gate re-checks as always.
        Calls go only to customers on record, so an unknown number is refused with a reason.
        """
        number = link_number(uri)
        if not number:
            self.message_did_arrive.emit(f"“{uri}” holds no phone number to call.")
            return

        def found(customers: list[Customer]) -> None:
            if len(customers) != 1:
                self.message_did_arrive.emit(
                    f"No customer on record has the number {number}: calls go only to customers."
                    if not customers else f"Several customers have {number}: pick one.")
                self.customers_did_load.emit(customers)
                return
            self.number = next((n.number for n in customers[0].numbers
                                if n.number.lstrip("+").endswith(number.lstrip("+")[-10:])),
                               customers[0].primary_number)
            self.customers_did_load.emit(customers)
            self.select_customer(customers[0].id)

        self._run(lambda: self.desk.search(number), found)

    def set_agent_state(self, state: AgentState) -> None:
        self._run(lambda: self.desk.set_state(state), self._agent_changed)

    def send_notification(self, template: NotificationTemplate) -> None:
        customer = self.customer
        if customer is None:
            return
        text = self._templates[template.value].format(first_name=customer.first_name,
                                                       company=self._templates.get("company", ""))
        self._run(lambda: self.desk.send_notification(customer.id, template, text),
                  lambda _ref: self.message_did_arrive.emit("Sending the notification…"))

    # -- calls ---------------------------------------------------------------------------------

    def dial(self) -> None:
        customer = self.customer
        if customer is None or self.record is not None:
            return
        number, context = self.number, self.context

        def blocked(error: CallwiseError) -> None:
            self.dial_was_blocked.emit(error)
            self.refresh_gate()

        self._run(lambda: self.desk.place_call(customer.id, number, context), self._call_placed,
                  blocked)

    def _call_placed(self, record: CallRecord) -> None:
        self.record = record
        self._draft = record.memo
        self._steps_recorded(frozenset())
        self.call_did_start.emit(record)

    def toggle_hold(self) -> None:
        if self.record is not None and self.record.connected_at is not None:
            record_id, on = self.record.id, not self.held
            self._run(lambda: self.desk.hold(record_id, on))

    def send_dtmf(self, digits: str) -> None:
        if self.record is not None and self.record.outcome is None:
            record_id = self.record.id
            self._run(lambda: self.desk.send_dtmf(record_id, digits))

    def hangup(self) -> None:
        if self.record is not None:
            record_id = self.record.id
            self._run(lambda: self.desk.hangup(record_id))

    def on_phone_event(self, event: PhoneEvent) -> None:
        if isinstance(event, IncomingCall):
            self._ringing(event)
            return
        if isinstance(event, MessageResult) and event.ref in self._ring_asks:
            self._ring_answered(event)
            return
        if isinstance(event, CallEnded) and event.ref in self._turned_away:
            self._turned_away_ended(event)
            return
        if isinstance(event, (CallProgressed, CallEnded)) and self.lines.is_inbound(event.ref):
            self._line_one_event(event)
            return
        if isinstance(event, (CallProgressed, CallEnded)) and self.lines.get(event.ref):
            line = (self.lines.ended(event.ref, event.outcome) if isinstance(event, CallEnded)
                    else self.lines.progressed(event.ref, event.phase))
            self.lines_did_change.emit(self.lines)
            if isinstance(event, CallEnded) and line is not None:
                self.line_did_end.emit(f"Line two ({show_number(line.number)}) ended: "
                                       f"{event.outcome.label}.")
        if isinstance(event, RegistrationChanged):
            log.info("phone registration: %s (%s)", "registered" if event.registered else
                     "not registered", event.reason)
            self.registration_did_change.emit(event)
            return
        if isinstance(event, PhoneFailed):
            self.message_did_arrive.emit(f"The phone stopped: {event.reason}")
            return
        if isinstance(event, CallProgressed) and event.phase in (CallPhase.HELD, CallPhase.RESUMED):
            if self.record is not None and event.ref == self.record.id:
                self.held = event.phase is CallPhase.HELD
                self.hold_did_change.emit(self.held)
            return
        if (isinstance(event, CallEnded) and self.held and self.record is not None
                and event.ref == self.record.id):
            self.held = False
            self.hold_did_change.emit(False)
        if isinstance(event, (CallProgressed, CallEnded, MessageResult)):
            # The agent stays Talking while line one is up; ACW only once no line is live. (Line
            # one's own events returned above.)
            one_live = self.lines.consulting
            self._run(lambda: self.desk.on_phone_event(event, line_one_live=one_live),
                      self._phone_event_recorded)

    def _phone_event_recorded(self, result: CallRecord | Notification | None) -> None:
        if isinstance(result, Notification):
            self.notification_did_finish.emit(result)
            self.refresh_gate()
            return
        if result is None or self.record is None or result.id != self.record.id:
            return
        self.record = result
        if result.outcome is not None:
            self.agent_did_change.emit(self.desk.agent)
            self.call_did_end.emit(result)
            self.flush_draft()
        else:
            self.agent_did_change.emit(self.desk.agent)
            self.call_did_change.emit(result)
            if self._draft_timer.isActive():
                self.flush_draft()  # every call state change puts a pending draft on disk

    # -- inbound calls and the consult flow (OB-ALTNUMBER) --------------------------------------

    def _ringing(self, event: IncomingCall) -> None:
        number = caller_number(event.remote_uri)
        if self.lines.one is not None and self.lines.one.live:
            self._turn_away(event, number)
            return
        self._callers[event.ref] = (event.remote_uri, "")
        self.lines.ring(event.ref, number)
        self.lines_did_change.emit(self.lines)

        def found(customer: Customer | None) -> None:
            if customer is not None and event.ref in self._callers:
                self._callers[event.ref] = (event.remote_uri, customer.id)
                self.lines.name_caller(event.ref, customer.full_name)
                self.lines_did_change.emit(self.lines)
        self._caller_on_record(number, found)

    def _caller_on_record(self, number: str, then: Callable[[Customer | None], None],
                          on_error: Callable[[CallwiseError], None] | None = None) -> None:
        """`then` gets the one customer on record with this number, else None (also for a number
        too short to be anyone's: "anonymous", an extension)."""
        if len(re.sub(r"\D", "", number)) < 10:
            then(None)
            return

        def found(customers: list[Customer]) -> None:
            match = [c for c in customers if any(same_number(n.number, number) for n in c.numbers)]
            then(match[0] if len(match) == 1 else None)
        self._run(lambda: self.desk.search(number), found, on_error)

    def _turn_away(self, event: IncomingCall, number: str) -> None:
        """One inbound call at a time (the flow has one line one): a second caller is declined
        at once rather than left hearing ringing until the engine gives up, and the agent is
        told who it was. The caller hears 486 Busy Here, as from any phone already in a call."""
        ref = event.ref
        self._turned_away[ref] = event.remote_uri
        self._run(lambda: self.desk.decline_inbound(ref, busy=True))
        shown = show_number(number) or "an unknown number"

        def say(customer: Customer | None) -> None:
            who = f"{customer.full_name} · {shown}" if customer is not None else shown
            self.message_did_arrive.emit(f"Declined a call from {who}: you are already on a "
                                         "call (line one).")
        self._caller_on_record(number, say, lambda _e: say(None))

    def _turned_away_ended(self, event: CallEnded) -> None:
        remote = self._turned_away.pop(event.ref, "")
        ref, outcome = event.ref, event.outcome
        self._run(lambda: self.desk.inbound_ended(ref, remote, outcome, False, True))

    def ring_me(self) -> None:
        """Demo only: a demo customer calls the agent (the demo line places the INVITE)."""
        if not self.demo_ring_available:
            return
        ref = f"ring-me-{next(self._ring_seq)}"
        self._ring_asks.add(ref)
        self._run(lambda: self.desk.ring_me(ref),
                  lambda _none: self.message_did_arrive.emit("Asking a demo customer to call you…"))

    def _ring_answered(self, event: MessageResult) -> None:
        self._ring_asks.discard(event.ref)
        if not event.delivered:
            self.message_did_arrive.emit(f"The demo line did not take the request ({event.code} "
                                         f"{event.reason}); is the phone registered?")

    def answer(self) -> None:
        """Answer line one; the caller's card opens when their number is on record."""
        line = self.lines.one
        if line is None or line.status is not LineStatus.RINGING:
            return
        talking = self.lines.talking()
        if talking is not None:  # one conversation at a time: the other line waits on hold
            self._run(lambda: self.desk.hold(talking.ref, True))
        remote, customer_id = self._callers.get(line.ref, ("", ""))
        ref = line.ref

        def done(agent: object) -> None:
            self.agent_did_change.emit(agent)
            if customer_id:
                self.select_customer(customer_id)
            else:
                self.message_did_arrive.emit(
                    f"{show_number(line.number) or 'The caller'} is not a number on record: "
                    "search for the customer (Ctrl+F).")
        self._run(lambda: self.desk.answer_inbound(ref, remote, customer_id or None), done)

    def decline(self) -> None:
        line = self.lines.one
        if line is not None and line.status is LineStatus.RINGING:
            ref = line.ref
            self._run(lambda: self.desk.decline_inbound(ref))

    def _line_one_event(self, event: CallProgressed | CallEnded) -> None:
        if isinstance(event, CallProgressed):
            self.lines.progressed(event.ref, event.phase)
            self.lines_did_change.emit(self.lines)
            return
        line = self.lines.ended(event.ref, event.outcome)
        assert line is not None
        remote, _customer = self._callers.pop(event.ref, ("", ""))
        self.lines.clear(event.ref)
        self.lines_did_change.emit(self.lines)
        who = line.who or show_number(line.number) or "an unknown number"
        if not line.answered:
            words = ("declined" if event.outcome is CallOutcome.DECLINED else
                     "not answered: the caller hung up" if event.outcome is CallOutcome.CANCELLED
                     else f"not answered ({event.outcome.label.lower()})")
            text = f"Call from {who} {words}."
        else:
            text = f"Line one ({who}) ended: {event.outcome.label}."
        self.line_did_end.emit(text)
        other = self.lines.two is not None and self.lines.two.live
        answered, ref, outcome = line.answered, event.ref, event.outcome
        self._run(lambda: self.desk.inbound_ended(ref, remote, outcome, answered, other),
                  self._agent_changed)

    def _agent_changed(self, agent: object) -> None:
        self.agent_did_change.emit(agent)
        self.refresh_gate()

    def consult(self) -> None:
        """Consult: line one waits on hold while the agent dials the number the customer gave."""
        one = self.lines.one
        if one is None or not self.lines.consulting or self.lines.two is not None:
            return
        if one.status is LineStatus.TALKING:
            ref = one.ref
            self._run(lambda: self.desk.hold(ref, True))
        self.consult_did_open.emit()

    def dial_consult(self, typed: str) -> None:
        """Line two: the alternate number, origin alternate_number, through the desk's gate."""
        try:
            number = consult_number(typed)
        except CallwiseError as error:
            self.consult_was_refused.emit(error)
            return
        customer = self.customer
        if customer is None:
            self.consult_was_refused.emit(CallwiseError(
                "Open the caller's customer card first: calls go only to customers on record.",
                action="Search for the customer (Ctrl+F)."))
            return
        if self.record is not None:
            self.consult_was_refused.emit(CallwiseError(
                "Another call record is still open.",
                action="Finish its memo and close it before dialling again."))
            return
        self._use_alternate(number)
        context = self.context
        who = customer.full_name

        def placed(record: CallRecord) -> None:
            self.lines.dialled(record.id, number, who)
            self.lines_did_change.emit(self.lines)
            self._call_placed(record)

        def blocked(error: CallwiseError) -> None:
            self.consult_was_refused.emit(error)
            self.dial_was_blocked.emit(error)
            self.refresh_gate()

        self._run(lambda: self.desk.place_call(customer.id, number, context), placed, blocked)

    def use_alternate(self, typed: str) -> None:
        """The alternate-number path: the number the customer gave becomes the number to call,
        with origin alternate_number; the gate says what it still needs (OB-STATE: ACW)."""
        try:
            number = consult_number(typed)
        except CallwiseError as error:
            self.alternate_was_refused.emit(error)
            return
        self._use_alternate(number)
        self.refresh_gate()

    def _use_alternate(self, number: str) -> None:
        self.alternate = number
        self.number = number
        self.context = replace(self.context, origin=CallOrigin.ALTERNATE_NUMBER)
        self.context_did_load.emit(self.context)
        self.alternate_did_change.emit(number)

    def back_to_line_one(self) -> None:
        one, two = self.lines.one, self.lines.two
        if one is None or not one.live or not one.answered:
            return
        if two is not None and two.status is LineStatus.TALKING:
            two_ref = two.ref
            self._run(lambda: self.desk.hold(two_ref, True))
        if one.status is LineStatus.HELD:
            one_ref = one.ref
            self._run(lambda: self.desk.hold(one_ref, False))

    def end_line_one(self) -> None:
        one = self.lines.one
        if one is not None and one.live and one.answered:
            ref = one.ref
            self._run(lambda: self.desk.hangup(ref))

    def resume_line_two(self) -> None:
        one, two = self.lines.one, self.lines.two
        if two is None or two.status is not LineStatus.HELD:
            return
        if one is not None and one.status is LineStatus.TALKING:
            one_ref = one.ref
            self._run(lambda: self.desk.hold(one_ref, True))
        two_ref = two.ref
        self._run(lambda: self.desk.hold(two_ref, False))

    def confirm_recording_notice(self) -> None:
        if self.record is not None:
            record_id = self.record.id
            self._run(lambda: self.desk.confirm_recording_notice(record_id), self._record_changed)

    def verify_customer(self) -> None:
        if self.record is not None:
            record_id = self.record.id
            self._run(lambda: self.desk.verify_customer(record_id), self._record_changed)

    def confirm_script_step(self, step_id: str) -> None:
        if self.record is not None:
            record_id = self.record.id
            self._run(lambda: self.desk.confirm_script_step(record_id, step_id),
                      self._steps_recorded)

    def _steps_recorded(self, done: frozenset[str]) -> None:
        self.steps_done = done
        self.steps_did_change.emit(done)

    def _record_changed(self, record: CallRecord) -> None:
        self.record = record
        self.call_did_change.emit(record)

    # -- the shared store's local copy ---------------------------------------------------------

    def catch_up(self) -> None:
        store = self._store
        if isinstance(store, SyncingStore):
            def done(status: SyncStatus) -> None:
                self._sync_timer.setInterval(SYNC_BUSY_MS if status.pending else SYNC_IDLE_MS)
                self.sync_did_change.emit(status)

            def step() -> SyncStatus:
                store.catch_up(limit=100)
                return store.sync_status()
            self._run(step, done)

    # -- callbacks and commitments (COMMIT, SA-OWNERSHIP) --------------------------------------

    def refresh_callbacks(self) -> None:
        self._run(self.commitments.board, self.callbacks_did_load.emit)

    def open_scheduling(self) -> None:
        customer = self.customer
        if customer is None:
            return
        call_id = self.record.id if self.record is not None else None
        self._run(lambda: self.commitments.context(customer.id, call_id),
                  self.scheduling_did_open.emit)

    def check_callback(self, request: CallbackRequest) -> None:
        self._run(lambda: self.commitments.check(request), self.callback_check_did_finish.emit)

    def schedule_callback(self, request: CallbackRequest) -> None:
        def done(item: CallbackItem) -> None:
            self.callback_did_schedule.emit(item)
            self.refresh_callbacks()
            if self.customer is not None and self.customer.id == item.customer_id:
                self.reload_card()  # the card lists the promise too
        self._run(lambda: self.commitments.schedule(request), done, self.callback_was_refused.emit)

    def take_callback(self, callback_id: str) -> None:
        def done(item: object) -> None:
            self.callback_did_change.emit(item)
            self.refresh_callbacks()
        self._run(lambda: self.commitments.take(callback_id), done)

    def cancel_callback(self, callback_id: str, reason: str) -> None:
        def done(cb: object) -> None:
            self.callback_did_change.emit(cb)
            self.refresh_callbacks()
        self._run(lambda: self.commitments.cancel(callback_id, reason), done)

    def call_callback(self, customer_id: str, callback_id: str) -> None:
        """"Call now" on a promised callback: the gate opens with its context; Dial still checks."""
        if self.record is not None:
            self.message_did_arrive.emit("Finish the open call record before calling back.")
            return

        def loaded(item: CallbackItem) -> None:
            self.callback_id = item.id
            from app.services.callbacks import call_context  # loaded with the records

            self.context = call_context(item)
            self.context_did_load.emit(self.context)
            self.select_customer(item.customer_id)
        self._run(lambda: self.commitments.item(callback_id), loaded)

    # -- memo ----------------------------------------------------------------------------------

    def memo_problems(self, memo: Memo) -> list[str]:
        if self._desk is None:  # the memo form is disabled until the records are open
            return []
        return self.desk.check_memo(memo)  # pure text check: cheap enough for the GUI thread

    def missing_for_close(self, memo: Memo) -> list[str]:
        record = self.record
        if record is None:
            return []
        probe = CallRecord(**{**record.__dict__, "memo": memo})
        return probe.missing_for_close() + self.desk.closure_missing(probe, self.steps_done)

    def update_draft(self, memo: Memo) -> None:
        self._draft = memo
        self._draft_timer.start()

    def flush_draft(self) -> None:
        self._draft_timer.stop()
        record, memo = self.record, self._draft
        if record is None or memo is None:
            return
        record_id = record.id
        self._run(lambda: self.desk.save_draft(record_id, memo), self.draft_did_save.emit)

    def close_record(self, memo: Memo) -> None:
        record = self.record
        if record is None:
            return
        self._draft_timer.stop()
        record_id, callback_id = record.id, self.callback_id

        def done(closed: CallRecord) -> None:
            self.record = None
            self._draft = None
            self.callback_id = None
            if self.lines.two is not None and self.lines.two.ref == closed.id:
                self.lines.clear(closed.id)
                self.lines_did_change.emit(self.lines)
            if closed.origin is CallOrigin.ALTERNATE_NUMBER:
                # The alternate number was for this call, made while the customer was on the
                # line: the next call is not one (its exemptions from OB-ATTEMPTS, OB-SPOKE
                # and OB-NOTIFY must not carry over to a later callback).
                self.alternate, self.number = "", ""
                self.context = replace(self.context, origin=CallOrigin.FOLLOW_UP)
                self.context_did_load.emit(self.context)
            self.record_did_close.emit(closed)
            self.reload_card()
            self.refresh_callbacks()

        self._run(lambda: self.desk.close_record(record_id, memo, callback_id), done)

    def shutdown(self) -> None:
        """Last draft to disk before the worker stops; the record itself stays open for next time."""
        self._gate_timer.stop()
        self._callbacks_timer.stop()
        self._sync_timer.stop()
        if self._draft_timer.isActive() or self.record is not None:
            self.flush_draft()
