"""Inbound calls around the consult flow: a second caller is declined at once with their name,
ending line two leaves the agent Talking on line one, and (demo only) asking the demo line for
a customer's call."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtGui import QAction, QShortcut
from PySide6.QtWidgets import QAbstractButton
from pytestqt.qtbot import QtBot

from app.domain.clock import FixedClock
from app.domain.enums import AgentState, CallOutcome
from app.ports.phone import CallEnded, MessageResult
from app.services.lines import Lines, LineStatus
from tests.gui.conftest import CHICAGO_10AM, Harness, make_harness
from tests.gui.test_consult_flow import answer, consult, dial_two
from ui.widgets.lines import LinesPanel

LIAM_CALLS = '"Liam" <sip:+17735550119@pbx.test>;tag=x2'


def _audit(h: Harness, ref: str) -> list[tuple[str, dict[str, Any]]]:
    with h.graph.store.unit_of_work(read_only=True) as uow:
        return [(e.kind, dict(e.payload)) for e in uow.audit.for_record(ref)]


def settle(h: Harness) -> None:
    """Every task queued so far has run and its result reached the GUI thread."""
    done: list[bool] = []
    h.desktop.runner.submit(lambda: None, lambda _none: done.append(True))
    h.qtbot.waitUntil(lambda: bool(done), timeout=5000)
    h.qtbot.wait(20)  # signals the last results emitted


@pytest.fixture
def demo(qtbot: QtBot, tmp_path: Path) -> Iterator[Harness]:
    h = make_harness(qtbot, tmp_path, FixedClock(CHICAGO_10AM),
                     demo_ring_uri="sip:ring-me@pbx.test")
    yield h
    h.desktop.close()
    h.graph.store.close()


def test_a_second_caller_is_declined_at_once_and_the_agent_told_who(harness: Harness) -> None:
    h, c, lines = harness, harness.controller, harness.window.lines
    answer(h)
    h.phone.ring("in-2", LIAM_CALLS)
    settle(h)
    assert h.phone.hung_up == ["in-2"]  # declined now, not after the engine's 45 s
    assert h.phone.busy_refused == ["in-2"]  # the caller hears 486 Busy Here
    h.qtbot.waitUntil(lambda: h.window.statusBar().currentMessage() == (
        "Declined a call from Liam O'Connor · (773) 555-0119: you are already on a call "
        "(line one)."), timeout=5000)
    assert c.lines.one is not None and c.lines.one.ref == "in-1"
    assert c.lines.one.status is LineStatus.TALKING and "Ana García" in lines.line_one.text()
    assert not lines.incoming.isVisible() and lines.outcome.text() == ""
    h.qtbot.waitUntil(lambda: bool(_audit(h, "in-2")), timeout=5000)
    kind, payload = _audit(h, "in-2")[0]
    assert (kind, payload["answered"], payload["outcome"]) == (
        "inbound_ended", False, CallOutcome.DECLINED.value)
    assert h.window.state.currentData() == AgentState.TALKING


def test_a_second_caller_from_an_unknown_number_is_named_by_number(harness: Harness) -> None:
    h = harness
    h.phone.ring("in-1", '"Ana" <sip:+13125550141@pbx.test>')  # ringing counts as live too
    h.qtbot.waitUntil(h.window.lines.incoming.isVisible, timeout=5000)
    h.phone.ring("in-2", "sip:anonymous@pbx.test")
    h.qtbot.waitUntil(lambda: h.window.statusBar().currentMessage().startswith(
        "Declined a call from an unknown number"), timeout=5000)
    settle(h)
    assert h.phone.hung_up == h.phone.busy_refused == ["in-2"]
    assert h.controller.lines.one is not None and h.controller.lines.one.ref == "in-1"
    assert h.window.lines.incoming.isVisible()  # Ana still rings


def test_ending_line_two_leaves_the_agent_talking_until_line_one_ends(harness: Harness) -> None:
    h, c, w = harness, harness.controller, harness.window
    answer(h)
    consult(h)
    two = dial_two(h, "(312) 555-0188")
    with h.qtbot.waitSignal(c.call_did_end, timeout=5000):
        w.gate.hangup.click()  # line two over, line one still on hold
    assert h.phone.hung_up == [two]
    settle(h)
    assert c.desk.agent.state is AgentState.TALKING
    assert w.state.currentData() == AgentState.TALKING
    with h.graph.store.unit_of_work(read_only=True) as uow:
        assert uow.agents.get(c.desk.agent.id).state is AgentState.TALKING  # type: ignore[union-attr]

    w.lines.back.click()  # back to line one; then the customer hangs up
    h.qtbot.waitUntil(lambda: c.lines.one.status is LineStatus.TALKING, timeout=5000)
    with h.qtbot.waitSignal(c.agent_did_change, timeout=5000,
                            check_params_cb=lambda a: a.state is AgentState.AFTER_CALL_WORK):
        h.phone.emit(CallEnded("in-1", CallOutcome.REMOTE_HANGUP, 200, "Normal call clearing",
                               connected=True))
    assert w.state.currentData() == AgentState.AFTER_CALL_WORK


def test_a_line_two_alone_still_ends_in_after_call_work(harness: Harness) -> None:
    """No line one: an ordinary outbound call ends in After-Call Work as before."""
    h, c, w = harness, harness.controller, harness.window
    h.pick("Ana Garc")
    with h.qtbot.waitSignal(c.verdict_did_change, timeout=5000):
        c.set_agent_state(AgentState.AFTER_CALL_WORK)
    c.use_alternate("312 555 0188")
    h.qtbot.waitUntil(w.gate.dial.isEnabled, timeout=5000)
    with h.qtbot.waitSignal(c.call_did_start, timeout=5000):
        w.gate.dial.click()
    with h.qtbot.waitSignal(c.agent_did_change, timeout=5000,
                            check_params_cb=lambda a: a.state is AgentState.AFTER_CALL_WORK):
        w.gate.hangup.click()


def test_the_demo_action_is_not_offered_outside_the_demo(harness: Harness) -> None:
    h = harness
    assert not h.window.demo_ring_action.isVisible()
    assert not h.window.demo_ring_button.isVisible()
    h.window.demo_ring_action.trigger()
    settle(h)
    assert h.phone.messages == []


def test_the_demo_action_asks_the_demo_line_for_a_call(demo: Harness) -> None:
    h, w = demo, demo.window
    assert w.demo_ring_button.isVisible() and w.demo_ring_action.isEnabled()
    assert w.demo_ring_action.text() == "Demo: have a customer call me"
    assert w.demo_ring_action.shortcut().toString() == "Ctrl+Shift+R"
    w.demo_ring_button.click()
    h.qtbot.waitUntil(lambda: len(h.phone.messages) == 1, timeout=5000)
    _ref, uri, text = h.phone.messages[0]
    assert (uri, text) == ("sip:ring-me@pbx.test", "ring")
    h.qtbot.waitUntil(lambda: w.statusBar().currentMessage()
                      == "Asking a demo customer to call you…", timeout=5000)
    with h.graph.store.unit_of_work(read_only=True) as uow:  # not a customer notification
        assert uow.notifications.templates_sent("demo-ana-garcia", CHICAGO_10AM.replace(
            year=2000)) == set()

    h.phone.auto_deliver = False
    w.demo_ring_action.trigger()
    h.qtbot.waitUntil(lambda: len(h.phone.messages) == 2, timeout=5000)
    h.phone.emit(MessageResult(h.phone.messages[1][0], False, 404, "Not Registered Here"))
    h.qtbot.waitUntil(lambda: w.statusBar().currentMessage() == (
        "The demo line did not take the request (404 Not Registered Here); is the phone "
        "registered?"), timeout=5000)


def test_no_two_actions_share_a_shortcut_with_the_demo_action(demo: Harness) -> None:
    window = demo.window
    keys = [b.shortcut().toString() for b in window.findChildren(QAbstractButton)
            if not b.shortcut().isEmpty()]
    keys += [s.key().toString() for s in window.findChildren(QShortcut)]
    keys += [a.shortcut().toString() for a in window.findChildren(QAction)
             if not a.shortcut().isEmpty()]
    clashes = {k: n for k, n in Counter(keys).items() if n > 1}
    assert "Ctrl+Shift+R" in keys and clashes == {}


def test_the_callers_name_and_number_are_shown_as_text_never_as_markup(qtbot: QtBot) -> None:
    """Both come from outside (the caller's SIP request, a customer record); the labels are rich
    text, so a name with markup in it must appear as typed, not change the banner."""
    panel = LinesPanel()
    qtbot.addWidget(panel)
    lines = Lines()
    lines.ring("in-1", "+13125550141", "<i>Ana</i> & Co")
    panel.show_lines(lines)
    assert "&lt;i&gt;Ana&lt;/i&gt; &amp; Co" in panel.incoming_text.text()
    assert "(312) 555-0141" in panel.incoming_text.text()
    lines.two = None
    lines.one = replace(lines.one, status=LineStatus.TALKING, answered=True)  # type: ignore[arg-type]
    panel.show_lines(lines)
    assert "&lt;i&gt;Ana&lt;/i&gt;" in panel.line_one.text()
