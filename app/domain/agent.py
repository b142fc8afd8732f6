"""The agent at this workstation."""

from __future__ import annotations

from dataclasses import dataclass

from app.domain.enums import AgentState, Team


@dataclass(frozen=True)
class Agent:
    id: str
    name: str
    team: Team
    state: AgentState = AgentState.NOT_READY_OTHER
    international_calling: bool = False
