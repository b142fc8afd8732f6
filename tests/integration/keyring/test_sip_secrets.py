"""The SIP password goes to a real Secret Service keyring and comes back; no plaintext fallback."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.keyring_daemon import secret_service

_PROBE = r"""
import json, sys
from app.keyring.secrets import SipSecrets, backend_name, KeyringUnavailable
s = SipSecrets()
out = {"backend": backend_name()}
try:
    if sys.argv[1] == "store":
        s.set_password("agent007", "correct horse")
    out["password"] = s.get_password("agent007")
except KeyringUnavailable as e:
    out["error"] = e.message
print(json.dumps(out))
"""


@pytest.fixture(scope="module")
def keyring_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    with secret_service(tmp_path_factory.mktemp("keyring")) as env:
        yield env


def _probe(env: dict[str, str], action: str) -> dict[str, str]:
    full = {**os.environ, **env}
    out = subprocess.run([sys.executable, "-c", _PROBE, action], env=full, capture_output=True,
                         text=True, timeout=60, check=True)
    result: dict[str, str] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def test_password_round_trips_through_the_secret_service(keyring_env: dict[str, str]) -> None:
    stored = _probe(keyring_env, "store")
    assert stored["backend"] == "keyring.backends.SecretService.Keyring"
    assert stored["password"] == "correct horse"
    # A new process (the app after a restart) reads it back from the daemon, not from memory.
    again = _probe(keyring_env, "read")
    assert again["password"] == "correct horse"


def test_password_is_not_written_to_any_file_we_own(keyring_env: dict[str, str],
                                                     tmp_path: Path) -> None:
    _probe(keyring_env, "store")
    home = Path(keyring_env["HOME"])
    for path in home.rglob("*"):
        if path.is_file():
            assert b"correct horse" not in path.read_bytes(), f"password in clear in {path}"


def test_no_keyring_is_a_clear_error_not_a_plaintext_fallback(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring",
           "HOME": str(tmp_path)}
    out = subprocess.run([sys.executable, "-c", _PROBE, "store"], env=env, capture_output=True,
                         text=True, timeout=60, check=True)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert "No secure keyring" in result["error"]
    assert "password" not in result
