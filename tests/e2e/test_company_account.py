"""The desktop on a company account, as an agent's workstation runs it: IT's machine config names
a real Kamailio, the SIP password is in a real Secret Service keyring. The window and the SIP
stack never wait for the keyring; the REGISTER goes out once the password is read, and a
password that is not there is said as the phone line's status, not as a refusal to start."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.peers.kamailio import Kamailio, running_kamailio
from tests.support.keyring_daemon import secret_service

pytestmark = [pytest.mark.peers, pytest.mark.timeout(150)]

ROOT = Path(__file__).resolve().parents[2]
CALLWISE = [sys.executable, "-m", "ui.entry"]


@pytest.fixture
def workstation(tmp_path: Path) -> Iterator[tuple[Kamailio, dict[str, str]]]:
    """Kamailio, a keyring, IT's machine config and an empty user home."""
    with running_kamailio(tmp_path, user="agent7", password="s3cret line") as kam, \
            secret_service(tmp_path / "keyring") as keyring_env:
        machine = tmp_path / "machine.toml"
        machine.write_text(f'[sip]\nregistrar = "{kam.uri}"\ndomain = "{kam.domain}"\n'
                           'transport = "udp"\nbind_address = "127.0.0.1"\n')
        env = {**os.environ, **keyring_env, "QT_QPA_PLATFORM": "offscreen",
               "XDG_STATE_HOME": str(tmp_path / "state"), "XDG_CACHE_HOME": str(tmp_path / "cache"),
               "CALLWISE_MACHINE_CONFIG": str(machine)}
        user = Path(env["XDG_CONFIG_HOME"]) / "Callwise" / "callwise.toml"
        user.parent.mkdir(parents=True, exist_ok=True)
        user.write_text('[sip]\nusername = "agent7"\n[agent]\nid = "agent7"\nname = "Agent Seven"\n')
        yield kam, env


def _run(env: dict[str, str], tmp_path: Path) -> tuple[subprocess.CompletedProcess[str], str]:
    proc = subprocess.run([*CALLWISE, "--quit-after", "4", "--data-dir", str(tmp_path / "data")],
                          env=env, cwd=ROOT, capture_output=True, text=True, timeout=120)
    log = tmp_path / "state" / "Callwise" / "log" / "callwise.log"
    return proc, log.read_text() if log.exists() else ""


def test_the_desktop_registers_with_the_password_from_the_keyring(
        workstation: tuple[Kamailio, dict[str, str]], tmp_path: Path) -> None:
    kam, env = workstation
    subprocess.run([*CALLWISE, "password", "set", "sip", "--password-env", "SIP_PASSWORD"],
                   env={**env, "SIP_PASSWORD": kam.password}, cwd=ROOT, check=True,
                   capture_output=True, timeout=60)
    proc, log = _run(env, tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "phone registration: registered" in log
    assert kam.password not in log and kam.password not in proc.stderr


def test_no_password_in_the_keyring_is_the_phone_status_and_the_desk_still_opens(
        workstation: tuple[Kamailio, dict[str, str]], tmp_path: Path) -> None:
    _, env = workstation
    proc, log = _run(env, tmp_path)
    # The window came up and the records opened: the agent can finish earlier work and reads
    # why the phone has no line; IT reads the same in the log, with what to do.
    assert proc.returncode == 0, proc.stderr
    assert ("phone registration: not registered "
            "(No SIP password for agent7 in the OS keyring)") in log
    assert "records open: customer search enabled" in log
    assert "callwise password set sip" in log
    assert "Traceback" not in proc.stderr
