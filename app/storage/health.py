"""The doctor's database check: reachable, schema current, durability settings in effect.

It never creates or migrates anything: a missing SQLite file is reported, not made.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import make_url, text
from sqlalchemy.exc import DBAPIError

from app.storage.engine import create_store_engine, head_revision
from app.storage.errors import translate


def check_database(url: str) -> tuple[bool, str]:
    """(ok, one line for the agent or IT)."""
    parsed = make_url(url)
    sqlite = parsed.get_backend_name() == "sqlite"
    where = (f"SQLite {parsed.database}" if sqlite
             else f"PostgreSQL {parsed.render_as_string(hide_password=True)}")
    if sqlite and parsed.database not in (None, "", ":memory:") \
            and not Path(parsed.database).expanduser().exists():
        return True, f"{where}: not created yet (Callwise creates it at first start)"
    try:
        engine = create_store_engine(parsed)
    except ValueError as exc:
        return False, str(exc)
    try:
        with engine.connect() as connection:
            has_version = engine.dialect.has_table(connection, "alembic_version")
            current = (connection.execute(text("SELECT version_num FROM alembic_version"))
                       .scalar() if has_version else None)
            settings = ""
            if sqlite:
                journal = connection.exec_driver_sql("PRAGMA journal_mode").scalar()
                sync = connection.exec_driver_sql("PRAGMA synchronous").scalar()
                settings = f", journal={journal}, synchronous={'FULL' if sync == 2 else sync}"
    except DBAPIError as exc:
        mapped = translate(exc)
        return False, f"{where}: {mapped}"
    finally:
        engine.dispose()
    head = head_revision()
    if current != head:
        return False, (f"{where}: schema {current or 'empty'}, this version needs {head} "
                       "(start Callwise once, or IT runs the migrations)")
    return True, f"{where}: schema {current} (current){settings}"
