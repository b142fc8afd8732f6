"""TLS to the registrar: TLS 1.2 only, server certificate and host name verified.

The server is `openssl s_server` with a throwaway CA made for the test; what it decrypts shows
whether the phone's REGISTER got through the handshake.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from app.ports.phone import RegistrationChanged, SipAccountConfig, Transport
from app.sip.engine import SipPhone
from tests.integration.sip.events import EventLog
from tests.peers.procs import LOOPBACK, PeerMissing, wait_until
from tests.peers.tls import KeyPair, TlsServer, issue, make_ca, running_tls_server

pytestmark = [pytest.mark.peers, pytest.mark.timeout(30)]

MakePhone = Callable[..., tuple[SipPhone, EventLog]]
OLD_TLS = ("-cipher", "DEFAULT@SECLEVEL=0")  # let OpenSSL 3 speak TLS 1.0/1.1 at all


@pytest.fixture
def ca(tmp_path: Path) -> KeyPair:
    try:
        return make_ca(tmp_path)
    except PeerMissing as exc:
        pytest.fail(str(exc), pytrace=False)


def tls_account(server: TlsServer, ca: KeyPair, host: str = LOOPBACK) -> SipAccountConfig:
    return SipAccountConfig(
        registrar=f"sip:{host}:{server.port}", username="agent", domain="callwise.test",
        password="secret", transport=Transport.TLS, tls_ca_file=str(ca.cert), retry_min_s=60,
    )


def register_seen(server: TlsServer, timeout_s: float = 3.0) -> bool:
    return wait_until(lambda: "REGISTER sip:" in server.received(), timeout_s)


@pytest.mark.parametrize("host", [LOOPBACK, "localhost"])
def test_accepts_a_valid_certificate_for_the_host(
    ca: KeyPair, tmp_path: Path, make_phone: MakePhone, host: str
) -> None:
    cert = issue(ca, tmp_path, "localhost", sans=("DNS:localhost", f"IP:{LOOPBACK}"))
    with running_tls_server(cert, tmp_path, options=("-brief",)) as server:
        make_phone(tls_account(server, ca, host))
        assert register_seen(server), server.received()
        assert "Protocol version: TLSv1.2" in server.received()


def test_refuses_a_certificate_for_another_host(
    ca: KeyPair, tmp_path: Path, make_phone: MakePhone
) -> None:
    cert = issue(ca, tmp_path, "wrong.example", sans=("DNS:wrong.example",))
    with running_tls_server(cert, tmp_path) as server:
        _, log = make_phone(tls_account(server, ca))
        event = log.wait_for(RegistrationChanged)
        assert not register_seen(server, 0.5)
    assert (event.registered, event.reason) == (False, "registrar certificate rejected (503)")


def test_refuses_a_certificate_from_an_unknown_ca(
    ca: KeyPair, tmp_path: Path, make_phone: MakePhone
) -> None:
    (tmp_path / "other").mkdir()
    other = make_ca(tmp_path / "other", "Somebody Else CA")
    cert = issue(other, tmp_path, "localhost", sans=("DNS:localhost", f"IP:{LOOPBACK}"))
    with running_tls_server(cert, tmp_path) as server:
        _, log = make_phone(tls_account(server, ca))
        event = log.wait_for(RegistrationChanged)
        assert not register_seen(server, 0.5)
    assert event.reason == "registrar certificate rejected (503)"


@pytest.mark.parametrize(("flag", "version"), [("-tls1", "TLSv1"), ("-tls1_1", "TLSv1.1")])
def test_refuses_a_server_that_only_speaks_old_tls(
    ca: KeyPair, tmp_path: Path, make_phone: MakePhone, flag: str, version: str
) -> None:
    cert = issue(ca, tmp_path, "localhost", sans=("DNS:localhost", f"IP:{LOOPBACK}"))
    with running_tls_server(cert, tmp_path, options=(flag, *OLD_TLS)) as server:
        # Control: the server really does speak the old version to a client that allows it.
        probe = subprocess.run(
            ["openssl", "s_client", "-connect", f"{LOOPBACK}:{server.port}", flag, *OLD_TLS,
             "-CAfile", str(ca.cert)],
            input="", capture_output=True, text=True, timeout=10,
        )
        assert f"Protocol  : {version}" in probe.stdout, probe.stdout + probe.stderr
        _, log = make_phone(tls_account(server, ca))
        event = log.wait_for(RegistrationChanged)
        assert not register_seen(server, 0.5)
    assert not event.registered
    assert event.reason.startswith("registrar unreachable")
