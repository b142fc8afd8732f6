"""Vocabularies shared by the policy, the records and the screens.

Values are the strings used in policy packs, scenario files and the database, so
they must never be renamed once released.
"""

from __future__ import annotations

from enum import StrEnum


class Team(StrEnum):
    CARE = "care"
    GLOBAL_CARE = "global_care"
    SERVICE_ASSURANCE = "service_assurance"
    LEADER = "leader"

    @property
    def label(self) -> str:
        return _TEAM_LABELS[self]


_TEAM_LABELS = {
    Team.CARE: "Care",
    Team.GLOBAL_CARE: "Global Care",
    Team.SERVICE_ASSURANCE: "Service Assurance",
    Team.LEADER: "Leaders",
}


def queue_label(queue: str) -> str:
    """A team's assignment queue in words: "care" -> "Care", "service_assurance" -> "Service
    Assurance"; a queue another system named is shown as it came, tidied."""
    try:
        return Team(queue).label
    except ValueError:
        return queue.replace("_", " ").replace("-", " ").title()


class AgentState(StrEnum):
    READY = "ready"
    NOT_READY_FOLLOW_UP = "not_ready_follow_up"
    NOT_READY_OTHER = "not_ready_other"
    TALKING = "talking"
    AFTER_CALL_WORK = "after_call_work"

    @property
    def label(self) -> str:
        return _STATE_LABELS[self]


_STATE_LABELS = {
    AgentState.READY: "Ready",
    AgentState.NOT_READY_FOLLOW_UP: "Not Ready – Follow-Up",
    AgentState.NOT_READY_OTHER: "Not Ready – Other",
    AgentState.TALKING: "Talking",
    AgentState.AFTER_CALL_WORK: "After-Call Work",
}


class CallOrigin(StrEnum):
    FOLLOW_UP = "follow_up"
    DROPPED_CALL = "dropped_call"
    TICKET = "ticket"
    EMAIL_REQUEST = "email_request"
    ALTERNATE_NUMBER = "alternate_number"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ").capitalize()


class CallReason(StrEnum):
    TROUBLESHOOTING = "troubleshooting"
    TICKET_UPDATE = "ticket_update"
    CUSTOMER_DISCONNECTED = "customer_disconnected"
    TIME_RESTRICTION = "time_restriction"
    ACTIVATION = "activation"
    SALES = "sales"
    OTHER = "other"

    @property
    def label(self) -> str:
        return _REASON_LABELS[self]


_REASON_LABELS = {
    CallReason.TROUBLESHOOTING: "Troubleshooting",
    CallReason.TICKET_UPDATE: "Ticket update",
    CallReason.CUSTOMER_DISCONNECTED: "Customer ended the last call",
    CallReason.TIME_RESTRICTION: "Customer ran out of time",
    CallReason.ACTIVATION: "Feature/plan/add-on activation",
    CallReason.SALES: "Sales follow-up",
    CallReason.OTHER: "Other",
}


class NotificationTemplate(StrEnum):
    CUSTOMER_CALLBACK = "customer_callback"
    DROPPED_CALL = "dropped_call"


class CallOutcome(StrEnum):
    """How a call ended, in words an agent understands (mapped from SIP by the adapter)."""

    ANSWERED = "answered"
    BUSY = "busy"
    NO_ANSWER = "no_answer"
    DECLINED = "declined"
    NOT_FOUND = "not_found"
    UNREACHABLE = "unreachable"
    REMOTE_HANGUP = "remote_hangup"
    LOCAL_HANGUP = "local_hangup"
    DROPPED = "dropped"
    CANCELLED = "cancelled"

    @property
    def spoke_with_customer(self) -> bool:
        return self in (CallOutcome.ANSWERED, CallOutcome.REMOTE_HANGUP, CallOutcome.LOCAL_HANGUP,
                        CallOutcome.DROPPED)

    @property
    def label(self) -> str:
        return _OUTCOME_LABELS[self]


_OUTCOME_LABELS = {
    CallOutcome.ANSWERED: "Answered",
    CallOutcome.BUSY: "Busy",
    CallOutcome.NO_ANSWER: "No answer",
    CallOutcome.DECLINED: "Declined by the customer",
    CallOutcome.NOT_FOUND: "Number not found",
    CallOutcome.UNREACHABLE: "Unreachable (network or server failure)",
    CallOutcome.REMOTE_HANGUP: "Customer hung up",
    CallOutcome.LOCAL_HANGUP: "You hung up",
    CallOutcome.DROPPED: "Dropped mid-call",
    CallOutcome.CANCELLED: "Cancelled before answer",
}
