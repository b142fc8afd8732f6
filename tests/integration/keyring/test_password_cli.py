"""`callwise password`: IT stores and removes account passwords in a real Secret Service keyring."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.keyring_daemon import secret_service

ROOT = Path(__file__).resolve().parents[3]
SECRET = "correct horse 42"

_READ = ("import sys; from app.keyring.secrets import SipSecrets, SMTP_SERVICE, SERVICE; "
         "s = SipSecrets(SMTP_SERVICE if sys.argv[1] == 'smtp' else SERVICE); "
         "print(repr(s.get_password(sys.argv[2])))")


@pytest.fixture(scope="module")
def keyring_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    tmp = tmp_path_factory.mktemp("pwcli")
    with secret_service(tmp) as env:
        machine = tmp / "machine.toml"  # no machine-wide settings on this "workstation"
        machine.write_text("", encoding="utf-8")
        yield {**os.environ, **env, "CALLWISE_MACHINE_CONFIG": str(machine)}


def cli(env: dict[str, str], *args: str, **extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "ui.entry", "password", *args],
                          env={**env, **extra}, cwd=ROOT, capture_output=True, text=True,
                          timeout=90, stdin=subprocess.DEVNULL)


def stored(env: dict[str, str], account: str, user: str) -> str:
    out = subprocess.run([sys.executable, "-c", _READ, account, user], env=env, cwd=ROOT,
                         capture_output=True, text=True, timeout=90, check=True)
    return out.stdout.strip()


def test_set_then_clear_the_sip_password(keyring_env: dict[str, str]) -> None:
    done = cli(keyring_env, "set", "sip", "--user", "agent031", "--password-env", "CW_PW",
               CW_PW=SECRET)
    assert done.returncode == 0, done.stderr
    assert "Stored the SIP password for agent031" in done.stdout
    assert SECRET not in done.stdout + done.stderr
    assert stored(keyring_env, "sip", "agent031") == repr(SECRET)
    assert stored(keyring_env, "smtp", "agent031") == "None"  # a separate entry per account

    cleared = cli(keyring_env, "clear", "sip", "--user", "agent031")
    assert cleared.returncode == 0, cleared.stderr
    assert stored(keyring_env, "sip", "agent031") == "None"


def test_the_user_name_defaults_to_the_configured_one(keyring_env: dict[str, str],
                                                      tmp_path: Path) -> None:
    user_file = Path(keyring_env["XDG_CONFIG_HOME"]) / "Callwise" / "callwise.toml"
    user_file.parent.mkdir(parents=True, exist_ok=True)
    user_file.write_text('[sip]\nusername = "agent034"\n', encoding="utf-8")
    machine = tmp_path / "machine.toml"  # the mail account is IT's, set machine-wide
    machine.write_text('[smtp]\nusername = "sa-mailer"\n', encoding="utf-8")
    try:
        sip = cli(keyring_env, "set", "sip", "--password-env", "CW_PW", CW_PW=SECRET)
        smtp = cli(keyring_env, "set", "smtp", "--password-env", "CW_PW", CW_PW=SECRET + "!",
                   CALLWISE_MACHINE_CONFIG=str(machine))
        assert sip.returncode == 0, sip.stderr
        assert smtp.returncode == 0, smtp.stderr
        assert stored(keyring_env, "sip", "agent034") == repr(SECRET)
        assert stored(keyring_env, "smtp", "sa-mailer") == repr(SECRET + "!")
    finally:
        user_file.unlink()


def test_refusals_say_why_and_store_nothing(keyring_env: dict[str, str]) -> None:
    empty = cli(keyring_env, "set", "sip", "--user", "agent032", "--password-env", "CW_PW")
    assert empty.returncode == 1
    assert "CW_PW is empty or unset" in empty.stderr

    no_user = cli(keyring_env, "set", "sip", "--password-env", "CW_PW", CW_PW=SECRET)
    assert no_user.returncode == 1
    assert "No SIP user name is configured" in no_user.stderr and "--user" in no_user.stderr

    assert stored(keyring_env, "sip", "agent032") == "None"


def test_a_plaintext_keyring_is_refused(keyring_env: dict[str, str], tmp_path: Path) -> None:
    refused = cli(keyring_env, "set", "sip", "--user", "agent033", "--password-env", "CW_PW",
                  CW_PW=SECRET, PYTHON_KEYRING_BACKEND="keyring.backends.fail.Keyring")
    assert refused.returncode == 3
    assert "No secure keyring is available" in refused.stderr
    assert stored(keyring_env, "sip", "agent033") == "None"
