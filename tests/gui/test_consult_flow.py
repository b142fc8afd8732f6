"""Inbound calls and the OB-ALTNUMBER flows: answer or decline a ringing call, Consult from line
one to a 10-digit number (line two), back to line one, END it, resume line two; and the
alternate-number path through After-Call Work."""

from __future__ import annotations

from typing import Any

from PySide6.QtGui import QTextDocumentFragment
from PySide6.QtWidgets import QPushButton

from app.domain.call import CallContext, CallRecord, CallState
from app.domain.enums import AgentState, CallOrigin, CallOutcome
from app.ports.phone import CallEnded, CallPhase, CallProgressed
from app.services.lines import LineStatus
from tests.gui.conftest import Harness

ANA_CALLS = '"Ana" <sip:+13125550141@pbx.test>;tag=abc'
KEONI_CALLS = "sip:18085550154@pbx.test"  # Honolulu: 6 AM there at the harness's clock


def _audit(h: Harness, ref: str) -> list[tuple[str, dict[str, Any]]]:
    with h.graph.store.unit_of_work(read_only=True) as uow:
        return [(e.kind, dict(e.payload)) for e in uow.audit.for_record(ref)]


def _records(h: Harness) -> list[CallRecord]:
    """Calls to Ana placed by these tests (the demo history has older ones)."""
    with h.graph.store.unit_of_work(read_only=True) as uow:
        return [r for r in uow.calls.recent_for_customer("demo-ana-garcia", 50)
                if r.dialed_at == h.clock.now()]


def ring(h: Harness, ref: str = "in-1", uri: str = ANA_CALLS, who: str = "Ana García") -> None:
    lines = h.window.lines
    h.phone.ring(ref, uri)
    h.qtbot.waitUntil(lambda: lines.incoming.isVisible() and who in lines.incoming_text.text(),
                      timeout=5000)


def answer(h: Harness, ref: str = "in-1", uri: str = ANA_CALLS,
           name: str = "Ana García") -> None:
    ring(h, ref, uri, name)
    with h.qtbot.waitSignal(h.controller.card_did_load, timeout=5000):
        h.window.lines.answer.click()
    h.qtbot.waitUntil(lambda: h.controller.lines.one is not None
                      and h.controller.lines.one.status is LineStatus.TALKING, timeout=5000)


def consult(h: Harness) -> None:
    lines = h.window.lines
    assert lines.consult.isEnabled()
    lines.consult.click()
    h.qtbot.waitUntil(lambda: h.controller.lines.one is not None
                      and h.controller.lines.one.status is LineStatus.HELD, timeout=5000)
    assert lines.number.isEnabled() and h.window.focusWidget() is lines.number


def dial_two(h: Harness, typed: str) -> str:
    lines = h.window.lines
    lines.number.setText(typed)
    with h.qtbot.waitSignal(h.controller.call_did_start, timeout=5000) as started:
        lines.dial_two.click()
    ref: str = started.args[0].id
    with h.qtbot.waitSignal(h.controller.call_did_change, timeout=5000,
                            check_params_cb=lambda r: r.connected_at is not None):
        h.phone.emit(CallProgressed(ref, CallPhase.CONNECTED, 200))
    return ref


def test_incoming_call_names_the_customer_and_answer_opens_their_card(harness: Harness) -> None:
    h, lines = harness, harness.window.lines
    assert not lines.isVisible()  # nothing rings: no panel taking room
    ring(h)
    shown = QTextDocumentFragment.fromHtml(lines.incoming_text.text()).toPlainText()
    assert "Incoming call from Ana García · (312) 555-0141" in shown
    assert lines.answer.text().endswith("(Ctrl+Shift+A)")
    assert lines.answer.accessibleName() == "Answer the incoming call"
    assert lines.decline.accessibleName() == "Decline the incoming call"
    with h.qtbot.waitSignal(h.controller.card_did_load, timeout=5000):
        lines.answer.click()
    assert h.phone.answered == ["in-1"]
    assert h.window.card.name.text() == "Ana García"
    h.qtbot.waitUntil(lambda: h.window.state.currentData() == AgentState.TALKING, timeout=5000)
    h.qtbot.waitUntil(lambda: "Talking" in lines.line_one.text(), timeout=5000)
    assert not lines.incoming.isVisible()
    kinds = _audit(h, "in-1")
    assert kinds[0][0] == "inbound_answered"
    assert kinds[0][1]["customer"] == "demo-ana-garcia"


def test_declining_a_call_from_an_unknown_number_says_so(harness: Harness) -> None:
    h, lines = harness, harness.window.lines
    ring(h, "in-9", "sip:+16465550100@pbx.test", "(646) 555-0100")
    with h.qtbot.waitSignal(h.controller.line_did_end, timeout=5000):
        lines.decline.click()
    assert h.phone.hung_up == ["in-9"] and h.phone.answered == []
    assert lines.outcome.text() == "Call from (646) 555-0100 declined."
    assert not lines.incoming.isVisible()
    h.qtbot.waitUntil(lambda: bool(_audit(h, "in-9")), timeout=5000)
    kind, payload = _audit(h, "in-9")[0]
    assert kind == "inbound_ended" and payload["answered"] is False
    assert payload["outcome"] == CallOutcome.DECLINED.value


def test_consult_flow_holds_dials_returns_ends_line_one_and_resumes_line_two(
        harness: Harness) -> None:
    h, lines, c = harness, harness.window.lines, harness.controller
    answer(h)
    consult(h)
    assert h.phone.holds == [("in-1", True)]
    two = dial_two(h, "(312) 555-0188")
    assert h.phone.dialled == [(two, "sip:13125550188@pbx.test")]
    h.qtbot.waitUntil(lambda: "Line two" in lines.line_two.text()
                      and "Talking" in lines.line_two.text(), timeout=5000)
    assert "On hold" in lines.line_one.text()  # both lines' states at once

    lines.back.click()  # disabled while line one talks; live now that it is held
    h.qtbot.waitUntil(lambda: c.lines.one.status is LineStatus.TALKING
                      and c.lines.two.status is LineStatus.HELD, timeout=5000)
    assert h.phone.holds[-2:] == [(two, True), ("in-1", False)]

    with h.qtbot.waitSignal(c.line_did_end, timeout=5000) as ended:
        lines.end_one.click()
    assert ended.args[0] == "Line one (Ana García) ended: You hung up."
    assert h.phone.hung_up == ["in-1"]  # line two untouched
    assert c.lines.two is not None and c.lines.two.status is LineStatus.HELD
    assert c.record is not None and c.record.outcome is None
    assert "Line one: —" in lines.line_one.text() and "On hold" in lines.line_two.text()
    h.qtbot.waitUntil(lambda: bool(_audit(h, "in-1")[1:]), timeout=5000)
    assert h.window.state.currentData() == AgentState.TALKING  # still on line two

    assert lines.resume_two.isEnabled()
    lines.resume_two.click()
    h.qtbot.waitUntil(lambda: c.lines.two.status is LineStatus.TALKING,
                      timeout=5000)
    assert h.phone.holds[-1] == (two, False)

    w = h.window
    h.verify_read_notice_hang_up()
    w.memo.summary.setPlainText("Customer's phone is broken; troubleshooting on the alternate.")
    w.memo.response.setPlainText("Customer will bring the device to a store.")
    w.memo.pay_none.setChecked(True)
    h.qtbot.waitUntil(w.memo.close_button.isEnabled, timeout=5000)
    with h.qtbot.waitSignal(c.record_did_close, timeout=5000):
        w.memo.close_button.click()
    h.qtbot.waitUntil(lambda: not lines.line_two.isVisible(), timeout=5000)
    # The alternate number was for that call only: the next one is an ordinary callback again.
    assert w.gate.origin.currentData() == CallOrigin.FOLLOW_UP
    h.qtbot.waitUntil(lambda: w.card.number.currentData() == "+13125550141", timeout=5000)
    assert w.card.number.findData("+13125550188") < 0

    (record,) = _records(h)
    assert (record.id, record.origin, record.number) == (two, CallOrigin.ALTERNATE_NUMBER,
                                                        "+13125550188")
    assert record.state is CallState.CLOSED and record.verdicts["OB-STATE"] == "pass"
    assert [k for k, _ in _audit(h, "in-1")] == ["inbound_answered", "inbound_ended"]
    assert _audit(h, two)[0][0] == "call_attempt"


def test_a_nine_digit_number_is_refused_and_nothing_is_dialled(harness: Harness,
                                                                monkeypatch: Any) -> None:
    h, lines = harness, harness.window.lines
    asked: list[tuple[str, str]] = []
    place = h.graph.desk.place_call

    def spy(customer_id: str, number: str, context: CallContext) -> CallRecord:
        asked.append((number, context.origin))
        return place(customer_id, number, context)
    monkeypatch.setattr(h.graph.desk, "place_call", spy)
    answer(h)
    consult(h)
    lines.number.setText("312 555 014")
    with h.qtbot.waitSignal(h.controller.consult_was_refused, timeout=5000):
        lines.dial_two.click()
    assert "That is 9 digits; the number needs exactly 10" in lines.refusal.text()
    assert lines.refusal.isVisible()
    lines.number.setText("(312) 155-0188")
    with h.qtbot.waitSignal(h.controller.consult_was_refused, timeout=5000):
        lines.dial_two.click()
    assert "exchange 155" in lines.refusal.text()
    assert asked == [] and h.phone.dialled == [] and _records(h) == []
    dial_two(h, "+1 (312) 555-0188")  # any way of typing the same 10 digits goes through the gate
    assert asked == [("+13125550188", CallOrigin.ALTERNATE_NUMBER)]


def test_a_consult_dial_the_gate_blocks_is_shown_and_line_one_can_be_resumed(
        harness: Harness) -> None:
    h, lines, c = harness, harness.window.lines, harness.controller
    answer(h, "in-2", KEONI_CALLS, "Keoni Kahananui")
    consult(h)
    lines.number.setText("808 555 0188")
    with h.qtbot.waitSignal(c.consult_was_refused, timeout=5000):
        lines.dial_two.click()
    assert lines.refusal.text().startswith("Dial blocked by OB-WINDOW")
    assert h.phone.dialled == [] and c.record is None
    assert c.lines.one is not None and c.lines.one.status is LineStatus.HELD
    assert "On hold" in lines.line_one.text()
    assert h.window.gate.origin.currentData() == CallOrigin.ALTERNATE_NUMBER
    lines.back.click()
    h.qtbot.waitUntil(lambda: c.lines.one.status is LineStatus.TALKING,
                      timeout=5000)
    assert h.phone.holds == [("in-2", True), ("in-2", False)]


def test_alternate_number_path_through_after_call_work(harness: Harness) -> None:
    """The customer cannot use the device: ask for another number, enter ACW, call it."""
    h, c, w = harness, harness.controller, harness.window
    h.pick("Ana Garc")
    w.card.alternate.setText("555-0188")
    w.card.use_alternate.click()
    assert "7 digits" in w.card.alternate_problem.text() and w.card.alternate_problem.isVisible()

    w.card.alternate.setText("312.555.0188")
    with h.qtbot.waitSignal(c.verdict_did_change, timeout=5000,
                            check_params_cb=lambda v: v.dial_string == "13125550188") as got:
        w.card.use_alternate.click()
    verdict = got.args[0]
    assert w.card.number.currentData() == "+13125550188"
    assert "alternate, given on the call" in w.card.number.currentText()
    assert w.gate.origin.currentData() == CallOrigin.ALTERNATE_NUMBER
    assert list(verdict.blocked_by) == ["OB-STATE"]
    fix = w.gate.findChild(QPushButton, "fix-OB-STATE")
    assert fix is not None and "After-Call Work" in fix.text()
    fix.click()
    h.qtbot.waitUntil(w.gate.dial.isEnabled, timeout=5000)
    assert w.state.currentData() == AgentState.AFTER_CALL_WORK
    with h.qtbot.waitSignal(c.call_did_start, timeout=5000) as started:
        w.gate.dial.click()
    record = started.args[0]
    assert h.phone.dialled == [(record.id, "sip:13125550188@pbx.test")]
    assert record.origin is CallOrigin.ALTERNATE_NUMBER and record.number == "+13125550188"
    assert record.verdicts["OB-STATE"] == "pass"


def test_a_caller_hanging_up_leaves_the_agent_in_after_call_work(harness: Harness) -> None:
    """After the inbound call, ACW is where the alternate number may be called (OB-STATE)."""
    h, c, w = harness, harness.controller, harness.window
    answer(h)
    with h.qtbot.waitSignal(c.agent_did_change, timeout=5000,
                            check_params_cb=lambda a: a.state is AgentState.AFTER_CALL_WORK):
        h.phone.emit(CallEnded("in-1", CallOutcome.REMOTE_HANGUP, 200, "Normal call clearing",
                               connected=True))
    assert w.lines.outcome.text() == "Line one (Ana García) ended: Customer hung up."
    assert not w.lines.consult.isVisible()
    w.card.alternate.setText("(312) 555-0188")
    with h.qtbot.waitSignal(c.verdict_did_change, timeout=5000,
                            check_params_cb=lambda v: v.dial_string == "13125550188") as got:
        w.card.use_alternate.click()
    assert got.args[0].allowed, got.args[0].blocked_by  # ACW already: nothing left to fix
    h.qtbot.waitUntil(w.gate.dial.isEnabled, timeout=5000)
