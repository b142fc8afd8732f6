"""The window comes up before the record store: it says so, and the controls that need records
wait for it; a store that does not open is shown and keeps them disabled."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from app.bootstrap import AppGraph
from app.demo.customers import demo_agent
from app.domain.clock import FixedClock
from app.ports.phone import SipAccountConfig
from app.settings import load_settings
from tests.gui.conftest import CHICAGO_10AM, FakePhone
from ui.application import Desktop, open_desktop, open_records

ROOT = Path(__file__).resolve().parents[2]


def _unopened(tmp_path: Path, url: str, pack: Path | None = None) -> AppGraph:
    """What `bootstrap.prepare` makes for the demo, with the fake phone: no pack, no store yet."""
    agent = demo_agent()
    return AppGraph(settings=load_settings(None, tmp_path / "no-machine.toml"),
                    phone=FakePhone(), clock=FixedClock(CHICAGO_10AM),
                    account=SipAccountConfig("sip:pbx.test", agent.id, "pbx.test"), agent=agent,
                    pack_path=pack, records_url=url, data_dir=tmp_path, demo=True)


def _controls(desktop: Desktop) -> list[bool]:
    w = desktop.window
    return [w.search.isEnabled(), w.gate.isEnabled(), w.tabs.isEnabled(), w.state.isEnabled()]


def test_search_waits_for_the_records_then_lists_the_customers(qtbot: QtBot,
                                                               tmp_path: Path) -> None:
    graph = _unopened(tmp_path, f"sqlite:///{tmp_path / 'records.sqlite3'}")
    desktop = open_desktop(graph)
    qtbot.addWidget(desktop.window)
    desktop.window.show()
    try:
        with qtbot.waitSignal(desktop.controller.customers_did_load, timeout=10_000) as loaded:
            open_records(graph, desktop)
            assert desktop.window.records.text() == "Opening records…"
            assert desktop.window.pack.text() == "Policy pack loading…"
            assert _controls(desktop) == [False] * 4
        assert len(loaded.args[0]) >= 6  # the demo customers, from the store opened late
        assert _controls(desktop) == [True] * 4
        assert desktop.window.records.text() == ""
        # The policy pack came with the records: its version, and the script read on calls.
        assert desktop.window.pack.text() == f"Policy pack {graph.pack.version}"
        assert "recorded" in desktop.window.script.notice_text.text()
        assert desktop.window.script.verify_text.text()
        assert graph.records_open and graph.desk is desktop.controller.desk
        assert desktop.window.agent_label.text()  # the agent as stored, once the store is open
    finally:
        desktop.close()
        graph.close()


def test_a_store_that_does_not_open_is_shown_and_nothing_can_be_dialled(
        qtbot: QtBot, tmp_path: Path) -> None:
    broken = tmp_path / "records.sqlite3"
    broken.write_bytes(b"not a database\n" * 200)
    graph = _unopened(tmp_path, f"sqlite:///{broken}")
    desktop = open_desktop(graph)
    qtbot.addWidget(desktop.window)
    desktop.window.show()
    try:
        open_records(graph, desktop)
        qtbot.waitUntil(lambda: "could not be opened" in desktop.window.records.text(),
                        timeout=10_000)
        assert "file is not a database" in desktop.window.records.text()
        assert _controls(desktop) == [False] * 4
        assert not graph.records_open
        assert broken.read_bytes() == b"not a database\n" * 200
    finally:
        desktop.close()
        graph.close()


def test_a_broken_policy_pack_is_shown_and_nothing_is_opened_or_dialled(
        qtbot: QtBot, tmp_path: Path) -> None:
    pack = tmp_path / "broken.toml"
    pack.write_text('version = "2026.99"\nname = "broken"\n[rules.OB-WINDOW\nstage = "dial"\n')
    records = tmp_path / "records.sqlite3"
    graph = _unopened(tmp_path, f"sqlite:///{records}", pack=pack)
    desktop = open_desktop(graph)
    qtbot.addWidget(desktop.window)
    desktop.window.show()
    try:
        open_records(graph, desktop)
        qtbot.waitUntil(lambda: "policy pack" in desktop.window.records.text(), timeout=10_000)
        said = desktop.window.records.text()
        assert said.startswith("Dialling is locked. The policy pack could not be loaded:")
        assert f"{pack}:3" in said and "callwise policy validate" in said  # file, line, fix
        assert desktop.window.pack.text() == "No policy pack in use"
        assert _controls(desktop) == [False] * 4
        assert not graph.records_open
        assert not records.exists()  # nothing was opened on a policy that did not load
        # Said in two or three lines across the status bar, and the window still fits 1366 px.
        assert desktop.window.records.width() >= desktop.window.width() * 2 // 5  # was ~240 px
        assert desktop.window.minimumSizeHint().width() <= 1366
        # Nothing says "Loading…" for something that will not come.
        assert desktop.window.callbacks.summary.text() == (
            "No callbacks to show: the records are not open.")
    finally:
        desktop.close()
        graph.close()


# A fresh interpreter, as the desktop starts: the window is built and shown, then the records
# (and the policy pack with them) open on the worker.
_BEFORE_THE_RECORDS = r"""
import gc, sys, tempfile
gc.disable()  # as ui.entry starts the desktop
from PySide6.QtWidgets import QApplication
from app import bootstrap
from ui.application import open_desktop, open_records
app = QApplication([])
graph = bootstrap.prepare(demo=True, data_dir_override=tempfile.mkdtemp())
desktop = open_desktop(graph)
desktop.window.show()
app.processEvents()
loaded = sorted(m for m in sys.modules if m.startswith(("app.policy", "app.services.desk",
                                                        "app.services.callbacks", "sqlalchemy")))
print("before:", " ".join(loaded) or "-", "|", desktop.window.pack.text())
open_records(graph, desktop, then=app.quit)
app.exec()
print("after:", "app.policy.pack" in sys.modules, "|", desktop.window.pack.text(), "|",
      "collector on" if gc.isenabled() else "collector off")
desktop.close()
graph.close()
"""


@pytest.mark.timeout(120)
def test_the_window_is_on_screen_before_the_policy_and_the_records_load(tmp_path: Path) -> None:
    # Start-up order the agent sees: the window first (the policy modules, the pack and
    # SQLAlchemy are about 250 ms it need not wait for), then the pack and the records.
    out = subprocess.run([sys.executable, "-c", _BEFORE_THE_RECORDS], cwd=ROOT,
                         capture_output=True, text=True, timeout=100,
                         env={**os.environ, "QT_QPA_PLATFORM": "offscreen",
                              "XDG_DATA_HOME": str(tmp_path / "data"),
                              "XDG_STATE_HOME": str(tmp_path / "state"),
                              "XDG_CONFIG_HOME": str(tmp_path / "config")})
    assert out.returncode == 0, out.stderr
    before, after = (line for line in out.stdout.splitlines() if line.startswith(("before", "after")))
    assert before == "before: - | Policy pack loading…"
    assert after.startswith("after: True | Policy pack 20")
    assert after.endswith("| collector on")  # off for the start-up only
