"""Sending the Service Assurance email through real SMTP servers (aiosmtpd on loopback).

Every failure the agent can meet (server down or silent, TLS not trustworthy, login refused,
recipient unknown) must come back as `delivered=False` with a reason in plain words, and nothing
may reach the mailbox when Callwise refuses to send.
"""

from __future__ import annotations

import re
from dataclasses import replace
from email.message import EmailMessage
from typing import Any

import pytest

from app.mail import (
    SmtpConfig,
    SmtpMailer,
    body_text,
    compose_sa_email,
    load_email_template,
)
from tests.integration.mail.conftest import (
    LOOPBACK,
    SMTP_PASSWORD,
    SMTP_USER,
    Certs,
    Inbox,
    RefusingInbox,
    StartServer,
    free_port,
)
from tests.unit.mail.builders import FROM_ADDRESS, NOW, PURPOSE, STEP_1, STEP_2, sa_email

CUSTOMER = "ana.garcia@example.com"


@pytest.fixture(scope="module")
def message() -> EmailMessage:
    return compose_sa_email(sa_email(), load_email_template(), from_address=FROM_ADDRESS, now=NOW)


def config(port: int, **changes: Any) -> SmtpConfig:
    base = SmtpConfig(host=LOOPBACK, port=port, security="none", from_address=FROM_ADDRESS,
                      timeout_seconds=5)
    return replace(base, **changes)


def test_composed_email_reaches_the_customer_mailbox_intact(smtp_server: StartServer,
                                                           message: EmailMessage) -> None:
    inbox = Inbox()
    server = smtp_server(inbox)

    result = SmtpMailer(config(server.port), password=None).send(message)

    assert result.delivered, result.detail
    assert CUSTOMER in result.detail
    [got] = inbox.received
    assert got.rcpt_tos == [CUSTOMER]
    assert got.mail_from == FROM_ADDRESS
    assert got.message["Subject"].strip() == message["Subject"]  # the parser keeps a fold space
    body = body_text(got.message)
    flat = " ".join(body.split())
    assert PURPOSE in flat
    assert "- Tuesday, March 4, 2025: 9:00 AM to 11:30 AM CST" in body
    assert "- Wednesday, March 5, 2025: 2:00 PM to 4:00 PM CST" in body
    assert "America/Chicago" in body
    assert STEP_1 in flat and STEP_2 in flat
    assert "date and time that suits you best" in flat
    assert "1-800-555-0100" in body
    assert "SA-20250301-0042" in body
    assert "have your account PIN or passcode ready" in flat
    assert "Never send your PIN or passcode by email" in flat
    # The email asks for no secret: the only digits are dates, times, the ticket and the number.
    digits = set(re.findall(r"\d+", body))
    assert digits <= {"2025", "4", "5", "9", "00", "11", "30", "2", "20250301", "0042", "1", "800",
                      "555", "0100"}


def test_starttls_with_login_delivers_encrypted(smtp_server: StartServer, certs: Certs,
                                                message: EmailMessage) -> None:
    inbox = Inbox()
    server = smtp_server(inbox, tls_context=certs.server_context(), require_starttls=True,
                         auth_required=True, authenticator=inbox.authenticate)

    mailer = SmtpMailer(config(server.port, security="starttls", username=SMTP_USER,
                               ca_file=str(certs.ca_file)), password=SMTP_PASSWORD)
    result = mailer.send(message)

    assert result.delivered, result.detail
    [got] = inbox.received
    assert got.tls
    assert got.login == SMTP_USER.encode()


def test_implicit_tls_delivers(smtp_server: StartServer, certs: Certs,
                               message: EmailMessage) -> None:
    inbox = Inbox()
    server = smtp_server(inbox, ssl_context=certs.server_context())

    result = SmtpMailer(config(server.port, security="tls", ca_file=str(certs.ca_file)),
                        password=None).send(message)

    assert result.delivered, result.detail
    assert len(inbox.received) == 1


@pytest.mark.parametrize("security", ["starttls", "tls"])
def test_a_server_signed_by_another_ca_gets_nothing(smtp_server: StartServer, certs: Certs,
                                                    message: EmailMessage, security: str) -> None:
    inbox = Inbox()
    kwargs: dict[str, Any] = ({"tls_context": certs.server_context()} if security == "starttls"
                              else {"ssl_context": certs.server_context()})
    server = smtp_server(inbox, **kwargs)

    result = SmtpMailer(config(server.port, security=security, ca_file=str(certs.other_ca_file)),
                        password=None).send(message)

    assert not result.delivered
    assert "could not prove its identity" in result.detail
    assert "certificate" in result.detail
    assert inbox.received == []


def test_a_certificate_for_another_host_name_is_refused(smtp_server: StartServer, certs: Certs,
                                                        message: EmailMessage) -> None:
    inbox = Inbox()
    server = smtp_server(inbox, tls_context=certs.server_context(wrong_name=True))

    result = SmtpMailer(config(server.port, security="starttls", ca_file=str(certs.ca_file)),
                        password=None).send(message)

    assert not result.delivered
    assert "could not prove its identity" in result.detail
    assert "mismatch" in result.detail  # OpenSSL: "IP address mismatch, certificate is not valid..."
    assert inbox.received == []


def test_starttls_configured_but_not_offered_sends_nothing_in_clear(smtp_server: StartServer,
                                                                     message: EmailMessage) -> None:
    inbox = Inbox()
    server = smtp_server(inbox)  # no tls_context: the server offers no STARTTLS

    result = SmtpMailer(config(server.port, security="starttls"), password=None).send(message)

    assert not result.delivered
    assert "does not offer STARTTLS" in result.detail
    assert inbox.received == []


def test_a_wrong_password_is_reported_with_the_servers_535(smtp_server: StartServer, certs: Certs,
                                                          message: EmailMessage) -> None:
    inbox = Inbox()
    server = smtp_server(inbox, tls_context=certs.server_context(), auth_required=True,
                         authenticator=inbox.authenticate)

    mailer = SmtpMailer(config(server.port, security="starttls", username=SMTP_USER,
                               ca_file=str(certs.ca_file)), password="not the password")
    result = mailer.send(message)

    assert not result.delivered
    assert result.detail.startswith(f"the mail server refused the login of {SMTP_USER}: 535")
    assert inbox.auth_attempts >= 1
    assert inbox.received == []


def test_a_server_without_a_usable_login_method_is_reported(smtp_server: StartServer, certs: Certs,
                                                             message: EmailMessage) -> None:
    inbox = Inbox()
    server = smtp_server(inbox, tls_context=certs.server_context(), authenticator=inbox.authenticate,
                         auth_exclude_mechanism=["LOGIN", "PLAIN"])

    mailer = SmtpMailer(config(server.port, security="starttls", username=SMTP_USER,
                               ca_file=str(certs.ca_file)), password=SMTP_PASSWORD)
    result = mailer.send(message)

    assert not result.delivered
    assert result.detail.startswith(f"the mail server {LOOPBACK}:{server.port} offers no login method")
    assert inbox.received == []


def test_a_refused_recipient_is_reported_with_the_servers_550(smtp_server: StartServer,
                                                             message: EmailMessage) -> None:
    inbox = RefusingInbox()
    server = smtp_server(inbox)

    result = SmtpMailer(config(server.port), password=None).send(message)

    assert not result.delivered
    assert result.detail == (f"the mail server refused the recipient address {CUSTOMER}: "
                             f"550 5.1.1 <{CUSTOMER}>: Recipient address rejected: User unknown")
    assert inbox.received == []


def test_a_server_that_is_not_there_is_unreachable(message: EmailMessage) -> None:
    port = free_port()  # nothing listens here once the probe socket is closed

    result = SmtpMailer(config(port), password=None).send(message)

    assert not result.delivered
    assert result.detail == (f"the mail server {LOOPBACK}:{port} is unreachable: "
                             "it refused the connection")


def test_a_silent_server_times_out(silent_server: int, message: EmailMessage) -> None:
    result = SmtpMailer(config(silent_server, timeout_seconds=0.3), password=None).send(message)

    assert not result.delivered
    assert result.detail == f"the mail server {LOOPBACK}:{silent_server} did not answer within 0.3 seconds"


def test_a_password_is_never_sent_unencrypted(smtp_server: StartServer,
                                              message: EmailMessage) -> None:
    inbox = Inbox()
    server = smtp_server(inbox, auth_require_tls=True, authenticator=inbox.authenticate)

    result = SmtpMailer(config(server.port, security="none", username=SMTP_USER),
                        password=SMTP_PASSWORD).send(message)

    assert not result.delivered
    assert "will not send the mail password unencrypted" in result.detail
    assert inbox.auth_attempts == 0
    assert inbox.received == []


def test_a_missing_password_is_reported_before_connecting(smtp_server: StartServer, certs: Certs,
                                                          message: EmailMessage) -> None:
    inbox = Inbox()
    server = smtp_server(inbox, tls_context=certs.server_context(), authenticator=inbox.authenticate)

    result = SmtpMailer(config(server.port, security="starttls", username=SMTP_USER,
                               ca_file=str(certs.ca_file)), password=None).send(message)

    assert not result.delivered
    assert result.detail == f"no password for the mail account {SMTP_USER} is in the keyring"
    assert inbox.received == []


def test_a_missing_ca_file_names_the_setting(message: EmailMessage, tmp_path: Any) -> None:
    missing = tmp_path / "no-such-ca.pem"

    result = SmtpMailer(config(free_port(), security="starttls", ca_file=str(missing)),
                        password=None).send(message)

    assert not result.delivered
    assert f"the CA file {missing} (smtp.ca_file) cannot be used" in result.detail
