"""Agents, their state changes and their shifts."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from app.domain.agent import Agent
from app.domain.enums import AgentState, Team
from app.ports.store import AgentStateChange, NotFound, Shift
from app.storage.errors import translated
from app.storage.models import AgentRow, AgentStateChangeRow, ShiftRow, TeamRow
from app.storage.repositories._common import code, insert_ignore, rowcount


class SqlAgentRepository:
    """Owned by the unit of work (and so the thread) that made it."""

    def __init__(self, session: Session) -> None:
        self._session = session

    @translated
    def get(self, agent_id: str) -> Agent | None:
        row = self._session.get(AgentRow, agent_id, populate_existing=True)
        if row is None:
            return None
        return Agent(id=row.id, name=row.name, team=Team(row.team_id),
                     state=AgentState(row.state),
                     international_calling=row.international_calling)

    @translated
    def add(self, agent: Agent) -> None:
        # Teams are a closed vocabulary (Team); the row appears the first time a team is used.
        team = code(agent.team)
        insert_ignore(self._session, TeamRow,
                      {"id": team, "name": team.replace("_", " ").capitalize()})
        self._session.execute(insert(AgentRow).values(
            id=agent.id, name=agent.name, team_id=team, state=code(agent.state),
            state_since=None, international_calling=agent.international_calling))

    @translated
    def record_state(self, agent_id: str, state: AgentState, at: datetime) -> None:
        result = self._session.execute(
            update(AgentRow).where(AgentRow.id == agent_id)
            .values(state=code(state), state_since=at)
            .execution_options(synchronize_session=False))
        if rowcount(result) == 0:
            raise NotFound(f"No agent {agent_id} in the records.")
        self._session.execute(insert(AgentStateChangeRow).values(
            agent_id=agent_id, state=code(state), at=at))

    @translated
    def state_changes(self, agent_id: str, since: datetime) -> list[AgentStateChange]:
        rows = self._session.execute(
            select(AgentStateChangeRow.state, AgentStateChangeRow.at)
            .where(AgentStateChangeRow.agent_id == agent_id, AgentStateChangeRow.at >= since)
            .order_by(AgentStateChangeRow.at, AgentStateChangeRow.id))
        return [AgentStateChange(agent_id, AgentState(r.state), r.at) for r in rows]


class SqlShiftRepository:
    """Owned by the unit of work (and so the thread) that made it."""

    def __init__(self, session: Session) -> None:
        self._session = session

    @translated
    def add(self, shift: Shift) -> None:
        if shift.ends_at <= shift.starts_at:
            raise ValueError("a shift must end after it starts")
        self._session.execute(insert(ShiftRow).values(
            id=shift.id, agent_id=shift.agent_id, starts_at=shift.starts_at,
            ends_at=shift.ends_at))

    @translated
    def covering(self, agent_id: str, at: datetime) -> Shift | None:
        row = self._session.execute(
            select(ShiftRow.id, ShiftRow.starts_at, ShiftRow.ends_at)
            .where(ShiftRow.agent_id == agent_id, ShiftRow.starts_at <= at, ShiftRow.ends_at > at)
            .order_by(ShiftRow.starts_at.desc()).limit(1)).first()
        if row is None:
            return None
        return Shift(id=row.id, agent_id=agent_id, starts_at=row.starts_at, ends_at=row.ends_at)
