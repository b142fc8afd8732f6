"""Alembic environment for the records schema.

Called two ways: by `app.storage.engine.upgrade_to_head`, which passes an open connection in
`config.attributes["connection"]` (the app's normal path), or by the `alembic` command line with
the URL in `-x url=...` or CALLWISE_DATABASE_URL. It never configures logging: the application
owns that.
"""

from __future__ import annotations

import os

from alembic import context
from sqlalchemy import Connection, text

from app.storage.models import Base

# Any constant will do; it only has to be the same on every desktop.
_MIGRATION_LOCK = 0x43574C53  # "CWLS"


def _url() -> str:
    url = (context.get_x_argument(as_dictionary=True).get("url")
           or os.environ.get("CALLWISE_DATABASE_URL")
           or context.config.get_main_option("sqlalchemy.url"))
    if not url:
        raise SystemExit("Give the database URL with -x url=... or CALLWISE_DATABASE_URL.")
    return url


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",  # SQLite cannot ALTER most things
        compare_type=True,
    )
    with context.begin_transaction():
        if connection.dialect.name == "postgresql":
            # Many desktops may start at once after an upgrade; one migrates, the rest wait and
            # then find nothing to do. Released with the transaction.
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"),
                               {"key": _MIGRATION_LOCK})
        context.run_migrations()


def run_online() -> None:
    given = context.config.attributes.get("connection")
    if given is not None:
        _run(given)
        return
    from app.storage.engine import create_store_engine

    engine = create_store_engine(_url())
    try:
        with engine.begin() as connection:
            _run(connection)
    finally:
        engine.dispose()


def run_offline() -> None:
    context.configure(url=_url(), target_metadata=Base.metadata, literal_binds=True,
                      dialect_opts={"paramstyle": "named"})
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
