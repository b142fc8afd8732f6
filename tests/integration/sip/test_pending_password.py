"""The phone starts its SIP stack while the keyring is still being read, and registers with the
password once it is there: the company account's real path, a keyring lookup in a child process
against a real Secret Service and a digest-challenged REGISTER at a real Kamailio."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.bootstrap import CompanyPassword
from app.domain.enums import CallOutcome
from app.keyring.lookup import PasswordLookup
from app.ports.phone import CallEnded, RegistrationChanged, SipAccountConfig
from app.sip.engine import SipPhone
from tests.integration.sip.events import EventLog
from tests.peers.kamailio import Kamailio
from tests.support.keyring_daemon import secret_service

pytestmark = [pytest.mark.peers, pytest.mark.timeout(60)]

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def keyring_holding(kamailio: Kamailio, tmp_path: Path,
                    monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A real Secret Service holding Kamailio's password for its user, reachable by the lookup
    child this process starts (the environment points it at the private bus)."""
    with secret_service(tmp_path / "keyring") as env:
        subprocess.run([sys.executable, "-c", "import sys; from app.keyring.secrets import "
                        "SipSecrets; SipSecrets().set_password(sys.argv[1], sys.argv[2])",
                        kamailio.user, kamailio.password], env={**os.environ, **env}, cwd=ROOT,
                       check=True, timeout=60)
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        yield


def _started(kamailio: Kamailio, user: str, log: EventLog) -> SipPhone:
    """A phone started as the desktop starts it: the account without its password, and the
    keyring lookup still running in its child process."""
    phone = SipPhone()
    phone.subscribe(log)
    pending = CompanyPassword(user, PasswordLookup(user))
    assert not pending.done()  # the lookup child has only just started
    phone.start(SipAccountConfig(registrar=kamailio.uri, username=user, domain=kamailio.domain),
                pending)
    return phone


def test_the_phone_registers_once_the_keyring_answers(kamailio: Kamailio,
                                                      keyring_holding: None) -> None:
    log = EventLog()
    phone = _started(kamailio, kamailio.user, log)
    try:
        assert log.registered(timeout_s=30) == RegistrationChanged(True, 200, "registered")
    finally:
        phone.shutdown(3.0)


def test_no_password_in_the_keyring_is_the_registration_reason(kamailio: Kamailio,
                                                               keyring_holding: None) -> None:
    log = EventLog()
    phone = _started(kamailio, "stranger", log)
    try:
        said = log.wait_for(RegistrationChanged, timeout_s=30)
        assert said == RegistrationChanged(False, 0,
                                           "No SIP password for stranger in the OS keyring")
        phone.dial("c1", f"sip:echo@{kamailio.domain}")  # nothing to call from: said, not hung
        ended = log.wait_for(CallEnded, timeout_s=5)
        assert ended.outcome is CallOutcome.UNREACHABLE
        assert "No SIP password for stranger" in ended.reason
    finally:
        phone.shutdown(3.0)
