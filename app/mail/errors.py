"""The one expected-error type of the mail adapter: a sentence for the agent plus what fixes it."""

from __future__ import annotations

from app.domain.errors import CallwiseError


class MailError(CallwiseError):
    """An email that cannot be composed, or a mail setup that cannot work, as the agent reads it.

    Delivery failures are not errors: `SmtpMailer.send` returns them as a `DeliveryResult`, so
    the attempt is recorded like any other (OB-NOTIFY).
    """
