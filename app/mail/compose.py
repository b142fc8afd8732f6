"""The Service Assurance email (SA-EMAILFIRST), composed from a template; pure, no I/O.

Before calling back a customer whose request came in by email, the specialist emails them first:
why we will call, the windows we can call in (in the customer's own time zone), what happens next,
and a request to confirm the best date and time. The same email tells them troubleshooting can
happen on the call and that account changes need authentication, so they should have their PIN or
passcode ready but never send it by email (SA-PREPARE), and that they can call the support number
instead (SA-ALTERNATIVE). The wording lives in `resources/templates/sa_email.toml`; this module
checks the inputs, fills the template and builds the message. Any thread may call it.
"""

from __future__ import annotations

import string
import textwrap
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import TYPE_CHECKING, Any, NamedTuple
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from app.mail.errors import MailError

if TYPE_CHECKING:
    # The `email` package (about 12 ms of imports) is loaded by the functions that build or read
    # an address or a message: the desk service imports this module on the desktop's start-up
    # path, while an email is composed rarely, and then on the desk worker.
    from email.headerregistry import Address
    from email.message import EmailMessage

WRAP_COLUMN = 72  # plain-text mail convention: readable in any client, no quoted-printable soft breaks

# Every placeholder a template may use, and the ones the SA email must contain (SA-EMAILFIRST:
# purpose, windows with their zone, next steps; SA-ALTERNATIVE: the support number; SA-ORIGIN: the
# ticket the callback is about). Windows and next steps are several lines, so never in a subject.
PLACEHOLDERS = frozenset({"first_name", "agent_name", "company", "ticket_ref", "purpose", "windows",
                          "zone", "next_steps", "support_number"})
REQUIRED_IN_BODY = frozenset({"first_name", "purpose", "windows", "zone", "next_steps",
                              "support_number", "ticket_ref"})
MULTILINE = frozenset({"windows", "next_steps"})

_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
           "October", "November", "December")


class Window(NamedTuple):
    """A time the specialist can call, as wall-clock times on `day` in the customer's zone."""

    day: date
    start: time
    end: time


@dataclass(frozen=True)
class SaEmail:
    """What the specialist fills in. `windows` are in the customer's zone `zone` (IANA name)."""

    first_name: str
    address: str
    purpose: str
    windows: Sequence[tuple[date, time, time]]
    zone: str
    next_steps: Sequence[str]
    ticket_ref: str
    company_name: str
    support_number: str
    agent_name: str


@dataclass(frozen=True)
class EmailTemplate:
    """A subject and a plain-text body with `{placeholder}`s, checked when parsed."""

    name: str
    subject: str
    body: str


# -- validation ----------------------------------------------------------------------------------


def _placeholders(text: str, where: str) -> set[str]:
    names: set[str] = set()
    try:
        parsed = list(string.Formatter().parse(text))
    except ValueError as e:
        raise MailError(f"The {where} has a broken placeholder: {e}.",
                        action="Write placeholders as {name}, and literal braces as {{ and }}.") from e
    for _, field, spec, conversion in parsed:
        if field is None:
            continue
        if field not in PLACEHOLDERS or spec or conversion:
            raise MailError(f"The {where} uses an unknown placeholder {{{field}}}.",
                            action="Use only: " + ", ".join(sorted(PLACEHOLDERS)) + ".")
        names.add(field)
    return names


def parse_template(name: str, data: Mapping[str, Any]) -> EmailTemplate:
    """Checks a template's TOML table: a one-line subject and a body carrying what the policy needs."""
    subject, body = data.get("subject"), data.get("body")
    if not isinstance(subject, str) or not subject.strip():
        raise MailError(f"The email template '{name}' has no subject.", action="Add subject = \"...\".")
    if not isinstance(body, str) or not body.strip():
        raise MailError(f"The email template '{name}' has no body.", action="Add body = \"\"\"...\"\"\".")
    if _has_control(subject):
        raise MailError(f"The subject of email template '{name}' is not on one line.",
                        action="Put the subject on a single line.")
    in_subject = _placeholders(subject, f"subject of email template '{name}'")
    if in_subject & MULTILINE:
        raise MailError(f"The subject of email template '{name}' uses a multi-line placeholder "
                        f"({', '.join(sorted(in_subject & MULTILINE))}).",
                        action="Move it to the body.")
    missing = REQUIRED_IN_BODY - _placeholders(body, f"body of email template '{name}'")
    if missing:
        raise MailError(f"The body of email template '{name}' lacks " +
                        ", ".join("{" + m + "}" for m in sorted(missing)) + ".",
                        action="The Service Assurance email must state the purpose, the windows "
                               "with their time zone, the next steps, the ticket and the support "
                               "number (SA-EMAILFIRST, SA-ALTERNATIVE).")
    return EmailTemplate(name, subject.strip(), body)


def _has_control(text: str) -> bool:
    # Cc covers CR, LF, TAB and NUL; Zl/Zp are the Unicode line and paragraph separators, which
    # some mail clients also treat as line breaks.
    return any(unicodedata.category(c) in ("Cc", "Zl", "Zp") for c in text)


def _one_line(value: str, what: str, *, required: bool = True) -> str:
    value = value.strip()
    if required and not value:
        raise MailError(f"The email needs {what}.", action=f"Fill in {what}.")
    if _has_control(value):
        # A line break in a value that reaches a header would let it add headers (say a Bcc).
        raise MailError(f"{what[0].upper()}{what[1:]} contains a line break or control character.",
                        action=f"Retype {what} on a single line.")
    return value


def parse_address(text: str, what: str, action: str | None = None) -> Address:
    """One plain address ("ana@example.com"), its domain in ASCII so any mail server takes it."""
    from email import errors as email_errors
    from email.headerregistry import Address

    fix = action or f"Correct {what}; it must look like name@example.com."
    text = _one_line(text, what)
    try:
        address = Address(addr_spec=text)
    except (ValueError, IndexError, email_errors.MessageError) as e:
        raise MailError(f"{what[0].upper()}{what[1:]} {text!r} is not a valid email address.",
                        action=fix) from e
    domain = address.domain
    if not address.username or "." not in domain.strip(".") or domain.startswith("["):
        raise MailError(f"{what[0].upper()}{what[1:]} {text!r} is not a valid email address "
                        "(it needs a domain such as example.com).", action=fix)
    try:
        ascii_domain = domain.encode("idna").decode("ascii")
    except UnicodeError as e:
        raise MailError(f"The domain of {what} {text!r} is not a valid internet domain.",
                        action=fix) from e
    return Address(username=address.username, domain=ascii_domain)


def _windows(mail: SaEmail, zone: ZoneInfo, now: datetime) -> list[Window]:
    if not mail.windows:
        raise MailError("The email offers no time to call back.",
                        action="Add at least one availability window (date, start and end time).")
    windows = sorted(Window(*w) for w in mail.windows)
    for w in windows:
        label = f"{_day(w.day)}, {_clock(w.start)} to {_clock(w.end)}"
        if w.end <= w.start:
            raise MailError(f"The window {label} ends before it starts.",
                            action="Make the end time later than the start time; a window cannot "
                                   "cross midnight, so split it into two.")
        if datetime.combine(w.day, w.end, tzinfo=zone) <= now:
            raise MailError(f"The window {label} ({mail.zone}) is already over.",
                            action="Offer windows that are still ahead.")
    return windows


# -- rendering -----------------------------------------------------------------------------------


def _day(d: date) -> str:
    return f"{_DAYS[d.weekday()]}, {_MONTHS[d.month - 1]} {d.day}, {d.year}"


def _clock(t: time) -> str:
    return f"{t.hour % 12 or 12}:{t.minute:02d} {'AM' if t.hour < 12 else 'PM'}"


def _window_line(w: Window, zone: ZoneInfo) -> str:
    abbreviation = datetime.combine(w.day, w.start, tzinfo=zone).tzname() or ""
    return f"- {_day(w.day)}: {_clock(w.start)} to {_clock(w.end)} {abbreviation}".rstrip()


def _wrap(text: str) -> str:
    """Wraps long lines; list items ("- ...") keep a hanging indent. Hyphens never break, so
    1-800 numbers and ticket refs stay whole."""
    out: list[str] = []
    for line in text.splitlines():
        if len(line) <= WRAP_COLUMN:
            out.append(line)
            continue
        stripped = line.lstrip()
        indent = line[: len(line) - len(stripped)]
        hanging = indent + ("  " if stripped.startswith("- ") else "")
        out.append(textwrap.fill(line, WRAP_COLUMN, subsequent_indent=hanging,
                                 break_long_words=False, break_on_hyphens=False))
    return "\n".join(out) + "\n"


def compose_sa_email(mail: SaEmail, template: EmailTemplate, *, from_address: str,
                     now: datetime) -> EmailMessage:
    """The email to send, or a `MailError` saying which input is wrong and how to fix it.

    `now` (aware) dates the message and rules out windows that are already over.
    """
    if now.tzinfo is None:
        raise ValueError("compose_sa_email needs an aware `now`")
    to = parse_address(mail.address, "the customer's email address")
    sender = parse_address(from_address, "the sender address (smtp.from_address)",
                           action="Ask IT to correct smtp.from_address in the machine configuration.")
    first_name = _one_line(mail.first_name, "the customer's first name")
    company = _one_line(mail.company_name, "the company name")
    agent = _one_line(mail.agent_name, "your name")
    ticket = _one_line(mail.ticket_ref, "the ticket or email reference")
    purpose = _one_line(mail.purpose, "the purpose of the callback")
    support = _one_line(mail.support_number, "the support number (company.support_number)")
    zone_name = _one_line(mail.zone, "the customer's time zone")
    try:
        zone = ZoneInfo(zone_name)
    except (ZoneInfoNotFoundError, ValueError) as e:
        raise MailError(f"The time zone {zone_name!r} is unknown.",
                        action="Use a zone name such as America/Chicago.") from e
    windows = _windows(mail, zone, now)
    steps = [s for s in (_one_line(s, "a next step", required=False) for s in mail.next_steps) if s]
    if not steps:
        raise MailError("The email does not say what happens next.",
                        action="Add at least one expected next step.")

    values = {
        "first_name": first_name, "agent_name": agent, "company": company, "ticket_ref": ticket,
        "purpose": purpose, "zone": zone_name, "support_number": support,
        "windows": "\n".join(_window_line(w, zone) for w in windows),
        "next_steps": "\n".join(f"- {s}" for s in steps),
    }
    subject = template.subject.format_map(values)
    body = _wrap(template.body.format_map(values).strip())

    from email.headerregistry import Address
    from email.message import EmailMessage
    from email.utils import format_datetime, make_msgid

    message = EmailMessage()
    message["From"] = Address(f"{agent}, {company}", sender.username, sender.domain)
    message["To"] = Address(first_name, to.username, to.domain)
    message["Subject"] = subject
    message["Date"] = format_datetime(now)
    message["Message-ID"] = make_msgid(domain=sender.domain)
    # Quoted-printable keeps a non-ASCII name readable by servers without 8BITMIME.
    message.set_content(body, cte=None if body.isascii() else "quoted-printable")
    return message


def body_text(message: EmailMessage) -> str:
    """The plain-text body, as stored on the `Notification` record."""
    return str(message.get_content())
