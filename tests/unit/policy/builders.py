"""Builders for the policy tests: dial facts with sensible defaults, instants from text."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from pathlib import Path
from typing import Any

from app.domain.enums import AgentState, CallOrigin, CallReason, NotificationTemplate, Team
from app.policy.facts import DialFacts

DATA = Path(__file__).resolve().parents[2] / "data" / "policy"
CHICAGO = "+1 312 555 0142"

BASE = DialFacts(
    team=Team.CARE,
    state=AgentState.NOT_READY_FOLLOW_UP,
    international_calling=False,
    number=CHICAGO,
    spoke_before=True,
    unanswered_attempts=0,
    origin=CallOrigin.FOLLOW_UP,
    reason=CallReason.TROUBLESHOOTING,
    notification_sent=NotificationTemplate.CUSTOMER_CALLBACK,
)


def facts(**changes: Any) -> DialFacts:
    """The acceptance README's happy path (a Care follow-up to Chicago), with `changes`."""
    return dataclasses.replace(BASE, **changes)


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))
