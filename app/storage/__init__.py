"""Records storage: SQLAlchemy 2 over SQLite (embedded default) or PostgreSQL (shared).

The only package that imports SQLAlchemy, Alembic or psycopg. Services see it through
`app.ports.store`; the composition root calls `open_store` (one database) or
`open_resilient_store` (a central database with a local copy for when it is away).
"""

from app.storage.engine import default_sqlite_url, open_store
from app.storage.sync import ResilientStore, open_desktop_store, open_resilient_store
from app.storage.uow import SqlStore, SqlUnitOfWork

__all__ = ["ResilientStore", "SqlStore", "SqlUnitOfWork", "default_sqlite_url",
           "open_desktop_store", "open_resilient_store", "open_store"]
