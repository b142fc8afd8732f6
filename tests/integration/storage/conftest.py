"""Fixtures for the storage tests.

`postgres_server` starts one real PostgreSQL for the whole session (only if a test asks for it);
every test then gets its own fresh database (`pg_url`) or SQLite file (`sqlite_url`). `db_url`
runs a test on both backends; `store` is an opened, migrated store on that URL.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from app.domain.agent import Agent
from app.domain.customer import Customer, PhoneNumber
from app.domain.enums import Team
from app.storage import SqlStore, open_store
from tests.support.postgres import PostgresMissing, PostgresServer, running_postgres

T0 = datetime(2025, 3, 3, 15, 0, tzinfo=UTC)  # a Monday, 9 a.m. in Chicago


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    try:
        with running_postgres() as server:
            yield server
    except PostgresMissing as exc:
        pytest.fail(str(exc), pytrace=False)


@pytest.fixture
def pg_url(postgres_server: PostgresServer) -> Iterator[str]:
    name, url = postgres_server.create_database()
    yield url
    postgres_server.drop_database(name)


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'records.sqlite3'}"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest) -> str:
    fixture = "sqlite_url" if request.param == "sqlite" else "pg_url"
    url: str = request.getfixturevalue(fixture)
    return url


@pytest.fixture
def store(db_url: str) -> Iterator[SqlStore]:
    opened = open_store(db_url)
    yield opened
    opened.close()


def make_customer(customer_id: str, first: str, last: str, account: str,
                  *numbers: str, **kwargs: object) -> Customer:
    return Customer(customer_id, first, last, account,
                    tuple(PhoneNumber(n, "primary" if i == 0 else f"alt{i}")
                          for i, n in enumerate(numbers)), **kwargs)  # type: ignore[arg-type]


@pytest.fixture
def agents(store: SqlStore) -> tuple[Agent, Agent]:
    """Two agents on different teams, already stored."""
    ann = Agent("ann", "Ann Agent", Team.CARE)
    sam = Agent("sam", "Sam Specialist", Team.SERVICE_ASSURANCE)
    with store.unit_of_work() as uow:
        uow.agents.add(ann)
        uow.agents.add(sam)
        uow.commit()
    return ann, sam
