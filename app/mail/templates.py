"""Email templates shipped in `resources/templates/<name>.toml`, read on demand (never at import)."""

from __future__ import annotations

import tomllib
from importlib import resources

from app.mail.compose import EmailTemplate, parse_template
from app.mail.errors import MailError

SA_EMAIL = "sa_email"


def load_email_template(name: str = SA_EMAIL) -> EmailTemplate:
    """Reads and checks a template; a broken or missing one is a `MailError`, not a crash."""
    resource = resources.files("resources.templates").joinpath(f"{name}.toml")
    try:
        data = tomllib.loads(resource.read_text(encoding="utf-8"))
    except FileNotFoundError as e:
        raise MailError(f"The email template '{name}' is not installed.",
                        action="Reinstall Callwise.") from e
    except tomllib.TOMLDecodeError as e:
        raise MailError(f"The email template '{name}' is not valid TOML: {e}.",
                        action="Reinstall Callwise.") from e
    return parse_template(name, data)
