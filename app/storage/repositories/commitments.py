"""What was promised and sent: callbacks, pre-call notifications, ticket updates."""

from __future__ import annotations

from datetime import datetime
from functools import cache
from typing import Any, get_args

from sqlalchemy import Select, bindparam, insert, select, update
from sqlalchemy.orm import Session

from app.ports.store import Callback, CallbackStatus, Channel, NotFound, Notification, TicketUpdate
from app.storage.errors import translated
from app.storage.models import CallbackRow, CallRow, NotificationRow, TicketRow, TicketUpdateRow
from app.storage.repositories._common import code, connection, insert_ignore, rowcount

_CHANNELS: tuple[str, ...] = get_args(Channel)
_OPEN = CallbackStatus.OPEN.value


def _to_callback(row: CallbackRow) -> Callback:
    return Callback(id=row.id, customer_id=row.customer_id, owner_id=row.owner_id,
                    due_at=row.due_at, reason=row.reason, created_at=row.created_at,
                    status=CallbackStatus(row.status), queue=row.queue, call_id=row.call_id,
                    closed_at=row.closed_at)


class SqlCallbackRepository:
    """Owned by the unit of work (and so the thread) that made it."""

    def __init__(self, session: Session) -> None:
        self._session = session

    def _select(self) -> Any:
        return select(CallbackRow).execution_options(populate_existing=True)

    @translated
    def add(self, callback: Callback) -> None:
        self._session.execute(insert(CallbackRow).values(
            id=callback.id, customer_id=callback.customer_id, owner_id=callback.owner_id,
            due_at=callback.due_at, reason=callback.reason, created_at=callback.created_at,
            status=code(callback.status), queue=callback.queue, call_id=callback.call_id,
            closed_at=callback.closed_at))

    @translated
    def get(self, callback_id: str) -> Callback | None:
        row = self._session.scalars(self._select().where(CallbackRow.id == callback_id)).first()
        return _to_callback(row) if row is not None else None

    @translated
    def open_for_customer(self, customer_id: str) -> list[Callback]:
        rows = self._session.scalars(
            self._select().where(CallbackRow.customer_id == customer_id,
                                 CallbackRow.status == _OPEN)
            .order_by(CallbackRow.due_at, CallbackRow.id))
        return [_to_callback(r) for r in rows]

    @translated
    def due(self, owner_id: str | None, before: datetime) -> list[Callback]:
        stmt = self._select().where(CallbackRow.status == _OPEN, CallbackRow.due_at < before)
        if owner_id is not None:
            stmt = stmt.where(CallbackRow.owner_id == owner_id)
        rows = self._session.scalars(stmt.order_by(CallbackRow.due_at, CallbackRow.id))
        return [_to_callback(r) for r in rows]

    @translated
    def in_queue(self, queue: str) -> list[Callback]:
        rows = self._session.scalars(
            self._select().where(CallbackRow.queue == queue, CallbackRow.status == _OPEN)
            .order_by(CallbackRow.due_at, CallbackRow.id))
        return [_to_callback(r) for r in rows]

    def _update(self, callback_id: str, **values: Any) -> None:
        result = self._session.execute(
            update(CallbackRow).where(CallbackRow.id == callback_id).values(**values)
            .execution_options(synchronize_session=False))
        if rowcount(result) == 0:
            raise NotFound(f"No callback {callback_id} in the records.")

    @translated
    def set_status(self, callback_id: str, status: CallbackStatus, at: datetime) -> None:
        self._update(callback_id, status=code(status),
                     closed_at=None if status is CallbackStatus.OPEN else at)

    @translated
    def reassign(self, callback_id: str, owner_id: str, queue: str | None) -> None:
        self._update(callback_id, owner_id=owner_id, queue=queue)


def _to_notification(row: NotificationRow) -> Notification:
    channel = row.channel
    if channel == "email":
        return Notification(row.id, row.customer_id, row.agent_id, "email", row.template,
                            row.destination, row.body, row.sent_at, row.delivered, row.detail)
    return Notification(row.id, row.customer_id, row.agent_id, "sip_message", row.template,
                        row.destination, row.body, row.sent_at, row.delivered, row.detail)


@cache
def _templates_sent_statement() -> Select[Any]:
    """Built once: `templates_sent` runs at every dial. The (customer, template, sent_at) index
    finds the customer's rows; DISTINCT keeps the answer a handful of rows however many were
    sent."""
    return (select(NotificationRow.template).distinct()
            .where(NotificationRow.customer_id == bindparam("customer_id"),
                   NotificationRow.sent_at >= bindparam("since"),
                   NotificationRow.delivered.is_(True)))


class SqlNotificationRepository:
    """Owned by the unit of work (and so the thread) that made it."""

    def __init__(self, session: Session) -> None:
        self._session = session

    @translated
    def add(self, notification: Notification) -> None:
        n = notification
        if n.channel not in _CHANNELS:
            raise ValueError(f"unknown notification channel {n.channel!r}")
        self._session.execute(insert(NotificationRow).values(
            id=n.id, customer_id=n.customer_id, agent_id=n.agent_id, channel=n.channel,
            template=code(n.template), destination=n.destination, body=n.body,
            sent_at=n.sent_at, delivered=n.delivered, detail=n.detail))

    @translated
    def last_sent(self, customer_id: str, template: str, since: datetime) -> Notification | None:
        row = self._session.scalars(
            select(NotificationRow)
            .where(NotificationRow.customer_id == customer_id,
                   NotificationRow.template == code(template),
                   NotificationRow.sent_at >= since, NotificationRow.delivered.is_(True))
            .order_by(NotificationRow.sent_at.desc()).limit(1)
            .execution_options(populate_existing=True)).first()
        return _to_notification(row) if row is not None else None

    @translated
    def templates_sent(self, customer_id: str, since: datetime) -> set[str]:
        rows = connection(self._session).execute(
            _templates_sent_statement(), {"customer_id": customer_id, "since": since})
        return {str(template) for (template,) in rows}

    @translated
    def for_customer(self, customer_id: str, limit: int = 20) -> list[Notification]:
        rows = self._session.scalars(
            select(NotificationRow).where(NotificationRow.customer_id == customer_id)
            .order_by(NotificationRow.sent_at.desc()).limit(limit)
            .execution_options(populate_existing=True))
        return [_to_notification(r) for r in rows]


class SqlTicketRepository:
    """Owned by the unit of work (and so the thread) that made it."""

    def __init__(self, session: Session) -> None:
        self._session = session

    @translated
    def add_update(self, ticket_ref: str, record_id: str | None, text: str, at: datetime) -> None:
        if not ticket_ref.strip():
            raise ValueError("a ticket update needs a ticket reference")
        customer_id: str | None = None
        if record_id is not None:
            customer_id = self._session.scalar(
                select(CallRow.customer_id).where(CallRow.id == record_id))
            if customer_id is None:
                raise NotFound(f"No call record {record_id} in the records.")
        insert_ignore(self._session, TicketRow,
                      {"ref": ticket_ref, "customer_id": customer_id, "created_at": at})
        self._session.execute(insert(TicketUpdateRow).values(
            ticket_ref=ticket_ref, record_id=record_id, text=text, at=at))

    @translated
    def updates(self, ticket_ref: str) -> list[TicketUpdate]:
        rows = self._session.execute(
            select(TicketUpdateRow.record_id, TicketUpdateRow.text, TicketUpdateRow.at)
            .where(TicketUpdateRow.ticket_ref == ticket_ref)
            .order_by(TicketUpdateRow.at, TicketUpdateRow.id))
        return [TicketUpdate(ticket_ref, r.record_id, r.text, r.at) for r in rows]
