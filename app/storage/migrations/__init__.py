"""Alembic migrations for the records schema (run by `app.storage.engine.upgrade_to_head`)."""
