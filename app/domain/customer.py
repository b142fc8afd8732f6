"""Customers as the agent sees them: who they are, where they live, what they agreed to."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time


@dataclass(frozen=True)
class Consent:
    """The customer agreed to be called in [start, end) of their local time (OB-WINDOW)."""

    start: time
    end: time
    recorded_by: str
    recorded_at: datetime
    note: str = ""


@dataclass(frozen=True)
class PhoneNumber:
    number: str  # as stored: E.164 ("+13125550142")
    label: str = "primary"


@dataclass(frozen=True)
class Customer:
    id: str
    first_name: str
    last_name: str
    account_number: str
    numbers: tuple[PhoneNumber, ...]
    line_of_business: str = "postpaid"
    service_zone: str | None = None  # IANA zone of the service address, when known
    consent: Consent | None = None
    # OB-PROOF facts, shown only after verification.
    last_bill_amount: str | None = None
    device: str | None = None
    last_care_call: date | None = None
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"

    @property
    def primary_number(self) -> str:
        return self.numbers[0].number if self.numbers else ""


@dataclass(frozen=True)
class ContactHistory:
    """Cross-agent facts the policy needs; computed by the store, not stored."""

    spoke_before: bool
    unanswered_attempts: int
    last_conversation_at: datetime | None = None
    last_attempt_at: datetime | None = None
    complete: bool = True  # False when the shared store was unreachable
