"""The dial gate as the agent sees it: locked with reasons, each fix one click away."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from PySide6.QtCore import QPoint, QRect, Qt
from PySide6.QtWidgets import QLabel, QPushButton, QScrollArea, QWidget
from pytestqt.qtbot import QtBot

from app.domain.clock import FixedClock
from app.domain.enums import AgentState
from tests.gui.conftest import Harness, make_harness
from tests.gui.test_layout_fits import at_small_size
from ui.theme import tone_of, tones


def rule_text(h: Harness, rule_id: str) -> str:
    label = h.window.gate.findChild(QLabel, f"rule-{rule_id}")
    assert label is not None, f"{rule_id} is not in the checklist"
    return label.text()


def fix_button(h: Harness, rule_id: str) -> QPushButton | None:
    return h.window.gate.findChild(QPushButton, f"fix-{rule_id}")


def test_dial_is_locked_outside_the_window_with_the_reason_shown(harness: Harness) -> None:
    harness.pick("Keoni")  # Honolulu: 6:00 AM at the fixed time
    gate = harness.window.gate
    assert not gate.dial.isEnabled()
    assert "OB-WINDOW" in gate.summary.text()
    assert "It is 6:00 AM in Honolulu" in rule_text(harness, "OB-WINDOW")
    assert "9:00 AM–8:00 PM" in rule_text(harness, "OB-WINDOW")


def checklist(h: Harness) -> QScrollArea:
    return next(s for s in h.window.gate.findChildren(QScrollArea)
                if s.accessibleName() == "Dial gate checklist")


def rules_top_down(h: Harness) -> list[str]:
    """Rule ids in the order the agent reads them: by where each row is drawn, not by layout."""
    rows = checklist(h).widget()
    labels = [lab for lab in rows.findChildren(QLabel) if lab.objectName().startswith("rule-")]
    labels.sort(key=lambda lab: lab.mapTo(rows, QPoint(0, 0)).y())
    return [lab.objectName().removeprefix("rule-") for lab in labels]


def in_view(h: Harness, widget: QWidget) -> bool:
    """Wholly inside the checklist's visible part, as it is scrolled now."""
    viewport = checklist(h).viewport()
    where = QRect(widget.mapTo(viewport, QPoint(0, 0)), widget.size())
    return widget.isVisible() and viewport.rect().contains(where)


def test_blocking_rules_come_first_then_the_rest_in_pack_order(harness: Harness) -> None:
    harness.pick("Keoni")  # NUMBER passes; OB-WINDOW, OB-NOTIFY and OB-STATE fail further down
    verdict = harness.verdict()
    pack_order = [r.id for r in verdict.rules]
    assert pack_order.index("OB-STATE") > pack_order.index("OB-ATTEMPTS")  # the case in point
    passing = [r.id for r in verdict.rules if not r.blocks]
    assert rules_top_down(harness) == ["OB-WINDOW", "OB-NOTIFY", "OB-STATE", *passing]
    # What blocks reads in full colour; the rest is lighter, its ✔ or – still saying why.
    assert all(tone_of(harness.window.gate.findChild(QLabel, f"rule-{r}")) == "muted"
               for r in passing)
    assert tone_of(harness.window.gate.findChild(QLabel, "rule-OB-WINDOW")) == ""

    fix_button(harness, "OB-STATE").click()  # type: ignore[union-attr]
    harness.qtbot.waitUntil(lambda: fix_button(harness, "OB-STATE") is None, timeout=5000)
    now_passing = [r for r in pack_order if r not in ("OB-WINDOW", "OB-NOTIFY")]
    assert rules_top_down(harness) == ["OB-WINDOW", "OB-NOTIFY", *now_passing]


def test_every_blocking_rule_and_its_fix_is_in_view_at_1366x768(
        harness: Harness, qtbot: QtBot) -> None:
    """The window an agent gets on a 1366×768 screen: the fixes are seen without scrolling, and
    Tab goes from one to the next in the order they are shown."""
    at_small_size(harness, qtbot)
    harness.pick("Keoni")
    blocked = harness.verdict().blocked_by
    assert len(blocked) == 3
    assert checklist(harness).verticalScrollBar().value() == 0
    for rule_id in blocked:
        label = harness.window.gate.findChild(QLabel, f"rule-{rule_id}")
        fix = fix_button(harness, rule_id)
        assert fix is not None and in_view(harness, label) and in_view(harness, fix), (
            f"{rule_id} or its fix is scrolled out of the checklist")
    first = fix_button(harness, blocked[0])
    harness.window.activateWindow()
    first.setFocus()  # type: ignore[union-attr]
    qtbot.waitUntil(first.hasFocus, timeout=5000)  # type: ignore[union-attr]
    for rule_id in blocked[1:]:
        qtbot.keyClick(harness.window.focusWidget(), Qt.Key.Key_Tab)
        assert harness.window.focusWidget() is fix_button(harness, rule_id)


def test_an_open_record_dims_the_blocking_rows_too(harness: Harness) -> None:
    """On the call the checklist is about the next one: greyed out, its red reasons included,
    which now sit at the top."""
    harness.pick("Ana Garc")
    harness.open_gate()
    harness.dial_and_connect()
    verdict = harness.verdict()  # the agent is Talking now: OB-STATE blocks the next call
    assert "OB-STATE" in verdict.blocked_by
    assert rules_top_down(harness)[0] == "OB-STATE"
    label = harness.window.gate.findChild(QLabel, "rule-OB-STATE")
    assert not label.isEnabled()
    assert verdict.rule("OB-STATE").reason in label.text()
    assert tones().error not in label.text()


def test_every_blocking_rule_shows_its_reason_and_fix(harness: Harness) -> None:
    harness.pick("Keoni")
    verdict = harness.verdict()
    assert set(verdict.blocked_by) == {"OB-WINDOW", "OB-NOTIFY", "OB-STATE"}
    for rule in verdict.rules:
        text = rule_text(harness, rule.id)
        assert rule.reason in text
        button = fix_button(harness, rule.id)
        if rule.outcome.value == "block":
            assert button is not None and rule.action is not None
            assert button.text().endswith(rule.action.label)
            assert button.accessibleName().startswith(f"Fix {rule.id}")
        else:
            assert button is None


def test_one_click_fixes_unlock_the_dial_button(harness: Harness) -> None:
    harness.pick("Ana Garc")  # Chicago: 10:00 AM
    gate = harness.window.gate
    assert not gate.dial.isEnabled()
    fix_button(harness, "OB-STATE").click()
    harness.qtbot.waitUntil(lambda: fix_button(harness, "OB-STATE") is None, timeout=5000)
    assert harness.controller.desk.agent.state is AgentState.NOT_READY_FOLLOW_UP
    assert harness.window.state.currentText() == "Not Ready – Follow-Up"
    fix_button(harness, "OB-NOTIFY").click()
    harness.qtbot.waitUntil(gate.dial.isEnabled, timeout=5000)
    assert len(harness.phone.messages) == 1
    _ref, uri, text = harness.phone.messages[0]
    assert uri == "sip:13125550141@pbx.test"
    assert text.startswith("Hi Ana,") and "call you back" in text
    assert gate.dial.isEnabled()
    assert "All checks pass" in gate.summary.text()


def test_an_undelivered_notification_does_not_count_as_sent(harness: Harness) -> None:
    harness.phone.auto_deliver = False
    harness.pick("Ana Garc")
    fix_button(harness, "OB-NOTIFY").click()
    harness.qtbot.waitUntil(lambda: len(harness.phone.messages) == 1, timeout=5000)
    from app.ports.phone import MessageResult

    ref = harness.phone.messages[0][0]
    with harness.qtbot.waitSignal(harness.controller.notification_did_finish, timeout=5000):
        harness.phone.emit(MessageResult(ref, False, 408, "Request Timeout"))
    assert "OB-NOTIFY" in harness.verdict().blocked_by
    assert "not delivered" in harness.window.statusBar().currentMessage()


def test_the_gate_flips_when_the_clock_crosses_8pm(qtbot: QtBot, tmp_path: Path) -> None:
    before = datetime(2026, 11, 21, 1, 59, 50, tzinfo=UTC)  # 7:59:50 PM in Chicago
    h = make_harness(qtbot, tmp_path, FixedClock(before))
    try:
        h.pick("Ana Garc")
        assert "7:59 PM in Chicago" in rule_text(h, "OB-WINDOW")
        assert "OB-WINDOW" not in h.window.gate.summary.text()
        h.clock.advance(timedelta(seconds=10))  # 8:00:00 PM: outside [9:00, 20:00)
        h.controller.refresh_gate()  # what the gate's own timer does every few seconds
        h.qtbot.waitUntil(lambda: "OB-WINDOW" in h.window.gate.summary.text(), timeout=5000)
        assert "8:00 PM in Chicago" in rule_text(h, "OB-WINDOW")
        assert not h.window.gate.dial.isEnabled()
    finally:
        h.desktop.close()
        h.graph.store.close()


def test_pressing_dial_rechecks_the_policy_instead_of_trusting_the_screen(
        harness: Harness) -> None:
    harness.pick("Ana Garc")
    fix_button(harness, "OB-STATE").click()
    harness.qtbot.waitUntil(lambda: fix_button(harness, "OB-STATE") is None, timeout=5000)
    fix_button(harness, "OB-NOTIFY").click()
    harness.qtbot.waitUntil(harness.window.gate.dial.isEnabled, timeout=5000)
    # Time passes without the screen refreshing: the button still looks ready.
    harness.clock.advance(timedelta(hours=10))  # 8:00 PM in Chicago
    with harness.qtbot.waitSignal(harness.controller.dial_was_blocked, timeout=5000) as blocked:
        harness.window.gate.dial.click()
    assert "OB-WINDOW" in blocked.args[0].blocked_by
    assert harness.phone.dialled == []


def test_a_re_check_that_changes_nothing_keeps_the_agents_place(harness: Harness) -> None:
    """The gate is re-checked often (clock ticks, phone and record events). An agent tabbing
    through the fixes must not lose the focused button each time it says the same again."""
    harness.pick("Keoni")
    fix = fix_button(harness, "OB-NOTIFY")
    assert fix is not None
    harness.window.activateWindow()
    fix.setFocus()
    harness.qtbot.waitUntil(fix.hasFocus, timeout=5000)
    harness.verdict()  # the same verdict again
    harness.verdict()
    assert fix_button(harness, "OB-NOTIFY") is fix and fix.hasFocus()
    # A verdict that does change still redraws the rows.
    fix_button(harness, "OB-STATE").click()  # type: ignore[union-attr]
    harness.qtbot.waitUntil(lambda: fix_button(harness, "OB-STATE") is None, timeout=5000)
