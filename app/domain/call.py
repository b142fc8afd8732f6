"""The call record as an explicit state machine: dialing → ringing → connected → wrap-up → closed.

A record that cannot close without its memo is a domain rule here, not a UI trick: `close`
refuses while anything is owed, whatever screen asked.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from app.domain.enums import CallOrigin, CallOutcome, CallReason
from app.domain.errors import InvalidTransition, RecordIncomplete
from app.domain.memo import Memo


class CallState(StrEnum):
    DIALING = "dialing"
    RINGING = "ringing"
    CONNECTED = "connected"
    WRAP_UP = "wrap_up"
    CLOSED = "closed"

    @property
    def label(self) -> str:
        return self.value.replace("_", "-").capitalize()


_ALLOWED = {
    CallState.DIALING: {CallState.RINGING, CallState.CONNECTED, CallState.WRAP_UP},
    CallState.RINGING: {CallState.CONNECTED, CallState.WRAP_UP},
    CallState.CONNECTED: {CallState.WRAP_UP},
    CallState.WRAP_UP: {CallState.CLOSED},
    CallState.CLOSED: set(),
}


@dataclass(frozen=True)
class CallContext:
    """Why this call is being placed; chosen by the agent before dialling."""

    origin: CallOrigin = CallOrigin.FOLLOW_UP
    reason: CallReason = CallReason.TROUBLESHOOTING
    directed_by_policy: bool = False
    ticket_ref: str = ""


def new_record_id() -> str:
    """Ids are made on the desktop so records written offline merge exactly once later."""
    return uuid.uuid4().hex


@dataclass
class CallRecord:
    id: str
    customer_id: str
    agent_id: str
    number: str
    dial_string: str
    origin: CallOrigin
    reason: CallReason
    dialed_at: datetime
    pack_version: str = ""
    pack_checksum: str = ""
    verdicts: dict[str, str] = field(default_factory=dict)  # rule id -> outcome at dial time
    state: CallState = CallState.DIALING
    outcome: CallOutcome | None = None
    sip_code: int | None = None
    end_reason: str = ""
    connected_at: datetime | None = None
    ended_at: datetime | None = None
    recording_notice_at: datetime | None = None
    verified_at: datetime | None = None
    closed_at: datetime | None = None
    memo: Memo = field(default_factory=Memo)
    ticket_ref: str = ""

    # -- transitions -------------------------------------------------------------------------

    def _move(self, to: CallState) -> None:
        if to not in _ALLOWED[self.state]:
            raise InvalidTransition(
                f"A call that is {self.state.label.lower()} cannot become {to.label.lower()}.")
        self.state = to

    def ringing(self) -> None:
        if self.state is CallState.DIALING:
            self._move(CallState.RINGING)

    def connected(self, at: datetime) -> None:
        self._move(CallState.CONNECTED)
        self.connected_at = at

    def ended(self, at: datetime, outcome: CallOutcome, sip_code: int | None = None,
              reason: str = "") -> None:
        if self.state is CallState.WRAP_UP:
            return  # an ending already recorded (e.g. local hang-up raced the remote BYE)
        self._move(CallState.WRAP_UP)
        self.ended_at = at
        self.outcome = outcome
        self.sip_code = sip_code
        self.end_reason = reason

    def confirm_recording_notice(self, at: datetime) -> None:
        if self.connected_at is None:
            raise InvalidTransition("The recording notice is read once the customer is on the line.")
        if self.recording_notice_at is None:
            self.recording_notice_at = at

    def verify_customer(self, at: datetime) -> None:
        if self.connected_at is None:
            raise InvalidTransition("The customer can only be verified on a connected call.")
        if self.verified_at is None:
            self.verified_at = at

    @property
    def reached_customer(self) -> bool:
        return self.connected_at is not None

    @property
    def is_open(self) -> bool:
        return self.state is not CallState.CLOSED

    # -- closing -----------------------------------------------------------------------------

    def missing_for_close(self) -> list[str]:
        """Memo fields and rule ids still owed; empty when the record may close."""
        memo = self.memo
        missing: list[str] = []
        if self.state is not CallState.WRAP_UP:
            missing.append("call_ended")
        if not memo.reason.strip():
            missing.append("reason")
        if self.reached_customer:
            if not memo.summary.strip():
                missing.append("summary")
            if not memo.customer_response.strip():
                missing.append("customer_response")
            if memo.payment_topic is None:
                missing.append("payment_topic")
            if self.recording_notice_at is None:
                missing.append("OB-RECORDING")
        else:
            if memo.voicemail_left is None:
                missing.append("voicemail_left")
            elif not memo.voicemail_left and not memo.no_voicemail_reason.strip():
                missing.append("no_voicemail_reason")
            if not memo.account_note.strip():
                missing.append("account_note")
        return missing

    def close(self, at: datetime, extra_missing: list[str] | None = None) -> None:
        """Close the record; `extra_missing` carries what the policy pack's obligations still owe."""
        missing = self.missing_for_close() + list(extra_missing or [])
        if missing:
            names = ", ".join(Memo.field_label(m) if not m.isupper() and "-" not in m else m
                              for m in missing)
            raise RecordIncomplete(f"The call record cannot close yet. Still needed: {names}.",
                                   missing, action="Complete the memo, then close the record.")
        self._move(CallState.CLOSED)
        self.closed_at = at
