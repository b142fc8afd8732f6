"""The facts a dial-gate verdict is computed from, and nothing else.

A verdict depends only on these facts, the pack and `now`, so the same inputs give the same
verdict on every desktop; the scenario file format (acceptance README) mirrors this class.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import time

from app.domain.agent import Agent
from app.domain.customer import ContactHistory, Customer
from app.domain.enums import AgentState, CallOrigin, CallReason, NotificationTemplate, Team


@dataclass(frozen=True)
class ConsentWindow:
    """The customer's agreed calling hours, [start, end) in their local time.

    start > end wraps past midnight (a night-shift worker who agreed to 21:00–07:00);
    start == end is an empty window and opens nothing.
    """

    start: time
    end: time


@dataclass(frozen=True, kw_only=True)
class DialFacts:
    team: Team
    state: AgentState
    international_calling: bool = False
    number: str  # as typed; read as a US number when it has no country code
    service_zone: str | None = None  # IANA zone of the service address, when known
    # The customer's agreed calling hours [from, to) in their local time: both or neither.
    consent_from: time | None = None
    consent_to: time | None = None
    spoke_before: bool
    unanswered_attempts: int = 0
    origin: CallOrigin
    reason: CallReason
    directed_by_policy: bool = False
    notification_sent: NotificationTemplate | None = None
    email_sent: bool = False
    # False when the shared store was unreachable: other agents' attempts may be missing.
    history_complete: bool = True

    def __post_init__(self) -> None:
        if self.unanswered_attempts < 0:
            raise ValueError("unanswered_attempts cannot be negative")
        if (self.consent_from is None) != (self.consent_to is None):
            raise ValueError("a consent window needs both its start and its end")

    @property
    def consent(self) -> ConsentWindow | None:
        if self.consent_from is None or self.consent_to is None:
            return None
        return ConsentWindow(self.consent_from, self.consent_to)

    @classmethod
    def from_domain(cls, agent: Agent, customer: Customer, history: ContactHistory, *,
                    number: str, origin: CallOrigin, reason: CallReason,
                    directed_by_policy: bool = False,
                    notification_sent: NotificationTemplate | None = None,
                    email_sent: bool = False) -> DialFacts:
        """The facts for `agent` calling `number` of `customer` (the dial gate's usual path)."""
        consent = customer.consent
        return cls(
            team=agent.team,
            state=agent.state,
            international_calling=agent.international_calling,
            number=number,
            service_zone=customer.service_zone,
            consent_from=consent.start if consent is not None else None,
            consent_to=consent.end if consent is not None else None,
            spoke_before=history.spoke_before,
            unanswered_attempts=history.unanswered_attempts,
            origin=origin,
            reason=reason,
            directed_by_policy=directed_by_policy,
            notification_sent=notification_sent,
            email_sent=email_sent,
            history_complete=history.complete,
        )
