"""`callwise customers import FILE.csv`: bulk-load customers (format: docs/import.md).

Every row is checked first (required fields, numbers parsed and normalised to E.164 with
phonenumbers, the service zone against the IANA database, dates, lengths, duplicate ids in the
file and in the records); every bad row is reported as FILE:LINE: reason, and all the good rows
are written in ONE transaction: a row is either imported whole (with all its numbers) or
reported, and if the database fails half-way nothing at all is imported.

Exit status: 0 every row imported; 1 some rows reported (the others imported, unless
--dry-run); 2 the file itself is unusable (not UTF-8 CSV, bad header): nothing imported;
3 the database is unreachable or refused the batch: nothing imported.

phonenumbers is imported where it is used: `callwise` builds this parser on every start,
including the desktop's, which must not pay for the numbering tables.
"""

from __future__ import annotations

import argparse
import csv
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TextIO
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from app.domain.customer import Customer, PhoneNumber
from app.ports.store import Store, StoreError, StoreUnavailable

EXIT_OK = 0
EXIT_ROWS_REPORTED = 1
EXIT_BAD_FILE = 2
EXIT_NOT_IMPORTED = 3

REQUIRED = ("account_number", "first_name", "last_name", "phone")
OPTIONAL = ("id", "other_phones", "line_of_business", "service_zone", "last_bill_amount",
            "device", "last_care_call")
# The store's column widths (app/storage/models.py): a longer value is reported, not cut.
MAX_LENGTH = {"id": 64, "account_number": 64, "first_name": 100, "last_name": 100,
              "line_of_business": 64, "service_zone": 64, "last_bill_amount": 32,
              "device": 200}
MAX_LABEL = 32
DEFAULT_LINE_OF_BUSINESS = "postpaid"


class BadFile(Exception):
    """The file cannot be read as a customer CSV at all."""


@dataclass(frozen=True)
class RowProblem:
    line: int
    reason: str


@dataclass
class Parsed:
    customers: list[tuple[int, Customer]] = field(default_factory=list)  # (line, customer)
    problems: list[RowProblem] = field(default_factory=list)


def derived_id(account_number: str) -> str:
    """The id of a row without one: stable, so importing the same file twice reports every row
    as already there instead of making duplicates."""
    return "acct-" + "".join(ch for ch in account_number.casefold() if ch.isalnum())


def parse_number(text: str, region: str) -> str:
    """E.164 for a number typed any way; ValueError with the reason otherwise."""
    import phonenumbers  # here, not at the top: building the CLI parser must stay cheap

    try:
        parsed = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException as exc:
        raise ValueError(f"{text!r} is not a phone number ({exc._msg})") from exc
    if not phonenumbers.is_valid_number(parsed):
        where = "" if text.strip().startswith("+") else f" in region {region}"
        raise ValueError(f"{text!r} is not a valid phone number{where}")
    return str(phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164))


def _numbers(primary: str, others: str, region: str) -> tuple[PhoneNumber, ...]:
    numbers = [PhoneNumber(parse_number(primary, region), "primary")]
    for i, item in enumerate((p for p in others.split(";") if p.strip()), start=1):
        label, sep, number = item.partition(":")
        if not sep:
            label, number = f"alt{i}", item
        label = label.strip() or f"alt{i}"
        if len(label) > MAX_LABEL:
            raise ValueError(f"the label {label!r} is longer than {MAX_LABEL} characters")
        numbers.append(PhoneNumber(parse_number(number.strip(), region), label))
    seen: set[str] = set()
    for n in numbers:
        if n.number in seen:
            raise ValueError(f"the number {n.number} is listed twice")
        seen.add(n.number)
    return tuple(numbers)


def _zone(text: str) -> str | None:
    if not text:
        return None
    try:
        ZoneInfo(text)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"service_zone {text!r} is not an IANA time zone "
                         "(like America/Chicago)") from exc
    return text


def _date(text: str) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise ValueError(f"last_care_call {text!r} is not a date (YYYY-MM-DD)") from exc


def _row_to_customer(row: dict[str, str], region: str) -> Customer:
    for name in REQUIRED:
        if not row.get(name):
            raise ValueError(f"{name} is empty")
    for name, limit in MAX_LENGTH.items():
        if len(row.get(name, "")) > limit:
            raise ValueError(f"{name} is longer than {limit} characters")
    customer_id = row.get("id") or derived_id(row["account_number"])
    if len(customer_id) > MAX_LENGTH["id"]:
        raise ValueError(f"id is longer than {MAX_LENGTH['id']} characters")
    return Customer(
        id=customer_id, first_name=row["first_name"], last_name=row["last_name"],
        account_number=row["account_number"],
        numbers=_numbers(row["phone"], row.get("other_phones", ""), region),
        line_of_business=row.get("line_of_business") or DEFAULT_LINE_OF_BUSINESS,
        service_zone=_zone(row.get("service_zone", "")),
        last_bill_amount=row.get("last_bill_amount") or None,
        device=row.get("device") or None,
        last_care_call=_date(row.get("last_care_call", "")))


def _records(stream: TextIO) -> Iterator[tuple[int, list[str]]]:
    """(first line of the record, fields), blank lines skipped; quoted fields may span lines."""
    reader = csv.reader(stream, strict=True)
    start = 1
    try:
        for fields in reader:
            if any(f.strip() for f in fields):
                yield start, fields
            start = reader.line_num + 1
    except csv.Error as exc:
        raise BadFile(f"line {reader.line_num}: not valid CSV ({exc})") from exc
    except UnicodeDecodeError as exc:
        raise BadFile(f"not UTF-8 text ({exc.reason} at byte {exc.start})") from exc


def read_customers(stream: TextIO, region: str = "US") -> Parsed:
    """Checks every row; raises BadFile when the header or the file itself is unusable."""
    records = _records(stream)
    first = next(records, None)
    if first is None:
        raise BadFile("the file is empty; the first line must name the columns")
    header_line, header = first
    names = [h.strip().lower() for h in header]
    unknown = [n for n in names if n not in REQUIRED + OPTIONAL]
    missing = [n for n in REQUIRED if n not in names]
    duplicated = sorted({n for n in names if names.count(n) > 1})
    if unknown or missing or duplicated:
        parts = []
        if missing:
            parts.append("missing column(s) " + ", ".join(missing))
        if unknown:
            parts.append("unknown column(s) " + ", ".join(unknown))
        if duplicated:
            parts.append("repeated column(s) " + ", ".join(duplicated))
        raise BadFile(f"line {header_line}: " + "; ".join(parts)
                      + f". Columns are {', '.join(REQUIRED)} (required) and "
                      + ", ".join(OPTIONAL) + " (optional).")
    parsed = Parsed()
    first_line_of: dict[str, int] = {}
    for line, fields in records:
        if len(fields) != len(names):
            parsed.problems.append(RowProblem(
                line, f"has {len(fields)} fields, the header has {len(names)}"))
            continue
        row = {n: f.strip() for n, f in zip(names, fields, strict=True)}
        try:
            customer = _row_to_customer(row, region)
        except ValueError as exc:
            parsed.problems.append(RowProblem(line, str(exc)))
            continue
        earlier = first_line_of.get(customer.id)
        if earlier is not None:
            parsed.problems.append(RowProblem(
                line, f"customer {customer.id} is already on line {earlier}"))
            continue
        first_line_of[customer.id] = line
        parsed.customers.append((line, customer))
    return parsed


@dataclass(frozen=True)
class ImportResult:
    imported: int
    problems: list[RowProblem]


def import_customers(store: Store, parsed: Parsed, *, source: str, now: datetime,
                     dry_run: bool = False) -> ImportResult:
    """Writes the good rows in one unit of work, with one audit entry naming the file. Rows
    whose id is already stored are reported, not written. Raises StoreError (nothing written)."""
    problems = list(parsed.problems)
    with store.unit_of_work() as uow:
        stored = uow.customers.existing_ids(c.id for _, c in parsed.customers)
        good: list[Customer] = []
        for line, customer in parsed.customers:
            if customer.id in stored:
                problems.append(RowProblem(line, f"customer {customer.id} is already in the "
                                                 "records"))
            else:
                good.append(customer)
        if not dry_run and good:
            uow.customers.add_many(good)
            uow.audit.append("customers_imported", source,
                             {"file": source, "imported": len(good),
                              "reported": len(problems)}, now)
            uow.commit()
    problems.sort(key=lambda p: p.line)
    return ImportResult(0 if dry_run else len(good), problems)


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    customers = sub.add_parser("customers", help="import customers from a CSV file",
                               description="Manage the customer records.")
    commands = customers.add_subparsers(dest="customers_command", metavar="COMMAND",
                                        required=True)
    imp = commands.add_parser(
        "import", help="import customers from a CSV file (format: docs/import.md)",
        description="Check every row, report bad ones as FILE:LINE: reason, and import all "
                    "good rows in one transaction. Exit 0 all imported, 1 rows reported, "
                    "2 unusable file, 3 database unreachable or refused (nothing imported).")
    imp.add_argument("file", help="UTF-8 CSV file with a header line")
    imp.add_argument("--region", default="US", metavar="CC",
                     help="country for numbers written without +country code (default US)")
    imp.add_argument("--dry-run", action="store_true",
                     help="check and report only; import nothing")
    imp.add_argument("--database", metavar="URL", default=argparse.SUPPRESS,
                     help="records database (default: the configured one)")
    imp.add_argument("--data-dir", metavar="DIR", default=argparse.SUPPRESS,
                     help=argparse.SUPPRESS)
    imp.set_defaults(func=run_import)


def _report(name: str, problems: Iterable[RowProblem], err: TextIO) -> None:
    for p in problems:
        print(f"{name}:{p.line}: {p.reason}", file=err)


def run_import(args: argparse.Namespace) -> int:
    import phonenumbers

    out, err = sys.stdout, sys.stderr
    path = Path(args.file)
    region = args.region.upper()
    if region not in phonenumbers.SUPPORTED_REGIONS:
        print(f"error: {args.region!r} is not a region phonenumbers knows (like US, GB)",
              file=err)
        return EXIT_BAD_FILE
    try:
        with path.open(encoding="utf-8-sig", newline="") as stream:
            parsed = read_customers(stream, region)
    except OSError as exc:
        print(f"error: cannot read {path}: {exc.strerror}", file=err)
        return EXIT_BAD_FILE
    except BadFile as exc:
        print(f"{path}: {exc} Nothing was imported.", file=err)
        return EXIT_BAD_FILE

    from app.cli.db import database_url
    from app.storage import open_store

    try:
        store = open_store(database_url(args))
        try:
            result = import_customers(store, parsed, source=path.name,
                                      now=datetime.now(UTC), dry_run=args.dry_run)
        finally:
            store.close()
    except (StoreError, StoreUnavailable) as exc:
        _report(str(path), parsed.problems, err)
        print(f"error: {exc.message} Nothing was imported.", file=err)
        return EXIT_NOT_IMPORTED
    _report(str(path), result.problems, err)
    verb = "would import" if args.dry_run else "imported"
    count = len(parsed.customers) - (len(result.problems) - len(parsed.problems)) \
        if args.dry_run else result.imported
    print(f"{verb} {count} customer(s); {len(result.problems)} row(s) reported"
          + (" and not imported" if result.problems else ""), file=out)
    return EXIT_ROWS_REPORTED if result.problems else EXIT_OK
