"""The window comes up before the record store: it says so, and the controls that need records
wait for it; a store that does not open is shown and keeps them disabled."""

from __future__ import annotations

from pathlib import Path

from pytestqt.qtbot import QtBot

from app.bootstrap import AppGraph, RecordsNotOpen
from app.demo.customers import demo_agent
from app.domain.clock import FixedClock
from app.policy.pack import load_pack
from app.ports.phone import SipAccountConfig
from app.services.callbacks import Commitments
from app.services.desk import Desk
from app.settings import load_settings
from tests.gui.conftest import CHICAGO_10AM, FakePhone
from ui.application import Desktop, open_desktop, open_records


def _unopened(tmp_path: Path, url: str) -> AppGraph:
    """What `bootstrap.prepare` makes for the demo, with the fake phone."""
    clock, agent, pack, phone = FixedClock(CHICAGO_10AM), demo_agent(), load_pack(None), FakePhone()
    stand_in = RecordsNotOpen()
    return AppGraph(settings=load_settings(None, tmp_path / "no-machine.toml"), pack=pack,
                    store=stand_in, phone=phone,
                    desk=Desk(store=stand_in, pack=pack, phone=phone, clock=clock, agent=agent,
                              sip_domain="pbx.test"),
                    commitments=Commitments(store=stand_in, pack=pack, clock=clock, agent=agent),
                    clock=clock, account=SipAccountConfig("sip:pbx.test", agent.id, "pbx.test"),
                    records_url=url, data_dir=tmp_path, demo=True)


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
            assert _controls(desktop) == [False] * 4
        assert len(loaded.args[0]) >= 6  # the demo customers, from the store opened late
        assert _controls(desktop) == [True] * 4
        assert desktop.window.records.text() == ""
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
