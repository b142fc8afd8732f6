"""The desktop's start-up password lookup: a child process against a real Secret Service."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.keyring_daemon import secret_service

ROOT = Path(__file__).resolve().parents[3]

# Run in a fresh process, as the desktop: store (through the normal adapter, in a child), then
# read back through PasswordLookup and say whether `keyring` was ever imported here.
_LOOKUP = r"""
import json, sys
from app.keyring.lookup import PasswordLookup
from app.keyring.secrets import KeyringUnavailable
out = {}
try:
    out["password"] = PasswordLookup(sys.argv[1], timeout_s=30).result()
except KeyringUnavailable as e:
    out["error"] = e.message
out["keyring_loaded_here"] = any(m == "keyring" or m.startswith("keyring.") for m in sys.modules)
print(json.dumps(out))
"""


@pytest.fixture(scope="module")
def keyring_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    with secret_service(tmp_path_factory.mktemp("keyring")) as env:
        full = {**os.environ, **env}
        subprocess.run([sys.executable, "-c", "import sys; from app.keyring.secrets import "
                        "SipSecrets; SipSecrets().set_password('agent009', sys.argv[1])",
                        "lookup horse"], env=full, cwd=ROOT, check=True, timeout=60)
        yield full


def _lookup(env: dict[str, str], user: str) -> dict[str, object]:
    out = subprocess.run([sys.executable, "-c", _LOOKUP, user], env=env, cwd=ROOT,
                         capture_output=True, text=True, timeout=90)
    assert out.returncode == 0, out.stderr
    assert "lookup horse" not in out.stderr
    result: dict[str, object] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def test_the_password_comes_back_and_keyring_stays_out_of_the_desktop(
        keyring_env: dict[str, str]) -> None:
    assert _lookup(keyring_env, "agent009") == {"password": "lookup horse",
                                                "keyring_loaded_here": False}


def test_an_unknown_user_has_no_password(keyring_env: dict[str, str]) -> None:
    assert _lookup(keyring_env, "nobody") == {"password": None, "keyring_loaded_here": False}


def test_no_keyring_is_the_same_clear_error_as_in_process(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring",
           "HOME": str(tmp_path)}
    result = _lookup(env, "agent009")
    assert "No secure keyring" in str(result["error"])
    assert "password" not in result
