"""shutdown() never aborts, whatever the phone is doing: each state in a fresh process.

pjproject 2.15.1 asserts (SIGABRT) when a Call outlives libDestroy or is hung up at the wrong
moment; a subprocess turns such an abort into a failed exit code instead of a dead test run.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.peers.kamailio import Kamailio
from tests.peers.procs import LOOPBACK
from tests.peers.sipp import Sipp

pytestmark = [pytest.mark.peers, pytest.mark.timeout(40)]

ROOT = Path(__file__).resolve().parents[3]
StartSipp = Callable[..., Sipp]


@contextmanager
def driver(state: str, registrar: str, target: str = "") -> Iterator[subprocess.Popen[str]]:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.integration.sip.phone_driver", state,
         "--registrar", registrar, "--target", target],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        cwd=ROOT, env=env,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        if line != "READY\n":
            out, err = proc.communicate(timeout=5)
            pytest.fail(f"driver never got to {state!r}: {line}{out}\n{err}")
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()


def finish(proc: subprocess.Popen[str]) -> tuple[float, list[str]]:
    """Let the driver shut down; returns (seconds taken, ENDED lines)."""
    out, err = proc.communicate("GO\n", timeout=15)
    assert "Assertion" not in err and "Fatal Python error" not in err, err
    assert proc.returncode == 0, f"exit {proc.returncode}\n{out}\n{err}"
    lines = out.splitlines()
    assert lines and lines[0].startswith("SHUTDOWN "), out
    noise = [ln for ln in lines[1:] if not ln.startswith("ENDED ")]
    assert noise == [], f"pjsip printed to stdout: {noise}"
    return float(lines[0].split()[1]), lines[1:]


def test_never_started() -> None:
    with driver("never_started", "sip:127.0.0.1:9") as proc:
        _seconds, ended = finish(proc)
    assert ended == []


def test_while_starting(kamailio: Kamailio) -> None:
    with driver("starting", kamailio.uri) as proc:
        _, ended = finish(proc)
    assert ended == []


def test_while_the_keyring_is_still_being_read(kamailio: Kamailio) -> None:
    # The SIP stack is up, the REGISTER waits for a password that never comes (a locked
    # keyring): closing Callwise meanwhile must not wait for the keyring.
    with driver("reading_password", kamailio.uri) as proc:
        seconds, ended = finish(proc)
    assert ended == [] and seconds < 1.0


def test_while_a_register_is_unanswered() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as hole:
        hole.bind((LOOPBACK, 0))
        with driver("registering", f"sip:{LOOPBACK}:{hole.getsockname()[1]}") as proc:
            seconds, _ = finish(proc)
    assert seconds < 4.0


def test_idle_and_registered(kamailio: Kamailio) -> None:
    with driver("idle", kamailio.uri) as proc:
        seconds, ended = finish(proc)
    assert ended == [] and seconds < 1.0


def test_while_calling_a_host_that_never_answers(kamailio: Kamailio) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as hole:
        hole.bind((LOOPBACK, 0))
        target = f"sip:nobody@{LOOPBACK}:{hole.getsockname()[1]}"
        with driver("calling", kamailio.uri, target) as proc:
            seconds, ended = finish(proc)
    assert ended == ["ENDED c1 cancelled"] and seconds < 4.0


def test_while_ringing(kamailio: Kamailio, sipp: StartSipp) -> None:
    uas = sipp("uas_cancel.xml")
    with driver("ringing", kamailio.uri, uas.uri) as proc:
        _, ended = finish(proc)
    assert ended == ["ENDED c1 cancelled"]
    assert uas.wait(5) == 0, uas.report()


def test_in_a_call(kamailio: Kamailio, sipp: StartSipp) -> None:
    uas = sipp("uas.xml", rtp_echo=True)
    with driver("in_call", kamailio.uri, uas.uri) as proc:
        _, ended = finish(proc)
    assert ended == ["ENDED c1 local_hangup"]
    assert uas.wait(5) == 0, uas.report()  # the callee got our BYE


def test_with_two_calls(kamailio: Kamailio, sipp: StartSipp) -> None:
    uas = sipp("uas.xml", rtp_echo=True, calls=2)
    with driver("two_calls", kamailio.uri, uas.uri) as proc:
        _, ended = finish(proc)
    assert sorted(ended) == ["ENDED c1 local_hangup", "ENDED c2 local_hangup"]
    assert uas.wait(5) == 0, uas.report()


def test_with_a_call_on_hold(kamailio: Kamailio, sipp: StartSipp) -> None:
    uas = sipp("uas.xml", rtp_echo=True)
    with driver("held", kamailio.uri, uas.uri) as proc:
        _, ended = finish(proc)
    assert ended == ["ENDED c1 local_hangup"]


def test_while_an_incoming_call_rings(kamailio: Kamailio, sipp: StartSipp) -> None:
    with driver("incoming", kamailio.uri) as proc:
        uac = sipp("uac_invite_refused.xml", remote=(kamailio.host, kamailio.port),
                   service=kamailio.user)
        _, ended = finish(proc)
    assert len(ended) == 1 and ended[0].endswith(" declined")
    assert uac.wait(5) == 0, uac.report()


def test_when_the_far_end_vanished_mid_call(kamailio: Kamailio, sipp: StartSipp) -> None:
    uas = sipp("uas.xml", rtp_echo=True)
    with driver("dead_far_end", kamailio.uri, uas.uri) as proc:
        uas.proc.kill()  # our BYE will never be answered
        uas.proc.wait()
        seconds, ended = finish(proc)
    assert ended == ["ENDED c1 local_hangup"]
    assert seconds < 4.0
