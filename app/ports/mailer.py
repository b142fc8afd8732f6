"""Sending an email, as the services see it. Implemented by `app.mail.smtp.SmtpMailer`."""

from __future__ import annotations

from email.message import EmailMessage
from typing import Protocol


class Delivery(Protocol):
    @property
    def delivered(self) -> bool: ...

    @property
    def detail(self) -> str: ...


class Mailer(Protocol):
    """Blocking; called from the worker thread only."""

    def send(self, message: EmailMessage) -> Delivery: ...
