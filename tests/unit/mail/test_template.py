"""Template checks: a template that would drop what the policy requires is refused, not sent."""

from __future__ import annotations

import pytest

from app.domain.errors import CallwiseError
from app.mail.compose import REQUIRED_IN_BODY, compose_sa_email, parse_template
from app.mail.templates import load_email_template
from tests.unit.mail.builders import FROM_ADDRESS, NOW, sa_email

BODY = ("Hi {first_name}, about {ticket_ref}: {purpose}\nTimes ({zone}):\n{windows}\n"
        "Next:\n{next_steps}\nOr call {support_number}.")


def test_the_shipped_template_loads_and_carries_the_fixed_advice() -> None:
    template = load_email_template("sa_email")
    assert template.name == "sa_email"
    flat = " ".join(template.body.split())
    assert "PIN or passcode ready" in flat
    assert "Never send your PIN or passcode by email" in flat
    assert "call us directly at {support_number}" in flat


def test_a_missing_template_is_an_expected_error() -> None:
    with pytest.raises(CallwiseError, match="'no_such_template' is not installed"):
        load_email_template("no_such_template")


def test_a_minimal_valid_template_composes() -> None:
    template = parse_template("t", {"subject": "Ticket {ticket_ref} {{draft}}", "body": BODY})
    message = compose_sa_email(sa_email(), template, from_address=FROM_ADDRESS, now=NOW)
    assert message["Subject"] == "Ticket SA-20250301-0042 {draft}"


@pytest.mark.parametrize("placeholder", sorted(REQUIRED_IN_BODY))
def test_a_body_without_a_required_placeholder_is_refused(placeholder: str) -> None:
    body = BODY.replace("{" + placeholder + "}", "")
    with pytest.raises(CallwiseError) as caught:
        parse_template("t", {"subject": "Hello", "body": body})
    assert "{" + placeholder + "}" in caught.value.message


@pytest.mark.parametrize(("data", "expected"), [
    ({"body": BODY}, "has no subject"),
    ({"subject": "Hi", "body": "  "}, "has no body"),
    ({"subject": "Hi\nBcc: x@evil.example", "body": BODY}, "not on one line"),
    ({"subject": "Hi {pin}", "body": BODY}, "unknown placeholder {pin}"),
    ({"subject": "Hi {first_name!r}", "body": BODY}, "unknown placeholder {first_name}"),
    ({"subject": "Hi {first_name.__class__}", "body": BODY}, "unknown placeholder"),
    ({"subject": "Times {windows}", "body": BODY}, "multi-line placeholder (windows)"),
    ({"subject": "Hi {", "body": BODY}, "broken placeholder"),
])
def test_broken_templates_are_refused(data: dict[str, str], expected: str) -> None:
    with pytest.raises(CallwiseError) as caught:
        parse_template("t", data)
    assert expected in caught.value.message
    assert caught.value.action
