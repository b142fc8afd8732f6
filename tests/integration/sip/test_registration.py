"""Registration at a real Kamailio: the status and the reason the agent sees."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from app.ports.phone import RegistrationChanged, SipAccountConfig, Transport
from app.sip.engine import SipPhone
from tests.integration.sip.conftest import account_for
from tests.integration.sip.events import EventLog
from tests.peers.kamailio import Kamailio
from tests.peers.procs import free_port

pytestmark = [pytest.mark.peers, pytest.mark.timeout(30)]

MakePhone = Callable[..., tuple[SipPhone, EventLog]]


@pytest.mark.parametrize("transport", [Transport.UDP, Transport.TCP])
def test_registers_with_digest_auth_and_unregisters_on_shutdown(
    kamailio: Kamailio, make_phone: MakePhone, transport: Transport
) -> None:
    phone, log = make_phone(account_for(kamailio, transport=transport))
    assert log.registered() == RegistrationChanged(True, 200, "registered")
    phone.shutdown()
    assert log.events[-1] == RegistrationChanged(False, 200, "unregistered")


def test_wrong_password_is_said_plainly_and_retried_with_backoff(
    kamailio: Kamailio, make_phone: MakePhone
) -> None:
    _, log = make_phone(account_for(kamailio, password="not-it", retry_min_s=1, retry_max_s=30))
    first = log.wait_for(RegistrationChanged)
    assert first == RegistrationChanged(False, 401, "401 wrong password", 1.0)
    second = log.wait_for(RegistrationChanged, lambda e: e is not first, timeout_s=4)
    assert second == RegistrationChanged(False, 401, "401 wrong password", 2.0)


def test_registrar_that_refuses_the_connection_is_unreachable(make_phone: MakePhone) -> None:
    closed = free_port()  # nothing listens there: TCP connect is refused at once
    account = SipAccountConfig(
        registrar=f"sip:127.0.0.1:{closed}", username="agent", domain="callwise.test",
        password="secret", transport=Transport.TCP,
    )
    _, log = make_phone(account)
    event = log.wait_for(RegistrationChanged)
    assert not event.registered
    assert event.reason == f"registrar unreachable ({event.code})"
    assert event.retry_in_s == 5.0

