"""The OB-ALTNUMBER consult flow through the real desktop against real SIP peers, checked in the
database: a customer calls in (SIPp), the agent answers, presses Consult, dials the 10-digit
number the customer gives (the demo line answers it), goes back to line one, ENDs it, resumes
line two, hangs up and closes the memo.

The real `SipPhone` runs in this process (no fake phone); SIPp and the demo line are separate
processes on free loopback ports, stopped whatever happens.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from app.bootstrap import AppGraph, Records
from app.demo.customers import demo_agent, seed_demo
from app.domain.clock import FixedClock
from app.policy.pack import load_pack
from app.ports.phone import SipAccountConfig
from app.services.callbacks import Commitments
from app.services.desk import Desk
from app.services.lines import LineStatus
from app.settings import load_settings
from app.sip.engine import SipPhone
from app.storage import open_store
from tests.gui.conftest import CHICAGO_10AM
from tests.peers.demo_line import running_demo_line
from tests.peers.procs import LOOPBACK, PeerMissing
from tests.peers.sipp import running_sipp
from ui.application import open_desktop
from ui.controller import DeskController

ANA = "+13125550141"
ALTERNATE = "(312) 555-0188"  # ends in 8: the demo line answers it


@pytest.mark.timeout(120)
def test_consult_call_with_real_sip_peers_is_recorded(qtbot: QtBot, tmp_path: Path) -> None:
    db_path = tmp_path / "consult.sqlite3"
    with running_demo_line(tmp_path, ring_s=0.3) as line:
        domain = f"{line.host}:{line.port}"
        # local_port 0: the phone binds any free port, read back once it registered (a probed
        # port could be taken by another process before the phone binds it).
        account = SipAccountConfig(registrar=line.uri, username="agent", domain=domain)
        # SIPp calls the phone directly, so loopback is trusted; a long media timeout, because
        # SIPp sends no audio on line one and a silent line would be reported dropped.
        phone = SipPhone(trusted_hosts=(LOOPBACK,), media_timeout_s=120.0)
        store = open_store(f"sqlite:///{db_path}")
        seed_demo(store)  # Ana García and the demo agent
        agent = demo_agent()
        clock = FixedClock(CHICAGO_10AM)
        pack = load_pack(None)
        desk = Desk(store=store, pack=pack, phone=phone, clock=clock, agent=agent,
                    sip_domain=domain)
        commitments = Commitments(store=store, pack=pack, clock=clock, agent=agent)
        graph = AppGraph(settings=load_settings(None, tmp_path / "no-machine.toml"),
                         phone=phone, clock=clock, account=account, agent=agent,
                         records=Records(pack, store, desk, commitments))
        desktop = open_desktop(graph)
        w, c = desktop.window, desktop.controller
        qtbot.addWidget(w)
        w.show()
        try:
            with qtbot.waitSignal(c.customers_did_load, timeout=5000):
                c.start()
            with qtbot.waitSignal(c.registration_did_change, timeout=10_000,
                                  check_params_cb=lambda e: e.registered):
                graph.start_phone()
            assert phone.local_address is not None
            sip_port = phone.local_address[1]
            try:
                uac_cm = running_sipp("uac_inbound_consult.xml", tmp_path,
                                      remote=(LOOPBACK, sip_port), service="agent",
                                      fill={"caller": ANA}, timeout_s=90)
                uac = uac_cm.__enter__()
            except PeerMissing as exc:
                pytest.fail(str(exc), pytrace=False)
            try:
                lines = w.lines
                qtbot.waitUntil(lambda: lines.incoming.isVisible()
                                and "Ana García" in lines.incoming_text.text(), timeout=10_000)
                with qtbot.waitSignal(c.card_did_load, timeout=5000):
                    lines.answer.click()
                qtbot.waitUntil(lambda: _status(c, "one") is LineStatus.TALKING, timeout=10_000)

                lines.consult.click()
                qtbot.waitUntil(lambda: _status(c, "one") is LineStatus.HELD, timeout=10_000)
                lines.number.setText(ALTERNATE)
                with qtbot.waitSignal(c.call_did_change, timeout=15_000,
                                      check_params_cb=lambda r: r.connected_at is not None):
                    lines.dial_two.click()
                assert c.record is not None
                record_id = c.record.id
                line.wait_for(r"^call to 13125550188: answer$")

                lines.back.click()
                qtbot.waitUntil(lambda: _status(c, "one") is LineStatus.TALKING
                                and _status(c, "two") is LineStatus.HELD, timeout=10_000)
                with qtbot.waitSignal(c.line_did_end, timeout=10_000) as ended:
                    lines.end_one.click()
                assert ended.args[0] == "Line one (Ana García) ended: You hung up."
                assert uac.wait(15) == 0, uac.report()
                assert _status(c, "two") is LineStatus.HELD  # line two untouched

                lines.resume_two.click()
                qtbot.waitUntil(lambda: _status(c, "two") is LineStatus.TALKING, timeout=10_000)
                with qtbot.waitSignal(c.call_did_change, timeout=5000):
                    w.script.verify_button.click()
                with qtbot.waitSignal(c.call_did_change, timeout=5000):
                    w.script.notice_button.click()
                with qtbot.waitSignal(c.call_did_end, timeout=10_000):
                    w.gate.hangup.click()
                w.memo.summary.setPlainText("Customer's phone cannot make calls; we continued "
                                            "troubleshooting on the alternate number.")
                w.memo.response.setPlainText("Customer will visit a store for a replacement.")
                w.memo.pay_none.setChecked(True)
                qtbot.waitUntil(w.memo.close_button.isEnabled, timeout=5000)
                with qtbot.waitSignal(c.record_did_close, timeout=5000):
                    w.memo.close_button.click()
            finally:
                uac_cm.__exit__(None, None, None)
            said = line.output()
            assert "held" in said and "resumed" in said  # line two went on hold and came back
        finally:
            desktop.close()
            graph.close()

    db = sqlite3.connect(db_path)
    try:
        origin, number, state, outcome, verdicts, notice_at = db.execute(
            "select origin, number, state, outcome, verdicts, recording_notice_at from calls "
            "where id = ?", (record_id,)).fetchone()
        audit = db.execute("select kind, record_id, payload from audit_log order by seq").fetchall()
    finally:
        db.close()
    assert (origin, number, state, outcome) == ("alternate_number", "+13125550188", "closed",
                                                "local_hangup")
    assert notice_at is not None
    verdicts = json.loads(verdicts) if isinstance(verdicts, str) else verdicts
    assert verdicts["OB-STATE"] == "pass" and verdicts["NUMBER"] == "pass"
    kinds = [(kind, rid) for kind, rid, _payload in audit]
    inbound = [k for k, rid in kinds if rid.startswith("in-")]
    assert inbound == ["inbound_answered", "inbound_ended"]
    mine = [k for k, rid in kinds if rid == record_id]
    assert mine[0] == "call_attempt" and mine[-1] == "record_closed"
    # The order of the flow: line one answered before line two was dialled, ended before close.
    order = [k for k, _rid in kinds if k in ("inbound_answered", "call_attempt", "inbound_ended",
                                              "record_closed")]
    assert order == ["inbound_answered", "call_attempt", "inbound_ended", "record_closed"]


def _status(c: DeskController, which: str) -> LineStatus | None:
    line = getattr(c.lines, which)
    return None if line is None else line.status
