"""How to reach the company mail server, as a plain value the composition root fills from settings.

The mail code never reads settings itself, so it can be tested (and later re-wired) without them.
The password is not here: it comes from the OS keyring, like the SIP one, and is handed to the
mailer separately so a config can be logged or shown by the doctor command.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, get_args

from app.mail.compose import parse_address
from app.mail.errors import MailError

Security = Literal["starttls", "tls", "none"]
SECURITY_MODES: tuple[str, ...] = get_args(Security)


@dataclass(frozen=True)
class SmtpConfig:
    """`security`: "starttls" (submission, usually port 587), "tls" (implicit TLS, usually 465)
    or "none" (a relay on a trusted network; the mailer then refuses to log in, because the
    password would cross the network in clear). An empty `username` means no login; an empty
    `ca_file` means the system's trusted CAs."""

    host: str
    port: int
    security: Security
    from_address: str
    username: str = ""
    ca_file: str = ""
    timeout_seconds: float = 20.0

    def __post_init__(self) -> None:
        fix = "Ask IT to correct the [smtp] section of the machine configuration."
        if not self.host.strip():
            raise MailError("No mail server is configured, so emails cannot be sent.",
                            action="Ask IT to set smtp.host in the machine configuration.")
        if any(c.isspace() for c in self.host):
            raise MailError(f"The mail server name {self.host!r} contains spaces.", action=fix)
        if not 1 <= self.port <= 65535:
            raise MailError(f"The mail server port {self.port} is not a valid port (1-65535).",
                            action=fix)
        if self.security not in SECURITY_MODES:
            raise MailError(
                f"The mail security mode {self.security!r} is unknown; use starttls, tls or none.",
                action=fix)
        if not self.timeout_seconds > 0:
            raise MailError("The mail server timeout must be more than zero seconds.", action=fix)
        parse_address(self.from_address, "the sender address (smtp.from_address)", action=fix)

    def describe(self) -> str:
        """Where mail goes, for logs and the doctor command (never includes the password)."""
        user = f", login as {self.username}" if self.username else ", no login"
        ca = f", CA file {self.ca_file}" if self.ca_file else ""
        return f"smtp://{self.host}:{self.port} ({self.security}{user}{ca}), from {self.from_address}"
