"""The memo that must be complete before a call record closes (OB-MEMO, SA-DOCUMENT, OB-NOANSWER)."""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from enum import StrEnum


class PaymentTopic(StrEnum):
    """OB-PAYMENT: we never raise payment; the memo records whether the customer did."""

    NOT_DISCUSSED = "not_discussed"
    CUSTOMER_RAISED = "customer_raised"


@dataclass(frozen=True)
class Memo:
    reason: str = ""
    ticket_numbers: str = ""
    summary: str = ""
    customer_response: str = ""
    payment_topic: PaymentTopic | None = None
    # Unanswered calls (OB-NOANSWER): voicemail left, or why not, and an account note.
    voicemail_left: bool | None = None
    no_voicemail_reason: str = ""
    account_note: str = ""
    # SA-DOCUMENT: the linked ticket's update (same details plus findings and actions).
    ticket_findings: str = ""

    def with_changes(self, **changes: object) -> Memo:
        return replace(self, **changes)  # type: ignore[arg-type]

    def texts(self) -> dict[str, str]:
        """Every free-text field, for the sensitive-data check."""
        return {f.name: getattr(self, f.name) for f in fields(self)
                if isinstance(getattr(self, f.name), str)}

    @staticmethod
    def field_label(name: str) -> str:
        return _LABELS.get(name, name.replace("_", " ").capitalize())


_LABELS = {
    "reason": "Reason for the call",
    "ticket_numbers": "Ticket number(s)",
    "summary": "Summary of what was communicated",
    "customer_response": "Customer's response (confirmations, concerns, next steps)",
    "payment_topic": "Payment topic",
    "voicemail_left": "Voicemail left",
    "no_voicemail_reason": "Why no voicemail was left",
    "account_note": "Account note",
    "ticket_findings": "Ticket update: findings and actions",
}
