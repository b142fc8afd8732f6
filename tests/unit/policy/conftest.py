"""Fixtures for the policy tests."""

from __future__ import annotations

import pytest

from app.policy.pack import PolicyPack, load_pack


@pytest.fixture(scope="session")
def pack() -> PolicyPack:
    return load_pack()
