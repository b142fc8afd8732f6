"""Real SMTP servers for the mail adapter: aiosmtpd on free loopback ports, never mocks.

Each server is an `aiosmtpd` `Controller` (its own thread and event loop) that the fixture stops at
teardown, even when the test fails. TLS material is a throwaway CA and server certificates made
once per session with `cryptography`, valid 2000-2099 so no test depends on the wall clock.
"""

from __future__ import annotations

import errno
import socket
import ssl
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from email import message_from_bytes
from email import policy as email_policy
from email.message import EmailMessage
from ipaddress import IPv4Address
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

LOOPBACK = "127.0.0.1"
SMTP_USER = "callwise-sa"
SMTP_PASSWORD = "correct horse battery staple"


# -- handlers ------------------------------------------------------------------------------------


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage
    raw: bytes
    tls: bool  # the session was encrypted when DATA arrived
    login: bytes | None  # who authenticated, if anyone


@dataclass
class Inbox:
    """An aiosmtpd handler that accepts everything and keeps it (called on the server's thread)."""

    received: list[Received] = field(default_factory=list)
    auth_attempts: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or b""
        message = message_from_bytes(raw, policy=email_policy.default)
        assert isinstance(message, EmailMessage)
        with self._lock:
            self.received.append(Received(str(envelope.mail_from), list(envelope.rcpt_tos), message,
                                          raw, session.ssl is not None,
                                          getattr(session.auth_data, "login", None)))
        return "250 2.0.0 Message accepted for delivery"

    def authenticate(self, server: SMTP, session: Session, envelope: Envelope, mechanism: str,
                     auth_data: Any) -> AuthResult:
        with self._lock:
            self.auth_attempts += 1
        ok = (isinstance(auth_data, LoginPassword) and auth_data.login == SMTP_USER.encode()
              and auth_data.password == SMTP_PASSWORD.encode())
        if ok:
            return AuthResult(success=True, auth_data=auth_data)
        return AuthResult(success=False, handled=False)  # aiosmtpd answers 535 5.7.8


class RefusingInbox(Inbox):
    """Refuses every recipient the way Postfix does for an unknown mailbox."""

    async def handle_RCPT(self, server: SMTP, session: Session, envelope: Envelope, address: str,
                          rcpt_options: list[str]) -> str:
        return f"550 5.1.1 <{address}>: Recipient address rejected: User unknown"


# -- servers -------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((LOOPBACK, 0))
        return int(s.getsockname()[1])


StartServer = Callable[..., Controller]


@pytest.fixture
def smtp_server() -> Iterator[StartServer]:
    """`smtp_server(handler, **smtp_kwargs)` starts aiosmtpd on a free loopback port; every
    server started is stopped at teardown. `server_hostname` is fixed so aiosmtpd does not look
    up the machine's FQDN."""
    started: list[Controller] = []

    def start(handler: Inbox, **kwargs: Any) -> Controller:
        kwargs.setdefault("server_hostname", "mail.callwise.test")
        for _ in range(5):  # another process may grab the port between probe and bind
            controller = Controller(handler, hostname=LOOPBACK, port=free_port(), **kwargs)
            try:
                controller.start()
            except OSError as e:
                controller.loop.close()
                if e.errno != errno.EADDRINUSE:
                    raise
                continue
            started.append(controller)
            return controller
        pytest.fail("could not find a free loopback port for the SMTP server", pytrace=False)

    yield start
    for controller in started:
        controller.stop()


@pytest.fixture
def silent_server() -> Iterator[int]:
    """A port that accepts TCP connections (in the kernel backlog) but never says a word."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((LOOPBACK, 0))
        s.listen(4)
        yield int(s.getsockname()[1])


# -- TLS material --------------------------------------------------------------------------------

_NOT_BEFORE = datetime(2000, 1, 1)
_NOT_AFTER = datetime(2099, 12, 31)


@dataclass(frozen=True)
class Certs:
    ca_file: Path  # the CA that signed the server certificates
    other_ca_file: Path  # an unrelated CA
    server_cert: Path  # for 127.0.0.1 and localhost
    server_key: Path
    wrong_name_cert: Path  # signed by the right CA, but for mail.elsewhere.test only
    wrong_name_key: Path

    def server_context(self, *, wrong_name: bool = False) -> ssl.SSLContext:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        if wrong_name:
            context.load_cert_chain(self.wrong_name_cert, self.wrong_name_key)
        else:
            context.load_cert_chain(self.server_cert, self.server_key)
        return context


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _write_key(path: Path, key: ec.EllipticCurvePrivateKey) -> None:
    path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                       serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption()))


def _make_ca(directory: Path, name: str) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    public = key.public_key()
    cert = (x509.CertificateBuilder()
            .subject_name(_name(name)).issuer_name(_name(name)).public_key(public)
            .serial_number(x509.random_serial_number())
            .not_valid_before(_NOT_BEFORE).not_valid_after(_NOT_AFTER)
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False,
                                         key_encipherment=False, data_encipherment=False,
                                         key_agreement=False, key_cert_sign=True, crl_sign=True,
                                         encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
            .sign(key, hashes.SHA256()))
    path = directory / f"{name.replace(' ', '_')}.pem"
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return cert, key, path


def _make_server(directory: Path, stem: str, ca: x509.Certificate, ca_key: ec.EllipticCurvePrivateKey,
                 names: list[x509.GeneralName]) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder()
            .subject_name(_name(stem)).issuer_name(ca.subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(_NOT_BEFORE).not_valid_after(_NOT_AFTER)
            .add_extension(x509.SubjectAlternativeName(names), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
                           critical=False)
            .sign(ca_key, hashes.SHA256()))
    cert_path, key_path = directory / f"{stem}.pem", directory / f"{stem}.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    _write_key(key_path, key)
    return cert_path, key_path


@pytest.fixture(scope="session")
def certs(tmp_path_factory: pytest.TempPathFactory) -> Certs:
    directory = tmp_path_factory.mktemp("mail-tls")
    ca, ca_key, ca_file = _make_ca(directory, "Callwise Test CA")
    _, _, other_ca_file = _make_ca(directory, "Unrelated Test CA")
    server_cert, server_key = _make_server(
        directory, "mail-loopback", ca, ca_key,
        [x509.IPAddress(IPv4Address(LOOPBACK)), x509.DNSName("localhost")])
    wrong_cert, wrong_key = _make_server(directory, "mail-elsewhere", ca, ca_key,
                                         [x509.DNSName("mail.elsewhere.test")])
    return Certs(ca_file, other_ca_file, server_cert, server_key, wrong_cert, wrong_key)
