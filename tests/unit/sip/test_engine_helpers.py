"""The engine's small URI helpers: what the softphone sends where (no SIP stack started)."""

from __future__ import annotations

import pytest

from app.ports.phone import Transport
from app.sip.engine import (
    _loose_route,
    _split_host_port,
    _target_uri,
    _uri_hostport,
    _with_transport,
)


@pytest.mark.parametrize(
    ("uri", "hostport"),
    [
        ("sip:127.0.0.1:5060", "127.0.0.1:5060"),
        ("sip:agent@pbx.example.com;transport=tls", "pbx.example.com"),
        ("sips:[2001:db8::1]:5061", "[2001:db8::1]:5061"),
        ("<sip:proxy.example.com;lr>", "proxy.example.com"),
    ],
)
def test_uri_hostport(uri: str, hostport: str) -> None:
    assert _uri_hostport(uri) == hostport


@pytest.mark.parametrize(
    ("address", "split"),
    [
        ("127.0.0.1:5060", ("127.0.0.1", 5060)),
        ("[::1]:5060", ("::1", 5060)),
        ("pbx.example.com", ("pbx.example.com", None)),
        ("2001:db8::1", ("2001:db8::1", None)),
        ("*", ("*", None)),
    ],
)
def test_split_host_port(address: str, split: tuple[str, int | None]) -> None:
    assert _split_host_port(address) == split


def test_tcp_and_tls_routes_name_their_transport_and_udp_ones_do_not() -> None:
    assert _with_transport("sip:10.0.0.1:5060", Transport.UDP) == "sip:10.0.0.1:5060"
    assert _with_transport("sip:10.0.0.1", Transport.TLS) == "sip:10.0.0.1;transport=tls"
    assert _with_transport("sip:h;transport=TCP", Transport.TCP) == "sip:h;transport=TCP"
    assert _loose_route("sip:h;transport=tcp") == "sip:h;transport=tcp;lr"
    assert _loose_route("sip:h;lr") == "sip:h;lr"


def test_a_bare_number_is_dialled_in_the_account_domain() -> None:
    assert _target_uri("+13125550141", "pbx.example.com") == "sip:+13125550141@pbx.example.com"
    assert _target_uri("tel:+13125550141", "d") == "tel:+13125550141"
    assert _target_uri("sip:9@h", "d") == "sip:9@h"
