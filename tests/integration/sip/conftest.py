"""Fixtures for the SIP integration tests: real Kamailio, SIPp and pjsua2, never mocks.

A missing peer binary fails the test with the install hint (it never skips).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any, TypeVar

import pytest

from app.ports.phone import Phone, SipAccountConfig, Transport
from app.sip.engine import SipPhone
from tests.integration.sip.events import EventLog
from tests.peers.demo_line import DemoLine, running_demo_line
from tests.peers.kamailio import Kamailio, running_kamailio
from tests.peers.procs import PeerMissing
from tests.peers.sipp import Sipp, running_sipp

T = TypeVar("T")


def _enter(stack: list[AbstractContextManager[Any]], cm: AbstractContextManager[T]) -> T:
    try:
        value = cm.__enter__()
    except PeerMissing as exc:
        pytest.fail(str(exc), pytrace=False)
    stack.append(cm)
    return value


@pytest.fixture
def peers(tmp_path: Path) -> Iterator[list[AbstractContextManager[Any]]]:
    """Context managers entered by a test; all exited (peers stopped) at teardown."""
    stack: list[AbstractContextManager[Any]] = []
    yield stack
    while stack:
        stack.pop().__exit__(None, None, None)


@pytest.fixture
def kamailio(peers: list[AbstractContextManager[Any]], tmp_path: Path) -> Kamailio:
    return _enter(peers, running_kamailio(tmp_path))


@pytest.fixture
def sipp(peers: list[AbstractContextManager[Any]], tmp_path: Path) -> Callable[..., Sipp]:
    """`sipp("uas.xml", pause_ms=..., ...)` starts a SIPp scenario (see tests.peers.sipp)."""

    def start(scenario: str, **kwargs: Any) -> Sipp:
        return _enter(peers, running_sipp(scenario, tmp_path, **kwargs))

    return start


@pytest.fixture
def demo_line(peers: list[AbstractContextManager[Any]], tmp_path: Path) -> DemoLine:
    return _enter(peers, running_demo_line(tmp_path))


@pytest.fixture
def make_phone(
    peers: list[AbstractContextManager[Any]],
) -> Iterator[Callable[..., tuple[SipPhone, EventLog]]]:
    """`make_phone(account, **SipPhone kwargs)` -> started phone and its event log.

    Depends on `peers` so phones shut down (and unregister) before their peers stop.
    """
    phones: list[SipPhone] = []

    def make(account: SipAccountConfig | None = None, **kwargs: Any) -> tuple[SipPhone, EventLog]:
        phone = SipPhone(**kwargs)
        typed: Phone = phone  # the engine must satisfy the port it implements
        log = EventLog()
        typed.subscribe(log)
        if account is not None:
            typed.start(account)
        phones.append(phone)
        return phone, log

    yield make
    for phone in phones:
        phone.shutdown(3.0)


def account_for(kam: Kamailio, *, password: str | None = None,
                transport: Transport = Transport.UDP, **kwargs: Any) -> SipAccountConfig:
    return SipAccountConfig(
        registrar=kam.uri, username=kam.user, domain=kam.domain,
        password=kam.password if password is None else password, transport=transport, **kwargs,
    )


def line_account(line: DemoLine, **kwargs: Any) -> SipAccountConfig:
    """The demo line is the registrar and the far end; it accepts any credentials."""
    return SipAccountConfig(registrar=line.uri, username="agent", domain="demo", **kwargs)


@pytest.fixture
def agent(kamailio: Kamailio, make_phone: Callable[..., tuple[SipPhone, EventLog]]
          ) -> tuple[SipPhone, EventLog]:
    """A phone registered at Kamailio (UDP), media timeout long enough not to interfere."""
    phone, log = make_phone(account_for(kamailio))
    log.registered()
    return phone, log
