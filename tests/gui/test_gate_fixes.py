"""The fixes behind the gate's buttons record real facts, and click-to-dial goes through the gate."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from PySide6.QtCore import QTime
from PySide6.QtWidgets import QDialog, QPushButton
from pytestqt.qtbot import QtBot

from app.demo.customers import demo_agent
from app.domain.clock import FixedClock
from app.domain.enums import AgentState, CallOrigin, Team
from tests.gui.conftest import CHICAGO_10AM, FakeMailer, Harness, make_harness
from tests.gui.test_dial_gate import fix_button, rule_text


def open_fix(h: Harness, rule_id: str) -> QDialog:
    button = fix_button(h, rule_id)
    assert button is not None, f"no fix offered for {rule_id}"
    button.click()
    dialog = h.window.active_dialog
    assert dialog is not None and dialog.isVisible()
    return dialog


def test_recorded_consent_opens_hours_outside_the_default_window(harness: Harness) -> None:
    harness.pick("Keoni")  # 6:00 AM in Honolulu
    dialog = open_fix(harness, "OB-WINDOW")
    dialog.start.setTime(QTime(5, 30))
    dialog.end.setTime(QTime(11, 0))
    ok = dialog.buttons.button(dialog.buttons.StandardButton.Ok)
    assert not ok.isEnabled()  # no note yet: the record must say how the customer agreed
    assert "how the customer agreed" in dialog.problem.text()
    dialog.note.setText("Asked on the Nov 18 call to be called before work")
    assert ok.isEnabled()
    ok.click()
    harness.qtbot.waitUntil(lambda: "OB-WINDOW" not in harness.window.gate.summary.text(),
                            timeout=5000)
    assert "5:30" in harness.window.card.consent.text() or "05:30" in harness.window.card.consent.text()
    assert "demo-agent" in harness.window.card.consent.text()
    with harness.graph.store.unit_of_work(read_only=True) as uow:
        kinds = [e.kind for e in uow.audit.for_record("demo-keoni-kahananui")]
    assert "consent_recorded" in kinds


def test_an_empty_consent_window_cannot_be_recorded(harness: Harness) -> None:
    harness.pick("Keoni")
    dialog = open_fix(harness, "OB-WINDOW")
    dialog.note.setText("said so")
    dialog.start.setTime(QTime(9, 0))
    dialog.end.setTime(QTime(9, 0))
    assert not dialog.buttons.button(dialog.buttons.StandardButton.Ok).isEnabled()
    assert "empty" in dialog.problem.text()


def test_unknown_zone_is_fixed_by_recording_the_service_zone(harness: Harness) -> None:
    harness.pick("Northwind")  # a toll-free number: no zone from the number
    assert "OB-WINDOW" in harness.window.gate.summary.text()
    dialog = open_fix(harness, "OB-WINDOW")
    dialog.zone.setCurrentText("Mars/Olympus")
    ok = dialog.buttons.button(dialog.buttons.StandardButton.Ok)
    assert not ok.isEnabled()
    dialog.zone.setCurrentText("America/Chicago")
    assert ok.isEnabled()
    ok.click()
    harness.qtbot.waitUntil(lambda: "10:00 AM in Chicago" in rule_text(harness, "OB-WINDOW"),
                            timeout=5000)
    assert "from the account's service address" in harness.window.card.zone.text()


def test_tel_link_opens_the_gate_for_that_customer_without_dialling(harness: Harness) -> None:
    harness.controller.open_link("tel:+1-312-555-0141")
    harness.qtbot.waitUntil(lambda: harness.window.card.name.text() == "Ana García",
                            timeout=5000)
    harness.qtbot.waitUntil(lambda: "OB-STATE" in harness.window.gate.summary.text(),
                            timeout=5000)
    assert harness.phone.dialled == []  # the agent still presses Dial, and the gate re-checks


def test_link_to_a_number_no_customer_has_is_refused_with_a_reason(harness: Harness) -> None:
    with harness.qtbot.waitSignal(harness.controller.message_did_arrive, timeout=5000) as said:
        harness.controller.open_link("sip:+15555550100@pbx.test;user=phone")
    assert "calls go only to customers" in said.args[0]
    assert harness.phone.dialled == []


def test_service_assurance_email_first_is_sent_and_recorded(qtbot: QtBot, tmp_path: Path) -> None:
    mailer = FakeMailer()
    specialist = replace(demo_agent(), id="sa-1", name="Sam Ortiz", team=Team.SERVICE_ASSURANCE,
                         state=AgentState.NOT_READY_FOLLOW_UP)
    h = make_harness(qtbot, tmp_path, FixedClock(CHICAGO_10AM), agent=specialist, mailer=mailer)
    try:
        h.pick("Ana Garc")
        h.window.gate.origin.setCurrentIndex(h.window.gate.origin.findData(CallOrigin.EMAIL_REQUEST))
        h.qtbot.waitUntil(lambda: "SA-EMAILFIRST" in h.window.gate.summary.text(), timeout=5000)
        dialog = open_fix(h, "SA-EMAILFIRST")
        ok = dialog.buttons.button(dialog.buttons.StandardButton.Ok)
        assert not ok.isEnabled()  # no address on file for this customer
        dialog.address.setText("ana.garcia@example.com")
        assert not ok.isEnabled()  # SA-ORIGIN: an email request names its reference
        assert "reference" in dialog.problem.text()
        dialog.ticket.setText("EML-20261119-0007")
        ok.click()
        h.qtbot.waitUntil(lambda: "SA-EMAILFIRST" not in h.window.gate.summary.text(),
                          timeout=5000)
        assert len(mailer.sent) == 1
        body = mailer.sent[0].get_content()
        assert "1-800-555-0100" in body  # SA-ALTERNATIVE: they may call in instead
        with h.graph.store.unit_of_work(read_only=True) as uow:
            sent = uow.notifications.last_sent("demo-ana-garcia", "sa_email", CHICAGO_10AM)
        assert sent is not None and sent.delivered and sent.destination == "ana.garcia@example.com"
    finally:
        h.desktop.close()
        h.graph.store.close()


def test_fix_buttons_have_accessible_names(harness: Harness) -> None:
    harness.pick("Keoni")
    buttons = harness.window.gate.findChildren(QPushButton)
    fixes = [b for b in buttons if b.objectName().startswith("fix-")]
    assert fixes and all(b.accessibleName().startswith("Fix ") for b in fixes)
