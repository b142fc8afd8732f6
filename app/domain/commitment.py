"""A promised callback is a commitment (COMMIT, SA-OWNERSHIP): what the agent asks for, and how
late a promise is.

Pure: nothing here reads a clock, a zone database beyond `zoneinfo`, or a store; every function
that depends on "now" takes it. Safe on any thread (the dialog and the panel use it on the GUI
thread to word what they show; the Commitments service uses it on the worker).

Decisions taken where the policy is silent (the pack's SA-OWNERSHIP / COMMIT rules are guidance
only, so these are not pack parameters yet):

- The due time is typed as a wall-clock time in the customer's zone. A time that does not exist
  there (the hour skipped when clocks go forward) is refused; a time that happens twice (when
  clocks go back) means the first of the two, and the dialog shows the UTC offset it used.
- A due time is at most `MAX_AHEAD` away: a promise further out is a reminder, not a callback
  commitment anyone can be held to.
- A callback is "due soon" from `DUE_SOON` before its due time, and overdue from the due time on.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from app.domain.enums import CallReason
from app.domain.errors import CallwiseError

DUE_SOON = timedelta(minutes=30)
MAX_AHEAD = timedelta(days=30)
# A conversation with the customer up to this long before a callback's due time keeps the promise
# (the agent called early); a promise due later stays open and must be kept or cancelled.
KEPT_EARLY_BY = timedelta(hours=2)
# A due time this close to the end of the calling window leaves no time to send the pre-call
# notification (OB-NOTIFY) and dial before the gate closes, so it is refused.
WINDOW_MARGIN = timedelta(minutes=15)


class Urgency(StrEnum):
    OVERDUE = "overdue"
    DUE_SOON = "due_soon"
    LATER = "later"


def urgency(due_at: datetime, now: datetime) -> Urgency:
    if due_at <= now:
        return Urgency.OVERDUE
    if due_at - now <= DUE_SOON:
        return Urgency.DUE_SOON
    return Urgency.LATER


def span_words(delta: timedelta) -> str:
    """"1 min", "2 h 05 min", "3 days 4 h": how long, to the minute, rounded down."""
    minutes = max(int(delta.total_seconds() // 60), 0)
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    if days:
        day_words = "1 day" if days == 1 else f"{days} days"
        return f"{day_words} {hours} h" if hours else day_words
    if hours:
        return f"{hours} h {mins:02d} min"
    return f"{mins} min"


def status_words(due_at: datetime, now: datetime) -> str:
    """What the agent reads next to a callback: "Overdue by 2 h 05 min", "Due in 12 min"."""
    if due_at <= now:
        late = now - due_at
        return "Overdue: due now" if late < timedelta(minutes=1) else f"Overdue by {span_words(late)}"
    return f"Due in {span_words(due_at - now)}" if due_at - now >= timedelta(minutes=1) else (
        "Due in less than a minute")


def to_utc(local: datetime, zone: str) -> datetime | None:
    """The UTC instant of a wall-clock time in `zone`; None when that time does not exist there.

    `local` is naive (a time on the customer's clock). When it happens twice (clocks going back),
    the first occurrence is meant.
    """
    if local.tzinfo is not None:
        raise ValueError("to_utc takes the wall-clock time without a zone")
    tz = ZoneInfo(zone)
    aware = local.replace(tzinfo=tz, fold=0)
    instant = aware.astimezone(UTC)
    if instant.astimezone(tz).replace(tzinfo=None) != local:
        return None  # skipped when the clocks went forward
    return instant


def local_words(at: datetime, zone: str) -> str:
    """"Fri Nov 20, 3:00 PM CST": fixed English wording, independent of the machine's locale."""
    local = at.astimezone(ZoneInfo(zone))
    hour = local.hour % 12 or 12
    ampm = "AM" if local.hour < 12 else "PM"
    return (f"{local:%a %b} {local.day}, {hour}:{local.minute:02d} {ampm} "
            f"{local.tzname() or zone}")


@dataclass(frozen=True)
class CallbackRequest:
    """A callback as the agent asks for it in the scheduling dialog.

    `local_due` is the wall-clock time on the customer's clock in `zone` (one of the customer's
    zones); the stored due time is its UTC instant. `policy_ref` names the policy that directs an
    activation or sales callback (OB-NOCALLBACK); `call_id` is the call it was promised on.
    """

    customer_id: str
    local_due: datetime
    zone: str
    reason: CallReason
    note: str = ""
    directed_by_policy: bool = False
    policy_ref: str = ""
    call_id: str | None = None


class CallbackRefused(CallwiseError):
    """The callback cannot be promised as asked; `rules` names the rule ids that refuse it."""

    def __init__(self, message: str, rules: list[str], action: str | None = None) -> None:
        super().__init__(message, action)
        self.rules = rules
