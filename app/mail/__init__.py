"""The mail adapter: the Service Assurance email (SA-EMAILFIRST) composed and sent over SMTP.

The only place that imports `smtplib` (and the only user of the `email` package). Composition is
pure and may run anywhere; sending blocks on the network, so it runs on a worker thread, never the
GUI thread, and reports failures as a `DeliveryResult` to be recorded as a `Notification`.

The names below are loaded on first use: the desk service imports `app.mail.compose` on the
desktop's start-up path, and importing this package must not bring `smtplib` and `ssl` with it
(the mailer is built on the desk worker, and only when IT configured a mail server).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from app.mail.compose import EmailTemplate, SaEmail, Window, body_text, compose_sa_email
    from app.mail.config import SmtpConfig
    from app.mail.errors import MailError
    from app.mail.smtp import DeliveryResult, SmtpMailer
    from app.mail.templates import SA_EMAIL, load_email_template

_HOMES = {
    "EmailTemplate": "compose", "SaEmail": "compose", "Window": "compose", "body_text": "compose",
    "compose_sa_email": "compose", "SmtpConfig": "config", "MailError": "errors",
    "DeliveryResult": "smtp", "SmtpMailer": "smtp", "SA_EMAIL": "templates",
    "load_email_template": "templates",
}

__all__ = ["SA_EMAIL", "DeliveryResult", "EmailTemplate", "MailError", "SaEmail", "SmtpConfig",
           "SmtpMailer", "Window", "body_text", "compose_sa_email", "load_email_template"]


def __getattr__(name: str) -> object:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{home}"), name)
    globals()[name] = value
    return value
