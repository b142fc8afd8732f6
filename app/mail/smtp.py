"""Sending through the company mail server with `smtplib`, failures as results, not exceptions.

Each `send` opens its own connection and closes it before returning, so a mailer holds no socket
between emails and may be shared; it blocks for up to a few timeouts, so callers run it on a worker
thread, never the GUI thread. TLS always verifies the server certificate and its name (TLS 1.2 or
later); a "starttls" server that does not offer STARTTLS is refused rather than used in clear.
Whatever the network or the server does, `send` answers with a `DeliveryResult` whose detail the
agent can read and the `Notification` record keeps; only a programming error (a message without
sender or recipient) raises.
"""

from __future__ import annotations

import contextlib
import smtplib
import socket
import ssl
from dataclasses import dataclass
from email.message import EmailMessage

from app.mail.config import SmtpConfig


@dataclass(frozen=True)
class DeliveryResult:
    """`delivered` means the mail server accepted the message for delivery (not that it was read)."""

    delivered: bool
    detail: str


class _Refused(Exception):
    """A step we decline ourselves (no STARTTLS, no password); the message is the detail."""


def _text(raw: bytes | str) -> str:
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
    return " ".join(text.split())


def _reply(code: int, raw: bytes | str) -> str:
    return f"{code} {_text(raw)}".strip()


class SmtpMailer:
    """Delivers composed emails over SMTP. Stateless between sends; any worker thread may call it."""

    def __init__(self, config: SmtpConfig, password: str | None) -> None:
        self._config = config
        self._password = password

    @property
    def config(self) -> SmtpConfig:
        return self._config

    def send(self, message: EmailMessage) -> DeliveryResult:
        config = self._config
        where = f"{config.host}:{config.port}"
        if not message["From"] or not (message["To"] or message["Cc"] or message["Bcc"]):
            raise ValueError("a message to send needs a From and at least one recipient")
        try:
            self._check_login_possible()
            context = self._tls_context()
        except _Refused as e:
            return DeliveryResult(False, str(e))

        client: smtplib.SMTP | None = None
        healthy = False  # the session can still say QUIT politely
        try:
            client = self._connect(context)
            self._secure_and_login(client, context)
            refused = client.send_message(message)
            healthy = True
            if refused:  # some recipients accepted, some not: say which were not
                return DeliveryResult(False, "the mail server refused the recipient address " +
                                      "; ".join(f"{addr}: {_reply(*r)}" for addr, r in refused.items()))
            recipients = ", ".join(str(a) for a in message.get_all("To", []))
            return DeliveryResult(True, f"accepted by the mail server {where} for {recipients}")
        except _Refused as e:
            healthy = True
            return DeliveryResult(False, str(e))
        except smtplib.SMTPException as e:
            healthy = isinstance(e, smtplib.SMTPResponseException | smtplib.SMTPRecipientsRefused)
            return DeliveryResult(False, self._smtp_detail(e))
        except ssl.SSLCertVerificationError as e:
            return DeliveryResult(False, f"the mail server {where} could not prove its identity, so "
                                         f"nothing was sent: {e.verify_message or e.reason}")
        except ssl.SSLError as e:
            return DeliveryResult(False, f"the secure connection to the mail server {where} failed: "
                                         f"{e.reason or e}")
        except TimeoutError:
            return DeliveryResult(False, f"the mail server {where} did not answer within "
                                         f"{config.timeout_seconds:g} seconds")
        except ConnectionRefusedError:
            return DeliveryResult(False, f"the mail server {where} is unreachable: "
                                         "it refused the connection")
        except socket.gaierror as e:
            return DeliveryResult(False, f"the mail server {config.host} is unreachable: "
                                         f"its name could not be resolved ({e.strerror})")
        except OSError as e:
            return DeliveryResult(False, f"the mail server {where} is unreachable: {e.strerror or e}")
        finally:
            if client is not None:
                self._close(client, healthy)

    # -- steps -----------------------------------------------------------------------------------

    def _check_login_possible(self) -> None:
        config = self._config
        if not config.username:
            return
        if config.security == "none":
            raise _Refused("the mail account has a user name but smtp.security is \"none\"; "
                           "Callwise will not send the mail password unencrypted")
        if not self._password:
            raise _Refused(f"no password for the mail account {config.username} is in the "
                           "keyring")

    def _tls_context(self) -> ssl.SSLContext | None:
        config = self._config
        if config.security == "none":
            return None
        try:
            context = ssl.create_default_context(cafile=config.ca_file or None)
        except (OSError, ssl.SSLError) as e:
            raise _Refused(f"the CA file {config.ca_file} (smtp.ca_file) cannot be used: "
                           f"{getattr(e, 'strerror', None) or e}") from e
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        # create_default_context already verifies the chain and the host name; say it anyway so
        # nobody "simplifies" it away.
        context.check_hostname = True
        context.verify_mode = ssl.CERT_REQUIRED
        return context

    def _connect(self, context: ssl.SSLContext | None) -> smtplib.SMTP:
        config = self._config
        if config.security == "tls":
            return smtplib.SMTP_SSL(config.host, config.port, timeout=config.timeout_seconds,
                                    context=context)
        return smtplib.SMTP(config.host, config.port, timeout=config.timeout_seconds)

    def _secure_and_login(self, client: smtplib.SMTP, context: ssl.SSLContext | None) -> None:
        config = self._config
        if config.security == "starttls":
            client.ehlo()
            if not client.has_extn("starttls"):
                raise _Refused(f"the mail server {config.host}:{config.port} does not offer "
                               "STARTTLS, so nothing was sent (the message would have crossed "
                               "the network unencrypted)")
            code, reply = client.starttls(context=context)
            if code != 220:
                raise _Refused(f"the mail server refused to start TLS: {_reply(code, reply)}")
            client.ehlo()
        if config.username:
            assert self._password is not None  # checked by _check_login_possible
            try:
                client.login(config.username, self._password)
            except smtplib.SMTPNotSupportedError as e:
                raise _Refused(f"the mail server {config.host}:{config.port} does not offer login "
                               "(AUTH), but a user name is configured (smtp.username)") from e
            except smtplib.SMTPException as e:
                if type(e) is not smtplib.SMTPException:  # a reply or a disconnect: reported below
                    raise
                # smtplib's bare SMTPException here means no mechanism in common.
                raise _Refused(f"the mail server {config.host}:{config.port} offers no login "
                               f"method Callwise can use: {e}") from e

    def _smtp_detail(self, e: smtplib.SMTPException) -> str:
        config = self._config
        where = f"{config.host}:{config.port}"
        if isinstance(e, smtplib.SMTPRecipientsRefused):
            return "the mail server refused the recipient address " + "; ".join(
                f"{addr}: {_reply(*r)}" for addr, r in e.recipients.items())
        if isinstance(e, smtplib.SMTPAuthenticationError):
            return (f"the mail server refused the login of {config.username}: "
                    f"{_reply(e.smtp_code, e.smtp_error)}")
        if isinstance(e, smtplib.SMTPSenderRefused):
            return (f"the mail server refused the sender address {_text(e.sender)}: "
                    f"{_reply(e.smtp_code, e.smtp_error)}")
        if isinstance(e, smtplib.SMTPDataError):
            return f"the mail server refused the message: {_reply(e.smtp_code, e.smtp_error)}"
        if isinstance(e, smtplib.SMTPConnectError):
            return (f"the mail server {where} would not take the connection: "
                    f"{_reply(e.smtp_code, e.smtp_error)}")
        if isinstance(e, smtplib.SMTPResponseException):
            return f"the mail server {where} answered {_reply(e.smtp_code, e.smtp_error)}"
        if isinstance(e, smtplib.SMTPServerDisconnected) and "timed out" in str(e):
            # smtplib turns a read timeout into a disconnect; the agent should hear "timeout".
            return (f"the mail server {where} did not answer within "
                    f"{config.timeout_seconds:g} seconds")
        if isinstance(e, smtplib.SMTPServerDisconnected):
            return f"the mail server {where} closed the connection unexpectedly"
        return f"the mail server {where} could not take the message: {_text(str(e))}"

    @staticmethod
    def _close(client: smtplib.SMTP, healthy: bool) -> None:
        """QUIT when the session is still sane (a message already accepted stays accepted even if
        QUIT fails); otherwise just drop the socket instead of waiting on a broken peer."""
        if healthy:
            with contextlib.suppress(smtplib.SMTPException, OSError):
                client.quit()
        client.close()
