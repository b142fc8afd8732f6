"""The schema head the store checks without Alembic is the one Alembic would migrate to."""

from __future__ import annotations

from alembic.script import ScriptDirectory

from app.storage.engine import HEAD_REVISION, alembic_config, head_revision, known_revisions


def test_the_head_constant_is_alembics_single_head() -> None:
    # Adding a migration without updating HEAD_REVISION would let a desktop skip it silently.
    script = ScriptDirectory.from_config(alembic_config())
    assert script.get_heads() == [HEAD_REVISION]
    assert head_revision() == HEAD_REVISION
    assert HEAD_REVISION in known_revisions()
