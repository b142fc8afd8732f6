"""Read-only checks: the doctor's database check (reachable, schema current, durability settings
in effect) and the audit chain verification.

They never create or migrate anything: a missing SQLite file is reported, not made.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import make_url, select, text
from sqlalchemy.exc import DBAPIError

from app.ports.store import ChainCheck, StoreError
from app.storage.engine import create_store_engine, current_revision, head_revision
from app.storage.errors import translate
from app.storage.models import AuditRow, SyncMetaRow, SyncOriginRow
from app.storage.uow import SqlStore

ORIGIN_KEY = "origin"  # the same key app.storage.sync writes


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


def verify_audit_chain(url: str, central_url: str | None = None) -> ChainCheck:
    """`callwise audit verify`: walks the whole chain and compares its end with the recorded
    head. With `central_url`, `url` is a desktop's local copy and its chain is also compared
    with the head the central database anchored for it at the last send (which the desktop
    cannot rewrite). Read-only; raises StoreUnavailable when a database cannot be reached and
    StoreError when its schema predates the recorded head (run `callwise db upgrade` first)."""
    check = _verify_one(url)
    if central_url is None or not check.ok:
        return check
    origin, anchor_seq, anchor_hash = _anchor(url, central_url)
    if anchor_seq == 0:
        return check
    if anchor_seq > check.head_seq:
        return ChainCheck(check.entries, check.head_seq, check.head_hash, check.head_seq + 1,
                          f"the central database holds this desktop's chain up to seq "
                          f"{anchor_seq} (origin {origin}), but it ends at seq "
                          f"{check.head_seq} here: entries {check.head_seq + 1}..{anchor_seq} "
                          "were removed")
    if _hash_at(url, anchor_seq) != anchor_hash:
        return ChainCheck(check.entries, check.head_seq, check.head_hash, anchor_seq,
                          f"entry {anchor_seq} differs from the one the central database "
                          f"recorded for this desktop (origin {origin})")
    return check


def _anchor(url: str, central_url: str) -> tuple[str, int, str]:
    local = create_store_engine(url)
    central = create_store_engine(central_url)
    try:
        with local.connect() as conn:
            origin = conn.execute(select(SyncMetaRow.value)
                                  .where(SyncMetaRow.key == ORIGIN_KEY)).scalar()
        if origin is None:
            raise StoreError("This database has never been a desktop's local copy: there is "
                             "nothing the central database anchored for it.",
                             action="Verify it without --central.")
        with central.connect() as conn:
            row = conn.execute(select(SyncOriginRow.audit_seq, SyncOriginRow.audit_hash)
                               .where(SyncOriginRow.origin == origin)).first()
        return (origin, row.audit_seq, row.audit_hash) if row is not None else (origin, 0, "")
    except DBAPIError as exc:
        mapped = translate(exc)
        if mapped is exc:
            raise
        raise mapped from exc
    finally:
        local.dispose()
        central.dispose()


def _hash_at(url: str, seq: int) -> str | None:
    engine = create_store_engine(url)
    try:
        with engine.connect() as conn:
            return conn.execute(select(AuditRow.hash).where(AuditRow.seq == seq)).scalar()
    finally:
        engine.dispose()


def _verify_one(url: str) -> ChainCheck:
    if make_url(url).get_backend_name() == "sqlite":
        database = make_url(url).database
        if database in (None, "", ":memory:") or not Path(database).expanduser().exists():
            raise StoreError(f"There is no records database at {database}.",
                             action="Check --database or the configured database.")
    engine = create_store_engine(url)
    try:
        current = current_revision(engine)
        if current != head_revision():
            raise StoreError(f"The records database has schema {current or 'empty'}; "
                             f"verifying needs {head_revision()}.",
                             action="Run `callwise db upgrade` (IT) first.")
        store = SqlStore(engine)
        with store.unit_of_work(read_only=True) as uow:
            return uow.audit.check()
    except DBAPIError as exc:
        mapped = translate(exc)
        if mapped is exc:
            raise
        raise mapped from exc
    finally:
        engine.dispose()
