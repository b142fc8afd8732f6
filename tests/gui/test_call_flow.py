"""On the call and after: verify, read the notice, proof facts only after verification, memo."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from pathlib import Path

from pytestqt.qtbot import QtBot

from app.demo.customers import demo_agent
from app.domain.call import CallState
from app.domain.clock import FixedClock
from app.domain.enums import Team
from tests.gui.conftest import CHICAGO_10AM, Harness, make_harness


def connect_call(h: Harness) -> str:
    h.pick("Ana Garc")
    h.open_gate()
    ref = h.dial_and_connect()
    assert h.phone.dialled == [(ref, "sip:13125550141@pbx.test")]
    return ref


def test_proof_facts_stay_hidden_until_the_name_is_verified(harness: Harness) -> None:
    connect_call(harness)
    script = harness.window.script
    assert script.verify_box.isEnabled()
    assert not script.proof_facts.isVisible()
    assert not script.otp.isVisible()
    assert script.bill.text() == "" and script.device.text() == ""
    assert not script.notice_box.isEnabled()  # name first, then the notice
    with harness.qtbot.waitSignal(harness.controller.call_did_change, timeout=5000):
        script.verify_button.click()
    assert script.proof_facts.isVisible()
    assert script.bill.text().startswith("$")
    assert script.device.text() != "not on file"


def test_recording_notice_must_be_confirmed_and_is_time_stamped(harness: Harness) -> None:
    connect_call(harness)
    script = harness.window.script
    assert "This call may be recorded for quality and training purposes." in (
        script.notice_text.text())
    with harness.qtbot.waitSignal(harness.controller.call_did_change, timeout=5000):
        script.verify_button.click()
    harness.clock.advance(timedelta(seconds=7))
    with harness.qtbot.waitSignal(harness.controller.call_did_change, timeout=5000) as b:
        script.notice_button.click()
    record = b.args[0]
    assert record.recording_notice_at == harness.clock.now()
    assert "Read at" in script.notice_button.text()


def test_memo_holds_the_record_open_until_complete(harness: Harness) -> None:
    connect_call(harness)
    c, w = harness.controller, harness.window
    with harness.qtbot.waitSignal(c.call_did_change, timeout=5000):
        w.script.verify_button.click()
    with harness.qtbot.waitSignal(c.call_did_end, timeout=5000):
        w.gate.hangup.click()
    memo = w.memo
    assert w.tabs.currentWidget() is memo
    assert not memo.close_button.isEnabled()
    assert "Summary of what was communicated" in memo.missing.text()
    assert "OB-RECORDING" in memo.missing.text()  # the notice was never confirmed
    memo.summary.setPlainText("Reset the network settings together.")
    memo.response.setPlainText("Customer confirmed data works.")
    memo.pay_none.setChecked(True)
    assert not memo.close_button.isEnabled()
    assert memo.missing.text() == "Still needed: OB-RECORDING"


def test_sensitive_text_blocks_saving_and_closing(harness: Harness) -> None:
    connect_call(harness)
    c, w = harness.controller, harness.window
    harness.verify_read_notice_hang_up()
    memo = w.memo
    memo.summary.setPlainText("Reset the network settings together.")
    memo.pay_none.setChecked(True)
    memo.response.setPlainText("Customer read out SSN 123-45-6789 to confirm.")
    assert "Social Security number" in memo.problems.text()
    assert not memo.close_button.isEnabled()
    assert memo.saved.text() == "Draft not saved (see above)"
    memo.response.setPlainText("Customer confirmed data works (ticket TKT-20261121).")
    assert memo.problems.text() == ""
    assert memo.close_button.isEnabled()
    with harness.qtbot.waitSignal(c.record_did_close, timeout=5000) as closed:
        memo.close_button.click()
    record = closed.args[0]
    assert record.state is CallState.CLOSED
    with harness.graph.store.unit_of_work(read_only=True) as uow:
        stored = uow.calls.get(record.id)
    assert stored is not None and stored.state is CallState.CLOSED
    assert "123-45-6789" not in stored.memo.customer_response


def test_service_assurance_steps_must_be_said_before_the_record_closes(
        qtbot: QtBot, tmp_path: Path) -> None:
    specialist = replace(demo_agent(), id="sa-2", name="Sam Ortiz", team=Team.SERVICE_ASSURANCE)
    h = make_harness(qtbot, tmp_path, FixedClock(CHICAGO_10AM), agent=specialist)
    try:
        connect_call(h)
        script, c = h.window.script, h.controller
        assert script.steps_box.isVisible() and script.step_checks
        h.verify_read_notice_hang_up()
        memo = h.window.memo
        memo.summary.setPlainText("Ticket update given; troubleshooting booked.")
        memo.response.setPlainText("Customer agreed to the Tuesday window.")
        memo.pay_none.setChecked(True)
        memo.tickets.setText("TKT-20261120")
        memo.findings.setPlainText("Tower fault cleared by field team.")
        assert "SA-PREPARE" in memo.missing.text() and not memo.close_button.isEnabled()
        for check in script.step_checks.values():
            with qtbot.waitSignal(c.steps_did_change, timeout=5000):
                check.setChecked(True)
        qtbot.waitUntil(memo.close_button.isEnabled, timeout=5000)
        with qtbot.waitSignal(c.record_did_close, timeout=5000) as closed:
            memo.close_button.click()
        with h.graph.store.unit_of_work(read_only=True) as uow:
            said = [e.payload["step"] for e in uow.audit.for_record(closed.args[0].id)
                    if e.kind == "script_step"]
        assert sorted(said) == sorted(script.step_checks)
    finally:
        h.desktop.close()
        h.graph.store.close()
