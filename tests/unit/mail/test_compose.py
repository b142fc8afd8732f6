"""The Service Assurance email as the customer reads it (SA-EMAILFIRST, SA-PREPARE, SA-ALTERNATIVE)."""

from __future__ import annotations

import re
from datetime import date, datetime, time
from email.utils import parsedate_to_datetime

import pytest

from app.domain.errors import CallwiseError
from app.mail.compose import EmailTemplate, body_text, compose_sa_email
from app.mail.templates import load_email_template
from tests.unit.mail.builders import FROM_ADDRESS, NOW, PURPOSE, STEP_1, STEP_2, sa_email


@pytest.fixture(scope="module")
def template() -> EmailTemplate:
    return load_email_template()


def test_email_carries_everything_the_policy_asks_for(template: EmailTemplate) -> None:
    message = compose_sa_email(sa_email(), template, from_address=FROM_ADDRESS, now=NOW)
    body = body_text(message)
    flat = " ".join(body.split())  # wrapping may break a sentence anywhere

    assert message["To"].addresses[0].addr_spec == "ana.garcia@example.com"
    assert message["From"].addresses[0].addr_spec == FROM_ADDRESS
    assert "SA-20250301-0042" in message["Subject"]
    assert parsedate_to_datetime(message["Date"]) == NOW
    assert body.startswith("Hi Ana,")
    # Purpose, windows (chronological, with the zone), next steps, and the request to confirm.
    assert PURPOSE in flat
    assert "America/Chicago" in body
    tuesday = body.index("- Tuesday, March 4, 2025: 9:00 AM to 11:30 AM CST")
    wednesday = body.index("- Wednesday, March 5, 2025: 2:00 PM to 4:00 PM CST")
    assert tuesday < wednesday
    assert f"- {STEP_1}" in flat and f"- {STEP_2}" in flat
    assert "reply to this email with the date and time that suits you best" in flat
    # SA-PREPARE: troubleshooting on the call, authentication, PIN ready but never by email.
    assert "troubleshoot together during the call" in flat
    assert "require authentication" in flat
    assert "have your account PIN or passcode ready" in flat
    assert "Never send your PIN or passcode by email" in flat
    # SA-ALTERNATIVE: the support number, whole on one line, and the ticket to quote.
    assert "call us directly at 1-800-555-0100" in flat
    assert any("1-800-555-0100" in line for line in body.splitlines())
    assert flat.count("SA-20250301-0042") >= 2


def test_lines_are_wrapped_for_plain_text_readers(template: EmailTemplate) -> None:
    long_purpose = ("Finish the troubleshooting we started on ticket SA-20250301-0042, because the "
                    "router keeps dropping the connection every evening between seven and nine")
    message = compose_sa_email(sa_email(purpose=long_purpose), template,
                               from_address=FROM_ADDRESS, now=NOW)
    body = body_text(message)
    assert max(len(line) for line in body.splitlines()) <= 72
    assert long_purpose in " ".join(body.split())
    assert message["Content-Transfer-Encoding"] == "7bit"


def test_window_labels_follow_daylight_saving_in_the_customers_zone(template: EmailTemplate) -> None:
    # US daylight time starts on Sunday 9 March 2025.
    mail = sa_email(zone="America/Los_Angeles",
                    windows=[(date(2025, 3, 7), time(10), time(12)),
                             (date(2025, 3, 10), time(13, 15), time(14, 45))])
    body = body_text(compose_sa_email(mail, template, from_address=FROM_ADDRESS, now=NOW))
    assert "- Friday, March 7, 2025: 10:00 AM to 12:00 PM PST" in body
    assert "- Monday, March 10, 2025: 1:15 PM to 2:45 PM PDT" in body
    assert "America/Los_Angeles" in body


def test_non_ascii_names_reach_servers_without_8bitmime(template: EmailTemplate) -> None:
    message = compose_sa_email(sa_email(first_name="José", agent_name="Zoë Núñez"), template,
                               from_address=FROM_ADDRESS, now=NOW)
    assert bytes(message).isascii()
    assert message["Content-Transfer-Encoding"] == "quoted-printable"
    assert body_text(message).startswith("Hi José,")
    assert message["To"].addresses[0].display_name == "José"


def test_international_domain_is_sent_in_ascii(template: EmailTemplate) -> None:
    message = compose_sa_email(sa_email(address="ana@bücher.example"), template,
                               from_address=FROM_ADDRESS, now=NOW)
    assert message["To"].addresses[0].addr_spec == "ana@xn--bcher-kva.example"


def test_braces_typed_by_the_agent_are_not_placeholders(template: EmailTemplate) -> None:
    message = compose_sa_email(sa_email(purpose="Check the {support_number} setting on your modem"),
                               template, from_address=FROM_ADDRESS, now=NOW)
    assert "Check the {support_number} setting on your modem" in " ".join(body_text(message).split())


def test_a_window_may_still_be_under_way(template: EmailTemplate) -> None:
    # 09:00 in Chicago: a window from 08:00 to 10:00 today is still useful.
    mail = sa_email(windows=[(date(2025, 3, 3), time(8), time(10))])
    body = body_text(compose_sa_email(mail, template, from_address=FROM_ADDRESS, now=NOW))
    assert "- Monday, March 3, 2025: 8:00 AM to 10:00 AM CST" in body


@pytest.mark.parametrize(("changes", "expected"), [
    ({"address": ""}, "needs the customer's email address"),
    ({"address": "ana.garcia"}, "is not a valid email address"),
    ({"address": "ana@localhost"}, "needs a domain"),
    ({"address": "Ana <ana@example.com>"}, "is not a valid email address"),
    ({"address": "ana@example.com, boss@example.com"}, "is not a valid email address"),
    ({"address": "ana garcia@example.com"}, "is not a valid email address"),
    ({"address": "ana@example.com\r\nBcc: spy@evil.example"}, "line break"),
    ({"first_name": "Ana\r\nBcc: spy@evil.example"}, "first name contains a line break"),
    ({"first_name": " "}, "needs the customer's first name"),
    ({"ticket_ref": "SA-1\nX-Injected: yes"}, "reference contains a line break"),
    ({"company_name": "Demo\rTelecom"}, "company name contains a line break"),
    ({"agent_name": "Sam\u2028Rivera"}, "Your name contains a line break"),
    ({"purpose": ""}, "needs the purpose of the callback"),
    ({"support_number": ""}, "needs the support number"),
    ({"windows": []}, "offers no time to call back"),
    ({"windows": [(date(2025, 3, 4), time(11), time(9))]}, "ends before it starts"),
    ({"windows": [(date(2025, 3, 4), time(9), time(9))]}, "ends before it starts"),
    ({"windows": [(date(2025, 3, 3), time(7), time(8, 30))]}, "is already over"),
    ({"zone": "Mars/Olympus_Mons"}, "time zone 'Mars/Olympus_Mons' is unknown"),
    ({"next_steps": []}, "does not say what happens next"),
    ({"next_steps": ["  "]}, "does not say what happens next"),
    ({"next_steps": ["Call\nBcc: x"]}, "next step contains a line break"),
])
def test_invalid_input_is_refused_with_a_specific_message(template: EmailTemplate,
                                                          changes: dict[str, object],
                                                          expected: str) -> None:
    with pytest.raises(CallwiseError) as caught:
        compose_sa_email(sa_email(**changes), template, from_address=FROM_ADDRESS, now=NOW)
    assert expected in caught.value.message
    assert caught.value.action


def test_a_bad_sender_address_points_at_the_setting(template: EmailTemplate) -> None:
    with pytest.raises(CallwiseError) as caught:
        compose_sa_email(sa_email(), template, from_address="service-assurance", now=NOW)
    assert "smtp.from_address" in caught.value.message


def test_now_must_be_aware(template: EmailTemplate) -> None:
    with pytest.raises(ValueError, match="aware"):
        compose_sa_email(sa_email(), template, from_address=FROM_ADDRESS,
                         now=datetime(2025, 3, 3, 15))


def test_message_ids_are_unique_and_in_the_senders_domain(template: EmailTemplate) -> None:
    ids = {compose_sa_email(sa_email(), template, from_address=FROM_ADDRESS, now=NOW)["Message-ID"]
           for _ in range(3)}
    assert len(ids) == 3
    assert all(re.fullmatch(r"<[^@]+@callwise-demo\.example>", i) for i in ids)
