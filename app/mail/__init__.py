"""The mail adapter: the Service Assurance email (SA-EMAILFIRST) composed and sent over SMTP.

The only place that imports `smtplib` (and the only user of the `email` package). Composition is
pure and may run anywhere; sending blocks on the network, so it runs on a worker thread, never the
GUI thread, and reports failures as a `DeliveryResult` to be recorded as a `Notification`.
"""

from app.mail.compose import EmailTemplate, SaEmail, Window, body_text, compose_sa_email
from app.mail.config import SmtpConfig
from app.mail.errors import MailError
from app.mail.smtp import DeliveryResult, SmtpMailer
from app.mail.templates import SA_EMAIL, load_email_template

__all__ = ["SA_EMAIL", "DeliveryResult", "EmailTemplate", "MailError", "SaEmail", "SmtpConfig",
           "SmtpMailer", "Window", "body_text", "compose_sa_email", "load_email_template"]
