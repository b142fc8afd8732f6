"""The mail server configuration refuses what cannot work, with the setting to fix."""

from __future__ import annotations

from typing import Any

import pytest

from app.domain.errors import CallwiseError
from app.mail.config import SmtpConfig


def config(**changes: Any) -> SmtpConfig:
    values: dict[str, Any] = {"host": "smtp.callwise-demo.example", "port": 587,
                              "security": "starttls",
                              "from_address": "service-assurance@callwise-demo.example"}
    return SmtpConfig(**(values | changes))


def test_describe_names_server_mode_and_login_but_no_secret() -> None:
    text = config(username="sa-mailer", ca_file="/etc/callwise/ca.pem").describe()
    assert text == ("smtp://smtp.callwise-demo.example:587 (starttls, login as sa-mailer, "
                    "CA file /etc/callwise/ca.pem), from service-assurance@callwise-demo.example")


@pytest.mark.parametrize(("changes", "expected"), [
    ({"host": ""}, "No mail server is configured"),
    ({"host": "smtp example"}, "contains spaces"),
    ({"port": 0}, "not a valid port"),
    ({"port": 70000}, "not a valid port"),
    ({"security": "ssl"}, "mail security mode 'ssl' is unknown"),
    ({"timeout_seconds": 0}, "more than zero seconds"),
    ({"from_address": "service-assurance"}, "smtp.from_address"),
    ({"from_address": ""}, "smtp.from_address"),
])
def test_unusable_settings_are_refused(changes: dict[str, Any], expected: str) -> None:
    with pytest.raises(CallwiseError) as caught:
        config(**changes)
    assert expected in caught.value.message
    assert caught.value.action
