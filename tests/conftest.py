"""Test layers and CI strictness.

In CI (CI=true) a skipped or xfailed test fails the run: a test that needs Kamailio, SIPp or
PostgreSQL must run there, and a missing peer is a failure with a clear message, never a skip.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        layer = Path(str(item.fspath)).relative_to(ROOT / "tests").parts[0]
        item.add_marker(getattr(pytest.mark, f"layer_{layer}"))


def pytest_configure(config: pytest.Config) -> None:
    for layer in ("unit", "integration", "gui", "e2e"):
        config.addinivalue_line("markers", f"layer_{layer}: test in tests/{layer}")


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if os.environ.get("CI", "").lower() not in ("1", "true", "yes"):
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is None:
        return
    skipped = len(reporter.stats.get("skipped", [])) + len(reporter.stats.get("xfailed", []))
    if skipped:
        reporter.write_line(f"CI: {skipped} test(s) skipped or xfailed; in CI nothing may be skipped.",
                            red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
