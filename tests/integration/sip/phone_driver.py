"""Puts a real SipPhone into a given state, then shuts it down: run as a subprocess by
test_shutdown.py, so an abort inside pjsip fails one test instead of killing pytest.

    python -m tests.integration.sip.phone_driver STATE --registrar URI [--target URI]

Prints "READY" once the state is reached, waits for a line on stdin, calls shutdown(), prints
"SHUTDOWN <seconds>" and one "ENDED <ref> <outcome>" per CallEnded, and exits 0. Anything else
on stdout (pjsip's console) is a failure the test reports.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time

from app.ports.phone import CallEnded, CallPhase, IncomingCall, SipAccountConfig
from app.sip.engine import SipPhone
from tests.integration.sip.events import EventLog

STATES = ("never_started", "starting", "reading_password", "registering", "idle", "calling",
          "ringing", "in_call", "two_calls", "held", "incoming", "dead_far_end")


class LockedKeyring:
    """A password that is never read: the keyring waits for the agent to unlock it."""

    def done(self) -> bool:
        return False

    def result(self) -> str:
        raise AssertionError("never asked: the keyring has not answered")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("state", choices=STATES)
    parser.add_argument("--registrar", default="sip:127.0.0.1:9")
    parser.add_argument("--target", default="")
    parser.add_argument("--timeout", type=float, default=3.0)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)

    phone = SipPhone(media_timeout_s=60)
    log = EventLog()
    phone.subscribe(log)
    state = args.state
    if state != "never_started":
        phone.start(SipAccountConfig(registrar=args.registrar, username="agent",
                                     domain="callwise.test", password="secret",
                                     retry_min_s=1, retry_max_s=2),
                    LockedKeyring() if state == "reading_password" else None)
    if state not in ("never_started", "starting", "reading_password", "registering"):
        log.registered()
    if state in ("calling", "ringing", "in_call", "two_calls", "held", "dead_far_end"):
        phone.dial("c1", args.target)
        phase = {"calling": CallPhase.CALLING, "ringing": CallPhase.RINGING}.get(
            state, CallPhase.CONNECTED)
        log.phase("c1", phase)
    if state == "two_calls":
        phone.dial("c2", args.target)
        log.phase("c2", CallPhase.CONNECTED)
    if state == "held":
        phone.hold("c1")
        log.phase("c1", CallPhase.HELD)
    if state in ("registering", "reading_password"):
        time.sleep(0.3)  # the REGISTER is out and unanswered, or waits for the password
    print("READY", flush=True)
    if state == "incoming":
        log.wait_for(IncomingCall, timeout_s=10)
    sys.stdin.readline()

    started = time.monotonic()
    phone.shutdown(args.timeout)
    print(f"SHUTDOWN {time.monotonic() - started:.3f}", flush=True)
    for event in log.events:
        if isinstance(event, CallEnded):
            print(f"ENDED {event.ref} {event.outcome.value}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
