"""The SQLAlchemy unit of work and the store that hands them out."""

from __future__ import annotations

import logging
from types import TracebackType

from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from app.storage.errors import translate
from app.storage.repositories.audit import SqlAuditLog
from app.storage.repositories.calls import SqlCallRepository
from app.storage.repositories.commitments import (
    SqlCallbackRepository,
    SqlNotificationRepository,
    SqlTicketRepository,
)
from app.storage.repositories.customers import SqlCustomerRepository
from app.storage.repositories.people import SqlAgentRepository, SqlShiftRepository

log = logging.getLogger(__name__)

READ_ONLY_OPTION = "callwise_read_only"


class SqlUnitOfWork:
    """One session, one transaction at a time; owned by the thread that entered it.

    Work is kept only by an explicit `commit()`: leaving the block without one (or with an
    exception) rolls back, so a half-done close never reaches the disk.
    """

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions
        self._session: Session | None = None

    def __enter__(self) -> SqlUnitOfWork:
        if self._session is not None:
            raise RuntimeError("a unit of work is entered once")
        session = self._sessions()
        self._session = session
        self._customers = SqlCustomerRepository(session)
        self._calls = SqlCallRepository(session)
        self._notifications = SqlNotificationRepository(session)
        self._agents = SqlAgentRepository(session)
        self._shifts = SqlShiftRepository(session)
        self._callbacks = SqlCallbackRepository(session)
        self._tickets = SqlTicketRepository(session)
        self._audit = SqlAuditLog(session)
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        session = self._require()
        try:
            session.rollback()
        except DBAPIError as rollback_error:
            if exc is None:
                mapped = translate(rollback_error)
                if mapped is rollback_error:
                    raise
                raise mapped from rollback_error
            # The original error is the one worth reporting; the connection is discarded anyway.
            log.warning("rollback after %r failed: %s", exc, rollback_error)
        finally:
            session.close()
            self._session = None

    def _require(self) -> Session:
        if self._session is None:
            raise RuntimeError("use the unit of work inside a `with` block")
        return self._session

    @property
    def session(self) -> Session:
        """For the storage package's own plumbing (the offline outbox, role set-up); services
        use the repositories."""
        return self._require()

    def commit(self) -> None:
        try:
            self._require().commit()
        except DBAPIError as exc:
            mapped = translate(exc)
            if mapped is exc:
                raise
            raise mapped from exc

    def rollback(self) -> None:
        self._require().rollback()

    @property
    def customers(self) -> SqlCustomerRepository:
        self._require()
        return self._customers

    @property
    def calls(self) -> SqlCallRepository:
        self._require()
        return self._calls

    @property
    def notifications(self) -> SqlNotificationRepository:
        self._require()
        return self._notifications

    @property
    def agents(self) -> SqlAgentRepository:
        self._require()
        return self._agents

    @property
    def shifts(self) -> SqlShiftRepository:
        self._require()
        return self._shifts

    @property
    def callbacks(self) -> SqlCallbackRepository:
        self._require()
        return self._callbacks

    @property
    def tickets(self) -> SqlTicketRepository:
        self._require()
        return self._tickets

    @property
    def audit(self) -> SqlAuditLog:
        self._require()
        return self._audit


class SqlStore:
    """Implements `app.ports.store.Store`. Thread-safe (it only holds the engine and its pool);
    made once by the composition root, closed at shutdown."""

    def __init__(self, engine: Engine, *, readers: Engine | None = None) -> None:
        """`readers`: a second engine on the same database for read-only units of work (its
        own pool), or None to share `engine`'s."""
        self._engine = engine
        self._read_engine = readers
        self._writers = sessionmaker(bind=engine, expire_on_commit=False)
        self._readers = sessionmaker(
            bind=(readers or engine).execution_options(**{READ_ONLY_OPTION: True}),
            expire_on_commit=False)

    @property
    def engine(self) -> Engine:
        """For the dashboard's read queries and for tests; services use units of work."""
        return self._engine

    def unit_of_work(self, read_only: bool = False) -> SqlUnitOfWork:
        return SqlUnitOfWork(self._readers if read_only else self._writers)

    def describe(self) -> str:
        url = self._engine.url
        if url.get_backend_name() == "sqlite":
            return f"SQLite database {url.database or ':memory:'}"
        return f"PostgreSQL {url.render_as_string(hide_password=True)}"

    def close(self) -> None:
        if self._engine.dialect.name == "sqlite":
            # SQLite's advice for long-lived databases: refresh planner statistics at close,
            # cheap when nothing changed much. Never fatal: the store is closing anyway.
            try:
                with self._engine.begin() as connection:
                    connection.exec_driver_sql("PRAGMA optimize")
            except DBAPIError as exc:
                log.warning("PRAGMA optimize at close failed: %s", exc)
        self._engine.dispose()
        if self._read_engine is not None:
            self._read_engine.dispose()
