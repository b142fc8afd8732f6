"""Replays RFC 4475 torture messages at a real SipPhone's UDP transport, each to a fresh SIP
stack, and checks after each that the phone still answers OPTIONS. Run as a subprocess by
test_rfc4475.py (an abort inside pjsip must fail a test, not kill pytest):

    python -m tests.integration.sip.torture_driver [--markdown] FILE.dat [FILE.dat ...]

Prints one JSON object per message: {"name", "sent": [first line of each message the phone
transmitted], "incoming_call", "alive"}, and "SENDING <name>" before each, so a crash names
its message. DNS is pinned to loopback: several messages name example.com hosts (maddr,
Record-Route) and the replay must never send anything off this machine.
"""

from __future__ import annotations

import json
import logging
import re
import socket
import sys
import time
from pathlib import Path

from app.ports.phone import IncomingCall, PhoneEvent, SipAccountConfig
from app.sip.engine import SipPhone
from tests.peers.procs import LOOPBACK, sip_options_ping, wait_until


class _TxLog(logging.Handler):
    """Collects the first line of every message pjsip transmits (its level-4 message log):
    replies go where each message's Via says, often 127.0.0.1:5060, not back to our socket."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.sent: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        text = record.getMessage()
        if "TX " not in text or "Response msg" not in text:
            return
        status = next((ln.strip() for ln in text.splitlines() if ln.startswith("SIP/2.0 ")), "?")
        where = re.search(r" to (\w+) ([^\s:]+:\d+)", text)
        self.sent.append(f"{status} -> {where.group(2)}" if where else status)


def replay(path: Path, registrar_hole: int) -> dict[str, object]:
    # DNS only on loopback (nothing listens on 127.0.0.1:53): no query leaves the machine.
    # Every source trusted: the INVITEs must get past the stranger check into the call path.
    phone = SipPhone(nameservers=[LOOPBACK], answer_timeout_s=30, pj_log_level=4,
                     trusted_hosts=("*",))
    incoming: list[str] = []

    def on_event(event: PhoneEvent) -> None:
        if isinstance(event, IncomingCall):
            incoming.append(event.remote_uri)

    phone.subscribe(on_event)
    # Any free port, read back once bound: a probed one could be taken before the phone binds.
    phone.start(SipAccountConfig(registrar=f"sip:{LOOPBACK}:{registrar_hole}", username="agent",
                                 domain="callwise.test", retry_min_s=60))
    tx = _TxLog()
    pjsip_log = logging.getLogger("app.sip.pjsip")
    try:
        if not wait_until(lambda: _answers(phone.local_address), 5):
            raise RuntimeError("phone never answered OPTIONS before the replay")
        assert phone.local_address is not None
        port = phone.local_address[1]
        time.sleep(0.05)
        pjsip_log.addHandler(tx)
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.bind((LOOPBACK, 0))
            sock.sendto(path.read_bytes(), (LOOPBACK, port))
            time.sleep(0.3)
        pjsip_log.removeHandler(tx)
        alive = (sip_options_ping(LOOPBACK, port, timeout_s=1.0) or "").startswith("SIP/2.0 200")
        return {"name": path.name, "sent": tx.sent, "incoming_call": bool(incoming),
                "alive": alive}
    finally:
        pjsip_log.removeHandler(tx)
        phone.shutdown(3.0)


def _answers(address: tuple[str, int] | None) -> bool:
    """The phone has bound its port and answers OPTIONS there: ready for the replay."""
    return address is not None and sip_options_ping(*address, timeout_s=0.1) is not None


def markdown(results: list[dict[str, object]]) -> str:
    """The table SECURITY.md carries: what the phone sent back to each message."""
    rows = ["| message | the phone sent | became an incoming call | alive after |",
            "|---|---|---|---|"]
    for r in results:
        sent = "<br>".join(str(x) for x in r["sent"]) or "nothing (dropped)"  # type: ignore[attr-defined]
        rows.append(f"| {r['name']} | {sent} | {'yes' if r['incoming_call'] else 'no'} | "
                    f"{'yes' if r['alive'] else '**NO**'} |")
    return "\n".join(rows)


def main(paths: list[str]) -> int:
    logging.basicConfig(level=logging.ERROR, stream=sys.stderr)
    logging.getLogger("app.sip.pjsip").setLevel(logging.DEBUG)
    logging.getLogger("app.sip.pjsip").propagate = False
    table = paths[:1] == ["--markdown"]
    results = []
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as registrar:
        registrar.bind((LOOPBACK, 0))  # a registrar that never answers: no REGISTER noise
        for name in paths[1:] if table else paths:
            if not table:
                print(f"SENDING {Path(name).name}", flush=True)
            results.append(replay(Path(name), registrar.getsockname()[1]))
            if not table:
                print(json.dumps(results[-1]), flush=True)
    if table:
        print(markdown(results))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
