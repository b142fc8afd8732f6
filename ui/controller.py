"""The desk controller: views ask it to act and observe the facts it announces.

Owned by the GUI thread. Every use case runs on the TaskRunner's worker; results come back here
and are announced as signals named as facts. Views never call each other.
"""

from __future__ import annotations

import logging
import re
from datetime import date, time
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal

from app.domain.call import CallRecord
from app.domain.commitment import CallbackRequest
from app.domain.customer import Customer
from app.domain.enums import AgentState, NotificationTemplate
from app.domain.errors import CallwiseError
from app.domain.memo import Memo
from app.ports.phone import (
    CallEnded,
    CallPhase,
    CallProgressed,
    MessageResult,
    PhoneEvent,
    PhoneFailed,
    RegistrationChanged,
)
from app.ports.store import Notification, Store, SyncingStore, SyncStatus
from app.services.callbacks import CallbackItem, Commitments, call_context
from app.services.desk import CallContext, CustomerCard, Desk
from ui.tasks import TaskRunner

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

    def __init__(self, desk: Desk, runner: TaskRunner, templates: dict[str, str], *,
                 commitments: Commitments, store: Store | None = None,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._desk = desk
        self._store = store
        self._commitments = commitments
        self.callback_id: str | None = None
        self._callbacks_timer = QTimer(self)
        self._callbacks_timer.setInterval(CALLBACKS_REFRESH_MS)
        self._callbacks_timer.timeout.connect(self.refresh_callbacks)
        self._callbacks_timer.start()
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
        self._draft: Memo | None = None
        self._draft_timer = QTimer(self)
        self._draft_timer.setSingleShot(True)
        self._draft_timer.setInterval(DRAFT_DELAY_MS)
        self._draft_timer.timeout.connect(self.flush_draft)
        self._gate_timer = QTimer(self)
        self._gate_timer.setInterval(GATE_REFRESH_MS)
        self._gate_timer.timeout.connect(self.refresh_gate)
        self._gate_timer.start()
        runner.task_did_fail.connect(self.error_did_occur)
        runner.task_did_crash.connect(self.message_did_arrive)

    @property
    def desk(self) -> Desk:
        return self._desk

    def _run(self, fn: Any, on_done: Any = None, on_error: Any = None) -> None:
        self._runner.submit(fn, on_done, on_error or self.error_did_occur.emit)

    # -- start-up ------------------------------------------------------------------------------

    def start(self) -> None:
        self.agent_did_change.emit(self._desk.agent)
        self._run(self._desk.open_records, self._reopen)
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
        self._run(lambda: self._desk.script_steps_done(record_id), self._steps_recorded)
        self.message_did_arrive.emit("An unfinished call record was reopened with its memo draft.")
        self.select_customer(self.record.customer_id)
        self.record_did_reopen.emit(self.record)

    # -- customers and the gate ----------------------------------------------------------------

    def search(self, text: str) -> None:
        self._run(lambda: self._desk.search(text), self.customers_did_load.emit)

    def select_customer(self, customer_id: str) -> None:
        self._run(lambda: self._desk.card(customer_id), self._card_loaded)

    def _card_loaded(self, card: CustomerCard) -> None:
        self.customer = card.customer
        if not self.number or self.number not in [n.number for n in card.customer.numbers]:
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
        self._run(lambda: self._desk.verdict(customer.id, number, context),
                  self.verdict_did_change.emit)

    def record_consent(self, start: time, end: time, note: str) -> None:
        customer = self.customer
        if customer is not None:
            self._run(lambda: self._desk.record_consent(customer.id, start, end, note),
                      lambda _c: self._fact_recorded("Consent recorded."))

    def set_service_zone(self, zone: str) -> None:
        customer = self.customer
        if customer is not None:
            self._run(lambda: self._desk.set_service_zone(customer.id, zone),
                      lambda _c: self._fact_recorded(f"Service zone set to {zone}."))

    def _fact_recorded(self, text: str) -> None:
        self.message_did_arrive.emit(text)
        self.reload_card()

    def send_sa_email(self, address: str, purpose: str, windows: list[tuple[date, time, time]],
                      steps: list[str], ticket: str) -> None:
        customer = self.customer
        if customer is not None:
            self._run(lambda: self._desk.send_sa_email(customer.id, address, purpose, windows,
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

        self._run(lambda: self._desk.search(number), found)

    def set_agent_state(self, state: AgentState) -> None:
        def done(agent: Any) -> None:
            self.agent_did_change.emit(agent)
            self.refresh_gate()
        self._run(lambda: self._desk.set_state(state), done)

    def send_notification(self, template: NotificationTemplate) -> None:
        customer = self.customer
        if customer is None:
            return
        text = self._templates[template.value].format(first_name=customer.first_name,
                                                       company=self._templates.get("company", ""))
        self._run(lambda: self._desk.send_notification(customer.id, template, text),
                  lambda _ref: self.message_did_arrive.emit("Sending the notification…"))

    # -- calls ---------------------------------------------------------------------------------

    def dial(self) -> None:
        customer = self.customer
        if customer is None or self.record is not None:
            return
        number, context = self.number, self.context

        def done(record: CallRecord) -> None:
            self.record = record
            self._draft = record.memo
            self._steps_recorded(frozenset())
            self.call_did_start.emit(record)

        def blocked(error: CallwiseError) -> None:
            self.dial_was_blocked.emit(error)
            self.refresh_gate()

        self._run(lambda: self._desk.place_call(customer.id, number, context), done, blocked)

    def toggle_hold(self) -> None:
        if self.record is not None and self.record.connected_at is not None:
            record_id, on = self.record.id, not self.held
            self._run(lambda: self._desk.hold(record_id, on))

    def send_dtmf(self, digits: str) -> None:
        if self.record is not None and self.record.outcome is None:
            record_id = self.record.id
            self._run(lambda: self._desk.send_dtmf(record_id, digits))

    def hangup(self) -> None:
        if self.record is not None:
            record_id = self.record.id
            self._run(lambda: self._desk.hangup(record_id))

    def on_phone_event(self, event: PhoneEvent) -> None:
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
        if isinstance(event, CallEnded) and self.held:
            self.held = False
            self.hold_did_change.emit(False)
        if isinstance(event, (CallProgressed, CallEnded, MessageResult)):
            self._run(lambda: self._desk.on_phone_event(event), self._phone_event_recorded)

    def _phone_event_recorded(self, result: CallRecord | Notification | None) -> None:
        if isinstance(result, Notification):
            self.notification_did_finish.emit(result)
            self.refresh_gate()
            return
        if result is None or self.record is None or result.id != self.record.id:
            return
        self.record = result
        if result.outcome is not None:
            self.agent_did_change.emit(self._desk.agent)
            self.call_did_end.emit(result)
            self.flush_draft()
        else:
            self.agent_did_change.emit(self._desk.agent)
            self.call_did_change.emit(result)
            if self._draft_timer.isActive():
                self.flush_draft()  # every call state change puts a pending draft on disk

    def confirm_recording_notice(self) -> None:
        if self.record is not None:
            record_id = self.record.id
            self._run(lambda: self._desk.confirm_recording_notice(record_id), self._record_changed)

    def verify_customer(self) -> None:
        if self.record is not None:
            record_id = self.record.id
            self._run(lambda: self._desk.verify_customer(record_id), self._record_changed)

    def confirm_script_step(self, step_id: str) -> None:
        if self.record is not None:
            record_id = self.record.id
            self._run(lambda: self._desk.confirm_script_step(record_id, step_id),
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
        self._run(self._commitments.board, self.callbacks_did_load.emit)

    def open_scheduling(self) -> None:
        customer = self.customer
        if customer is None:
            return
        call_id = self.record.id if self.record is not None else None
        self._run(lambda: self._commitments.context(customer.id, call_id),
                  self.scheduling_did_open.emit)

    def check_callback(self, request: CallbackRequest) -> None:
        self._run(lambda: self._commitments.check(request), self.callback_check_did_finish.emit)

    def schedule_callback(self, request: CallbackRequest) -> None:
        def done(item: CallbackItem) -> None:
            self.callback_did_schedule.emit(item)
            self.refresh_callbacks()
        self._run(lambda: self._commitments.schedule(request), done, self.callback_was_refused.emit)

    def take_callback(self, callback_id: str) -> None:
        def done(item: object) -> None:
            self.callback_did_change.emit(item)
            self.refresh_callbacks()
        self._run(lambda: self._commitments.take(callback_id), done)

    def cancel_callback(self, callback_id: str, reason: str) -> None:
        def done(cb: object) -> None:
            self.callback_did_change.emit(cb)
            self.refresh_callbacks()
        self._run(lambda: self._commitments.cancel(callback_id, reason), done)

    def call_callback(self, customer_id: str, callback_id: str) -> None:
        """"Call now" on a promised callback: the gate opens with its context; Dial still checks."""
        if self.record is not None:
            self.message_did_arrive.emit("Finish the open call record before calling back.")
            return

        def loaded(item: CallbackItem) -> None:
            self.callback_id = item.id
            self.context = call_context(item)
            self.context_did_load.emit(self.context)
            self.select_customer(item.customer_id)
        self._run(lambda: self._commitments.item(callback_id), loaded)

    # -- memo ----------------------------------------------------------------------------------

    def memo_problems(self, memo: Memo) -> list[str]:
        return self._desk.check_memo(memo)  # pure text check: cheap enough for the GUI thread

    def missing_for_close(self, memo: Memo) -> list[str]:
        record = self.record
        if record is None:
            return []
        probe = CallRecord(**{**record.__dict__, "memo": memo})
        return probe.missing_for_close() + self._desk.closure_missing(probe, self.steps_done)

    def update_draft(self, memo: Memo) -> None:
        self._draft = memo
        self._draft_timer.start()

    def flush_draft(self) -> None:
        self._draft_timer.stop()
        record, memo = self.record, self._draft
        if record is None or memo is None:
            return
        record_id = record.id
        self._run(lambda: self._desk.save_draft(record_id, memo), self.draft_did_save.emit)

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
            self.record_did_close.emit(closed)
            self.reload_card()
            self.refresh_callbacks()

        self._run(lambda: self._desk.close_record(record_id, memo, callback_id), done)

    def shutdown(self) -> None:
        """Last draft to disk before the worker stops; the record itself stays open for next time."""
        self._gate_timer.stop()
        self._callbacks_timer.stop()
        self._sync_timer.stop()
        if self._draft_timer.isActive() or self.record is not None:
            self.flush_draft()
