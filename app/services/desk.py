"""The agent's desk: every use case the agent desktop offers, as plain methods over the ports.

Thread: a Desk is used from the one worker thread the UI runs its background work on, so database
writes are serialised and the GUI thread never waits on them. Methods may block on the database;
they never block on SIP (the phone's commands return at once and report back as events).

Point of action (STYLE 8): `place_call` evaluates the policy again and records the attempt in the
same transaction before any INVITE leaves; whatever the screen showed earlier is not trusted.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from app.domain.agent import Agent
from app.domain.call import CallContext, CallRecord, CallState, new_record_id
from app.domain.clock import Clock
from app.domain.customer import Consent, ContactHistory, Customer
from app.domain.enums import AgentState, CallOutcome, NotificationTemplate
from app.domain.errors import CallwiseError, DialBlocked
from app.domain.memo import Memo
from app.mail.compose import SaEmail, body_text, compose_sa_email
from app.mail.templates import load_email_template
from app.policy.engine import Verdict, evaluate
from app.policy.facts import DialFacts
from app.policy.numbers import dial_string, zones_for
from app.policy.obligations import RecordFacts, closure_blockers
from app.policy.pack import AttemptsParams, PolicyPack
from app.policy.sensitive import find_sensitive
from app.ports.phone import CallEnded, CallPhase, CallProgressed, MessageResult, Phone, PhoneEvent
from app.ports.store import Callback, Notification, Store, UnitOfWork
from app.services.callbacks import complete_on_close

if TYPE_CHECKING:
    from app.ports.mailer import Mailer  # its `email` import is not needed to build a desk

log = logging.getLogger(__name__)

# A pre-call notification counts for the next call if it was sent after the last attempt and no
# longer ago than this: a message from yesterday does not announce today's call.
NOTIFICATION_VALID_FOR = timedelta(hours=2)

# Closing obligations the record itself already names by field: listing both would tell the agent
# the same thing twice ("Payment topic" and "OB-PAYMENT").
_COVERED_BY_FIELDS = {
    "OB-PAYMENT": {"payment_topic"},
    "OB-MEMO": {"reason", "summary", "customer_response"},
    "OB-NOANSWER": {"voicemail_left", "no_voicemail_reason", "account_note"},
}


@dataclass(frozen=True)
class CustomerCard:
    customer: Customer
    history: ContactHistory
    recent: tuple[CallRecord, ...]
    callbacks: tuple[Callback, ...] = ()  # open promises to this customer, soonest first


class Desk:
    def __init__(self, *, store: Store, pack: PolicyPack, phone: Phone, clock: Clock,
                 agent: Agent, sip_domain: str, mailer: Mailer | None = None,
                 mail_from: str = "", company: dict[str, str] | None = None,
                 demo_ring_uri: str = "") -> None:
        """`demo_ring_uri`: `callwise --demo` only, the demo line's reserved "ring me" address
        (app.demo.line.RING_ME_USER); empty everywhere else, and then nothing offers `ring_me`."""
        self._store = store
        self.demo_ring_uri = demo_ring_uri
        self._mailer = mailer
        self._mail_from = mail_from
        self._company = company or {}
        self._pack = pack
        self._phone = phone
        self._clock = clock
        self._agent = agent
        self._sip_domain = sip_domain
        self._pending_messages: dict[str, Notification] = {}

    @property
    def agent(self) -> Agent:
        return self._agent

    @property
    def pack(self) -> PolicyPack:
        return self._pack

    def now(self) -> datetime:
        return self._clock.now()

    # -- customers -----------------------------------------------------------------------------

    def search(self, text: str, limit: int = 50) -> list[Customer]:
        with self._store.unit_of_work(read_only=True) as uow:
            return uow.customers.search(text, limit)

    def card(self, customer_id: str) -> CustomerCard:
        with self._store.unit_of_work(read_only=True) as uow:
            customer = uow.customers.get(customer_id)
            if customer is None:
                raise CallwiseError("That customer no longer exists in the record store.")
            return CustomerCard(customer, uow.customers.contact_history(customer_id),
                                tuple(uow.calls.recent_for_customer(customer_id, 10)),
                                tuple(uow.callbacks.open_for_customer(customer_id)))

    # -- the dial gate -------------------------------------------------------------------------

    def _facts(self, uow: UnitOfWork, customer: Customer, number: str, context: CallContext,
               now: datetime) -> DialFacts:
        history = uow.customers.contact_history(customer.id)
        since = now - NOTIFICATION_VALID_FOR
        if history.last_attempt_at is not None and history.last_attempt_at > since:
            since = history.last_attempt_at
        # One query for every template (it runs at every dial); the last template in the enum's
        # order that was sent wins, as when each was asked for in turn.
        sent = uow.notifications.templates_sent(customer.id, since)
        sent_template: NotificationTemplate | None = None
        for template in NotificationTemplate:
            if template.value in sent:
                sent_template = template
        email_sent = "sa_email" in sent
        consent = customer.consent
        return DialFacts(
            team=self._agent.team, state=self._agent.state,
            international_calling=self._agent.international_calling,
            number=number, service_zone=customer.service_zone,
            consent_from=consent.start if consent else None,
            consent_to=consent.end if consent else None,
            spoke_before=history.spoke_before, unanswered_attempts=history.unanswered_attempts,
            history_complete=history.complete,
            origin=context.origin, reason=context.reason,
            directed_by_policy=context.directed_by_policy,
            notification_sent=sent_template, email_sent=email_sent)

    def verdict(self, customer_id: str, number: str, context: CallContext) -> Verdict:
        now = self._clock.now()
        with self._store.unit_of_work(read_only=True) as uow:
            customer = uow.customers.get(customer_id)
            if customer is None:
                raise CallwiseError("That customer no longer exists in the record store.")
            return evaluate(self._pack, self._facts(uow, customer, number, context, now), now)

    def place_call(self, customer_id: str, number: str, context: CallContext) -> CallRecord:
        """Re-check, record the attempt, then send the INVITE — in that order, or not at all."""
        now = self._clock.now()
        with self._store.unit_of_work() as uow:
            customer = uow.customers.get(customer_id)
            if customer is None:
                raise CallwiseError("That customer no longer exists in the record store.")
            if uow.calls.open_records(self._agent.id):
                raise CallwiseError("Another call record is still open.",
                                    action="Finish its memo and close it before dialling again.")
            verdict = evaluate(self._pack, self._facts(uow, customer, number, context, now), now)
            if not verdict.allowed:
                first = next(r for r in verdict.rules if r.id in verdict.blocked_by)
                raise DialBlocked(f"Dial blocked by {first.id}: {first.reason}",
                                  list(verdict.blocked_by),
                                  action=first.action.label if first.action else None)
            assert verdict.dial_string is not None  # NUMBER passed, so there is a dial string
            record = CallRecord(
                id=new_record_id(), customer_id=customer.id, agent_id=self._agent.id,
                number=number, dial_string=verdict.dial_string, origin=context.origin,
                reason=context.reason, dialed_at=now, pack_version=verdict.pack_version,
                pack_checksum=verdict.pack_checksum,
                verdicts=dict(verdict.outcomes),
                ticket_ref=context.ticket_ref,
                memo=Memo(reason=context.reason.label, ticket_numbers=context.ticket_ref))
            uow.calls.add(record)
            uow.audit.append("call_attempt", record.id,
                             {"customer": customer.id, "agent": self._agent.id,
                              "dial_string": verdict.dial_string, "verdicts": record.verdicts,
                              "pack": verdict.pack_version}, now)
            uow.commit()
        self._phone.dial(record.id, f"sip:{record.dial_string}@{self._sip_domain}")
        log.info("dial %s record=%s pack=%s", record.dial_string, record.id, verdict.pack_version)
        return record

    # -- facts the agent records from the gate -----------------------------------------------

    def record_consent(self, customer_id: str, start: time, end: time, note: str) -> Customer:
        """OB-WINDOW: the customer agreed to other hours; who, when and the window are kept."""
        if start == end:
            raise CallwiseError("The consent window is empty (it starts when it ends).",
                                action="Enter the hours the customer agreed to.")
        now = self._clock.now()
        consent = Consent(start=start, end=end, recorded_by=self._agent.id, recorded_at=now,
                          note=note.strip())
        with self._store.unit_of_work() as uow:
            uow.customers.record_consent(customer_id, consent)
            uow.audit.append("consent_recorded", customer_id,
                             {"from": start.isoformat(), "to": end.isoformat(),
                              "by": self._agent.id, "note": note.strip()}, now)
            uow.commit()
            customer = uow.customers.get(customer_id)
        assert customer is not None
        return customer

    def set_service_zone(self, customer_id: str, zone: str) -> Customer:
        """OB-WINDOW: the service address's zone, when the number alone cannot tell."""
        try:
            ZoneInfo(zone)
        except (ZoneInfoNotFoundError, ValueError) as e:
            raise CallwiseError(f"“{zone}” is not a time zone Callwise knows.",
                                action="Pick the zone from the list, e.g. America/Chicago.") from e
        now = self._clock.now()
        with self._store.unit_of_work() as uow:
            uow.customers.set_service_zone(customer_id, zone, self._agent.id, now)
            uow.audit.append("service_zone_recorded", customer_id,
                             {"zone": zone, "by": self._agent.id}, now)
            uow.commit()
            customer = uow.customers.get(customer_id)
        assert customer is not None
        return customer

    def send_sa_email(self, customer_id: str, address: str, purpose: str,
                      windows: list[tuple[date, time, time]], next_steps: list[str],
                      ticket_ref: str) -> Notification:
        """SA-EMAILFIRST: email the customer before calling; counts as sent only once delivered."""
        if self._mailer is None:
            raise CallwiseError("No mail server is configured on this workstation.",
                                action="Ask IT to set smtp.host and smtp.from_address.")
        now = self._clock.now()
        with self._store.unit_of_work(read_only=True) as uow:
            customer = uow.customers.get(customer_id)
        if customer is None:
            raise CallwiseError("That customer no longer exists in the record store.")
        zones = zones_for(customer.primary_number, customer.service_zone).zones
        if not zones:
            raise CallwiseError("The customer's time zone is unknown, so the availability "
                                "windows cannot be stated.", action="Record the service zone first.")
        message = compose_sa_email(
            SaEmail(first_name=customer.first_name, address=address, purpose=purpose,
                    windows=windows, zone=zones[0], next_steps=next_steps, ticket_ref=ticket_ref,
                    company_name=self._company.get("company", ""),
                    support_number=self._company.get("support_number", ""),
                    agent_name=self._agent.name),
            load_email_template(), from_address=self._mail_from, now=now)
        result = self._mailer.send(message)
        notification = Notification(
            id=new_record_id(), customer_id=customer_id, agent_id=self._agent.id, channel="email",
            template="sa_email", destination=address, body=body_text(message), sent_at=now,
            delivered=result.delivered, detail=result.detail)
        with self._store.unit_of_work() as uow:
            uow.notifications.add(notification)
            uow.audit.append("sa_email", customer_id,
                             {"to": address, "delivered": result.delivered,
                              "ticket": ticket_ref}, now)
            uow.commit()
        return notification

    # -- agent state ---------------------------------------------------------------------------

    def set_state(self, state: AgentState) -> Agent:
        now = self._clock.now()
        with self._store.unit_of_work() as uow:
            uow.agents.record_state(self._agent.id, state, now)
            uow.commit()
        self._agent = replace(self._agent, state=state)
        return self._agent

    # -- notifications -------------------------------------------------------------------------

    def send_notification(self, customer_id: str, template: NotificationTemplate, text: str) -> str:
        """Sends the pre-call template as a SIP MESSAGE; it counts as sent only once delivered."""
        with self._store.unit_of_work() as uow:
            customer = uow.customers.get(customer_id)
            if customer is None:
                raise CallwiseError("That customer no longer exists in the record store.")
        ref = new_record_id()
        destination = f"sip:{dial_string(customer.primary_number)}@{self._sip_domain}"
        self._pending_messages[ref] = Notification(
            id=ref, customer_id=customer_id, agent_id=self._agent.id, channel="sip_message",
            template=template.value, destination=destination, body=text,
            sent_at=self._clock.now(), delivered=False, detail="sending")
        self._phone.send_message(ref, destination, text)
        return ref

    # -- phone events --------------------------------------------------------------------------

    def on_phone_event(self, event: PhoneEvent, *,
                       line_one_live: bool = False) -> CallRecord | Notification | None:
        """`line_one_live`: an answered inbound call is still up (held or not), so a call
        record's call ending leaves the agent Talking on it, not in After-Call Work."""
        now = self._clock.now()
        if isinstance(event, MessageResult):
            pending = self._pending_messages.pop(event.ref, None)
            if pending is None:
                return None
            done = replace(pending, delivered=event.delivered,
                           detail=f"{event.code} {event.reason}".strip())
            with self._store.unit_of_work() as uow:
                uow.notifications.add(done)
                uow.commit()
            return done
        if not isinstance(event, (CallProgressed, CallEnded)):
            return None
        with self._store.unit_of_work() as uow:
            record = uow.calls.get(event.ref)
            if record is None or record.state in (CallState.WRAP_UP, CallState.CLOSED):
                return record
            if isinstance(event, CallProgressed):
                if event.phase is CallPhase.RINGING:
                    record.ringing()
                elif event.phase is CallPhase.CONNECTED and record.connected_at is None:
                    record.connected(now)
                    uow.agents.record_state(self._agent.id, AgentState.TALKING, now)
                    self._agent = replace(self._agent, state=AgentState.TALKING)
            else:
                if event.connected and record.connected_at is None:
                    record.connected(now)
                outcome = event.outcome
                if not record.reached_customer and outcome is CallOutcome.LOCAL_HANGUP:
                    outcome = CallOutcome.CANCELLED
                record.ended(now, outcome, event.code, event.reason)
                if not line_one_live:
                    uow.agents.record_state(self._agent.id, AgentState.AFTER_CALL_WORK, now)
                    self._agent = replace(self._agent, state=AgentState.AFTER_CALL_WORK)
            uow.calls.save(record)
            uow.commit()
            return record

    def hangup(self, record_id: str) -> None:
        self._phone.hangup(record_id)

    def hold(self, record_id: str, on: bool) -> None:
        (self._phone.hold if on else self._phone.unhold)(record_id)

    def send_dtmf(self, record_id: str, digits: str) -> None:
        self._phone.send_dtmf(record_id, digits)

    # -- inbound calls: line one of the consult flow (OB-ALTNUMBER) ----------------------------

    def ring_me(self, ref: str) -> None:
        """Ask the demo line for a demo customer's call (a SIP MESSAGE); the INVITE then arrives
        as any inbound call does. The answer to the MESSAGE comes back as a MessageResult."""
        if not self.demo_ring_uri:
            raise CallwiseError("Only the demo line can be asked to call you.",
                                action="Start Callwise with --demo to try an inbound call.")
        self._phone.send_message(ref, self.demo_ring_uri, "ring")

    def answer_inbound(self, ref: str, remote_uri: str, customer_id: str | None) -> Agent:
        """Line one is answered: the agent is Talking, which OB-STATE accepts for a consult call
        to an alternate number. Written down before the 200 OK goes out, as a dial is."""
        now = self._clock.now()
        with self._store.unit_of_work() as uow:
            uow.agents.record_state(self._agent.id, AgentState.TALKING, now)
            uow.audit.append("inbound_answered", ref,
                             {"from": remote_uri, "customer": customer_id,
                              "agent": self._agent.id}, now)
            uow.commit()
        self._agent = replace(self._agent, state=AgentState.TALKING)
        self._phone.answer(ref)
        log.info("answered inbound %s from %s", ref, remote_uri)
        return self._agent

    def decline_inbound(self, ref: str, *, busy: bool = False) -> None:
        """Refuses an unanswered inbound call: 603 Decline, or 486 Busy Here when `busy` (a
        second caller while the agent is on line one)."""
        self._phone.hangup(ref, busy=busy)

    def inbound_ended(self, ref: str, remote_uri: str, outcome: CallOutcome, answered: bool,
                      other_line_live: bool) -> Agent:
        """Line one is over. An answered call leaves the agent in After-Call Work (where OB-STATE
        lets them call an alternate number the customer gave), unless line two is still up."""
        now = self._clock.now()
        with self._store.unit_of_work() as uow:
            uow.audit.append("inbound_ended", ref,
                             {"from": remote_uri, "outcome": outcome.value, "answered": answered,
                              "agent": self._agent.id}, now)
            if answered and not other_line_live:
                uow.agents.record_state(self._agent.id, AgentState.AFTER_CALL_WORK, now)
                self._agent = replace(self._agent, state=AgentState.AFTER_CALL_WORK)
            uow.commit()
        return self._agent

    def attempt_cap(self) -> int | None:
        """OB-SEQUENCE: how many unanswered attempts this agent's team may make (None: no cap)."""
        params = self._pack.params("OB-ATTEMPTS", AttemptsParams)
        return params.caps.get(self._agent.team) if params else None

    # -- on the call ---------------------------------------------------------------------------

    def _update(self, record_id: str, change: str) -> CallRecord:
        now = self._clock.now()
        with self._store.unit_of_work() as uow:
            record = uow.calls.get(record_id)
            if record is None:
                raise CallwiseError("That call record no longer exists.")
            if change == "recording":
                record.confirm_recording_notice(now)
            elif change == "verified":
                record.verify_customer(now)
            uow.calls.save(record)
            uow.audit.append(change, record.id, {"at": now.isoformat()}, now)
            uow.commit()
            return record

    def confirm_script_step(self, record_id: str, step_id: str) -> frozenset[str]:
        """SA-PREPARE / SA-ALTERNATIVE: the specialist said this step; kept in the audit trail."""
        now = self._clock.now()
        with self._store.unit_of_work() as uow:
            uow.audit.append("script_step", record_id, {"step": step_id}, now)
            uow.commit()
        return self.script_steps_done(record_id)

    def script_steps_done(self, record_id: str) -> frozenset[str]:
        with self._store.unit_of_work(read_only=True) as uow:
            entries = uow.audit.for_record(record_id)
        return frozenset(str(e.payload.get("step")) for e in entries if e.kind == "script_step")

    def confirm_recording_notice(self, record_id: str) -> CallRecord:
        return self._update(record_id, "recording")

    def verify_customer(self, record_id: str) -> CallRecord:
        return self._update(record_id, "verified")

    # -- memo and closing ----------------------------------------------------------------------

    def check_memo(self, memo: Memo) -> list[str]:
        """Sentences for every SSN-, PIN- or card-like piece of text; nothing is stored while any."""
        problems = []
        for name, text in memo.texts().items():
            for finding in find_sensitive(text):
                problems.append(f"{Memo.field_label(name)}: {finding.message}")
        return problems

    def save_draft(self, record_id: str, memo: Memo) -> bool:
        """Saves the draft unless it holds sensitive text (never written, not even once)."""
        if self.check_memo(memo):
            return False
        with self._store.unit_of_work() as uow:
            uow.calls.save_draft(record_id, memo, self._clock.now())
            uow.commit()
        return True

    def closure_missing(self, record: CallRecord,
                        steps_done: frozenset[str] = frozenset()) -> list[str]:
        """What the pack's closing obligations still owe, beyond the record's own missing fields."""
        facts = RecordFacts(team=self._agent.team, origin=record.origin,
                            connected=record.reached_customer,
                            recording_notice_confirmed=record.recording_notice_at is not None,
                            verified=record.verified_at is not None, memo=record.memo,
                            sa_steps_done=steps_done)
        own = set(record.missing_for_close())
        return [rule for rule in closure_blockers(self._pack, facts)
                if rule not in own and not (_COVERED_BY_FIELDS.get(rule, set()) & own)]

    def close_record(self, record_id: str, memo: Memo,
                     callback_id: str | None = None) -> CallRecord:
        problems = self.check_memo(memo)
        if problems:
            raise CallwiseError("The memo holds text that looks like an SSN, PIN or card number: "
                                + "; ".join(problems), action="Remove it, then close the record.")
        now = self._clock.now()
        with self._store.unit_of_work() as uow:
            record = uow.calls.get(record_id)
            if record is None:
                raise CallwiseError("That call record no longer exists.")
            record.memo = memo
            steps = frozenset(str(e.payload.get("step")) for e in uow.audit.for_record(record.id)
                              if e.kind == "script_step")
            record.close(now, self.closure_missing(record, steps))
            uow.calls.save(record)
            # COMMIT: a promised callback is kept by this call, in the same transaction.
            complete_on_close(uow, record, self._agent.id, now, callback_id)
            if record.ticket_ref and memo.ticket_findings.strip():
                uow.tickets.add_update(record.ticket_ref, record.id,
                                       f"{memo.summary}\n{memo.customer_response}\n"
                                       f"{memo.ticket_findings}", now)
            uow.audit.append("record_closed", record.id,
                             {"outcome": record.outcome.value if record.outcome else None,
                              "memo": memo.summary[:0]}, now)
            uow.commit()
            return record

    def open_records(self) -> list[CallRecord]:
        with self._store.unit_of_work() as uow:
            return uow.calls.open_records(self._agent.id)
