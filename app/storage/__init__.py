"""Records storage: SQLAlchemy 2 over SQLite (embedded default) or PostgreSQL (shared).

The only package that imports SQLAlchemy, Alembic or psycopg. Services see it through
`app.ports.store`; the composition root calls `open_store`.
"""

from app.storage.engine import default_sqlite_url, open_store
from app.storage.uow import SqlStore, SqlUnitOfWork

__all__ = ["SqlStore", "SqlUnitOfWork", "default_sqlite_url", "open_store"]
