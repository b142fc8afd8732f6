"""Customers, their numbers and consents, and the cross-agent contact history the policy needs."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, datetime
from functools import cache
from itertools import islice
from typing import Any, cast
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    Row,
    Select,
    Table,
    and_,
    bindparam,
    func,
    insert,
    literal,
    or_,
    select,
    union,
    update,
)
from sqlalchemy.orm import InstrumentedAttribute, Session, selectinload

from app.domain.customer import Consent, ContactHistory, Customer, PhoneNumber
from app.domain.enums import CallOutcome
from app.ports.store import NotFound
from app.storage.errors import translated
from app.storage.keys import account_key, name_keys, number_keys, plan_search, prefix_upper_bound
from app.storage.models import CallRow, ConsentRow, CustomerNumberRow, CustomerRow
from app.storage.repositories._common import connection, none_of, one_of, rowcount
from app.storage.types import UTCDateTime

_BATCH = 5_000
_BEFORE_ANY_CALL = datetime(1, 1, 2, tzinfo=UTC)
# A conversation happened when the call connected, or when it ended in an outcome that means the
# customer was on the line (the domain's CallOutcome.spoke_with_customer).
_SPOKE = [o.value for o in CallOutcome if o.spoke_with_customer]


def _in_range(column: InstrumentedAttribute[str], prefix: str) -> ColumnElement[bool]:
    return and_(column >= prefix, column < prefix_upper_bound(prefix))


def _conversation() -> ColumnElement[bool]:
    return or_(CallRow.connected_at.is_not(None), one_of(CallRow.outcome, _SPOKE))


def _no_conversation() -> ColumnElement[bool]:
    # Spelled out rather than not_(_conversation()): an open attempt has outcome NULL, and
    # NOT (NULL IN (...)) is NULL, which would silently drop it from the count.
    return and_(CallRow.connected_at.is_(None),
                or_(CallRow.outcome.is_(None), none_of(CallRow.outcome, _SPOKE)))


def _consent_in_effect(newest: Any) -> Consent | None:
    """The newest consent recorded counts, unless it was revoked. `newest`: a ConsentRow or a
    row of `_get_statement` (the same column names), None when none was ever recorded."""
    if newest is None or newest.revoked_at is not None:
        return None
    return Consent(start=newest.window_start, end=newest.window_end,
                   recorded_by=newest.recorded_by, recorded_at=newest.recorded_at,
                   note=newest.note)


def _customer(row: Any, numbers: tuple[PhoneNumber, ...], consent: Consent | None) -> Customer:
    """`row`: a CustomerRow or a row of `_get_statement` (the same column names)."""
    return Customer(
        id=row.id, first_name=row.first_name, last_name=row.last_name,
        account_number=row.account_number, numbers=numbers,
        line_of_business=row.line_of_business, service_zone=row.service_zone,
        consent=consent, last_bill_amount=row.last_bill_amount, device=row.device,
        last_care_call=row.last_care_call, extra=dict(row.extra or {}))


def to_customer(row: CustomerRow) -> Customer:
    newest = max(row.consents, key=lambda r: (r.recorded_at, r.id)) if row.consents else None
    return _customer(row, tuple(PhoneNumber(n.number, n.label) for n in row.numbers),
                     _consent_in_effect(newest))


@cache
def _get_statement() -> Select[Any]:
    """The customer, its numbers (one row each, in order) and its newest consent, in ONE
    statement: `get` runs at every dial (the point-of-action re-read), where the ORM's three
    selects cost far more than the rows. Built once; `customer_id` is a bound parameter."""
    customers = cast(Table, CustomerRow.__table__)
    numbers = cast(Table, CustomerNumberRow.__table__)
    consents = cast(Table, ConsentRow.__table__)
    newest = (select(consents.c.id).where(consents.c.customer_id == customers.c.id)
              .order_by(consents.c.recorded_at.desc(), consents.c.id.desc()).limit(1)
              .correlate(customers).scalar_subquery())
    return (select(customers.c.id, customers.c.first_name, customers.c.last_name,
                   customers.c.account_number, customers.c.line_of_business,
                   customers.c.service_zone, customers.c.last_bill_amount, customers.c.device,
                   customers.c.last_care_call, customers.c.extra,
                   numbers.c.number, numbers.c.label,
                   consents.c.id.label("consent_id"), consents.c.window_start,
                   consents.c.window_end, consents.c.recorded_by, consents.c.recorded_at,
                   consents.c.note, consents.c.revoked_at)
            .select_from(customers
                         .outerjoin(numbers, numbers.c.customer_id == customers.c.id)
                         .outerjoin(consents, consents.c.id == newest))
            .where(customers.c.id == bindparam("customer_id"))
            .order_by(numbers.c.position))


def _customer_from_rows(rows: Sequence[Row[Any]]) -> Customer:
    """What `to_customer` makes of the ORM rows, from `_get_statement`'s flat rows."""
    first = rows[0]
    return _customer(first,
                     tuple(PhoneNumber(r.number, r.label) for r in rows if r.number is not None),
                     _consent_in_effect(first if first.consent_id is not None else None))


def _check_e164(number: str) -> None:
    digits = number[1:]
    if not (number.startswith("+") and digits.isdigit() and 8 <= len(digits) <= 15):
        raise ValueError(f"{number!r} is not an E.164 number (+ and 8 to 15 digits)")


def _consent_values(customer_id: str, consent: Consent) -> dict[str, Any]:
    return {"customer_id": customer_id, "window_start": consent.start,
            "window_end": consent.end, "recorded_by": consent.recorded_by,
            "recorded_at": consent.recorded_at, "note": consent.note}


def _chunks(items: Iterable[Customer]) -> Iterator[list[Customer]]:
    it = iter(items)
    while chunk := list(islice(it, _BATCH)):
        yield chunk


class SqlCustomerRepository:
    """Owned by the unit of work (and so the thread) that made it."""

    def __init__(self, session: Session) -> None:
        self._session = session

    def _load(self) -> Any:
        return (select(CustomerRow)
                .options(selectinload(CustomerRow.numbers), selectinload(CustomerRow.consents))
                .execution_options(populate_existing=True))

    @translated
    def search(self, text: str, limit: int = 50) -> list[Customer]:
        plan = plan_search(text)
        if limit <= 0:
            return []
        if not text.strip():  # nothing typed yet: the first page by name, so the list is not blank
            stmt = self._load().order_by(CustomerRow.name_rev_key, CustomerRow.id).limit(limit)
            return [to_customer(row) for row in self._session.scalars(stmt)]
        if plan.empty:  # typed, but too little to search on ("12"): nothing, not everything
            return []
        # Each probe is an index range scan cut at `limit`; their union is small, so sorting it
        # by name costs nothing however many customers there are.
        probes: list[Any] = []

        def probe(id_column: Any, key: InstrumentedAttribute[str], prefix: str) -> None:
            probes.append(select(id_column.label("id")).where(_in_range(key, prefix))
                          .order_by(key).limit(limit).subquery())

        if plan.name_prefix:
            probe(CustomerRow.id, CustomerRow.name_key, plan.name_prefix)
            probe(CustomerRow.id, CustomerRow.name_rev_key, plan.name_prefix)
        if plan.account_prefix:
            probe(CustomerRow.id, CustomerRow.account_key, plan.account_prefix)
        for prefix in plan.number_prefixes:
            probe(CustomerNumberRow.customer_id, CustomerNumberRow.e164_digits, prefix)
            probe(CustomerNumberRow.customer_id, CustomerNumberRow.national_digits, prefix)
        if plan.reversed_suffix:
            probe(CustomerNumberRow.customer_id, CustomerNumberRow.reversed_digits,
                  plan.reversed_suffix)
        ids = union(*(select(p.c.id) for p in probes))
        stmt = (self._load().where(CustomerRow.id.in_(ids))
                .order_by(CustomerRow.name_rev_key, CustomerRow.id).limit(limit))
        return [to_customer(row) for row in self._session.scalars(stmt)]

    @translated
    def get(self, customer_id: str) -> Customer | None:
        rows = connection(self._session).execute(
            _get_statement(), {"customer_id": customer_id}).all()
        return _customer_from_rows(rows) if rows else None

    def add(self, customer: Customer) -> None:
        self.add_many([customer])

    @translated
    def add_many(self, customers: Iterable[Customer]) -> None:
        for chunk in _chunks(customers):
            rows: list[dict[str, Any]] = []
            numbers: list[dict[str, Any]] = []
            consents: list[dict[str, Any]] = []
            for c in chunk:
                name_key, name_rev_key = name_keys(c.first_name, c.last_name)
                rows.append({
                    "id": c.id, "first_name": c.first_name, "last_name": c.last_name,
                    "account_number": c.account_number, "line_of_business": c.line_of_business,
                    "service_zone": c.service_zone, "last_bill_amount": c.last_bill_amount,
                    "device": c.device, "last_care_call": c.last_care_call,
                    "extra": dict(c.extra), "name_key": name_key, "name_rev_key": name_rev_key,
                    "account_key": account_key(c.account_number)})
                for position, phone in enumerate(c.numbers):
                    _check_e164(phone.number)
                    keys = number_keys(phone.number)
                    numbers.append({
                        "customer_id": c.id, "position": position, "number": phone.number,
                        "label": phone.label, "e164_digits": keys.e164_digits,
                        "national_digits": keys.national_digits,
                        "reversed_digits": keys.reversed_digits})
                if c.consent is not None:
                    consents.append(_consent_values(c.id, c.consent))
            self._session.execute(insert(CustomerRow), rows)
            if numbers:
                self._session.execute(insert(CustomerNumberRow), numbers)
            if consents:
                self._session.execute(insert(ConsentRow), consents)

    @translated
    def count(self) -> int:
        return self._session.scalar(select(func.count()).select_from(CustomerRow)) or 0

    @translated
    def existing_ids(self, customer_ids: Iterable[str]) -> set[str]:
        found: set[str] = set()
        it = iter(customer_ids)
        while chunk := list(islice(it, 500)):  # well under every backend's parameter limit
            found.update(self._session.scalars(
                select(CustomerRow.id).where(CustomerRow.id.in_(chunk))))
        return found

    @translated
    def set_service_zone(self, customer_id: str, zone: str | None, by: str, at: datetime) -> None:
        if zone is not None:
            try:
                ZoneInfo(zone)
            except (ZoneInfoNotFoundError, ValueError) as exc:
                raise ValueError(f"{zone!r} is not a known IANA time zone") from exc
        result = self._session.execute(
            update(CustomerRow).where(CustomerRow.id == customer_id)
            .values(service_zone=zone, service_zone_set_by=by, service_zone_set_at=at)
            .execution_options(synchronize_session=False))
        if rowcount(result) == 0:
            raise NotFound(f"No customer {customer_id} in the records.")

    def _require(self, customer_id: str) -> None:
        if self._session.scalar(select(CustomerRow.id).where(CustomerRow.id == customer_id)) \
                is None:
            raise NotFound(f"No customer {customer_id} in the records.")

    @translated
    def record_consent(self, customer_id: str, consent: Consent) -> None:
        self._require(customer_id)
        self._session.execute(insert(ConsentRow).values(**_consent_values(customer_id, consent)))

    @translated
    def revoke_consent(self, customer_id: str, by: str, at: datetime) -> None:
        self._require(customer_id)
        newest = self._session.execute(
            select(ConsentRow.id, ConsentRow.revoked_at)
            .where(ConsentRow.customer_id == customer_id)
            .order_by(ConsentRow.recorded_at.desc(), ConsentRow.id.desc()).limit(1)).first()
        if newest is None or newest.revoked_at is not None:
            return
        self._session.execute(update(ConsentRow).where(ConsentRow.id == newest.id)
                              .values(revoked_by=by, revoked_at=at)
                              .execution_options(synchronize_session=False))

    @translated
    def contact_history(self, customer_id: str) -> ContactHistory:
        spoke_at, last_conversation_at, attempts, last_attempt_at = connection(
            self._session).execute(_history_statement(), {"customer_id": customer_id}).one()
        if spoke_at is None:
            return ContactHistory(spoke_before=False, unanswered_attempts=attempts,
                                  last_attempt_at=last_attempt_at)
        return ContactHistory(spoke_before=True, unanswered_attempts=attempts,
                              last_conversation_at=last_conversation_at,
                              last_attempt_at=last_attempt_at)


@cache
def _history_statement() -> Select[datetime | None, datetime | None, int, datetime | None]:
    """`contact_history` in one statement, built once (it runs at every dial): (when the last
    conversation was dialled, when it happened, unanswered attempts since, newest attempt).

    Each part is its own seek on the (customer_id, dialed_at) index: the last conversation
    walks back from the newest attempt, the count looks only at the attempts after it, and the
    newest attempt is the index's last entry, so none grows with a customer's whole history."""
    customer: BindParameter[str] = bindparam("customer_id")
    last_conversation = (select(CallRow.dialed_at)
                         .where(CallRow.customer_id == customer, _conversation())
                         .order_by(CallRow.dialed_at.desc()).limit(1))
    # Never correlated: nested in the count below, it must still read `calls` on its own.
    spoke_at = last_conversation.correlate(None).scalar_subquery()
    # No conversation yet: every attempt counts, as if the last one was before any call.
    after = func.coalesce(spoke_at, literal(_BEFORE_ANY_CALL, UTCDateTime()))
    unanswered = (select(func.count()).select_from(CallRow)
                  .where(CallRow.customer_id == customer, CallRow.dialed_at > after,
                         _no_conversation())
                  .scalar_subquery())
    newest = (select(func.max(CallRow.dialed_at)).where(CallRow.customer_id == customer)
              .scalar_subquery())
    return select(spoke_at,
                  last_conversation.with_only_columns(
                      func.coalesce(CallRow.connected_at, CallRow.dialed_at)).scalar_subquery(),
                  unanswered, newest)
