"""Phone numbers as agents type them, and the time zones a call to them may ring in.

Parsing is the slow part of a verdict (tens of microseconds), and the same few numbers are
evaluated again on every tick of the dial gate, so parses and zone look-ups are cached per
process. Both caches hold immutable values only, so sharing them across threads is safe.
"""

from __future__ import annotations

import importlib.resources
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

ZoneSource = Literal["service address", "phone number", "unknown"]

_UNKNOWN_ZONE = "Etc/Unknown"


@lru_cache(maxsize=1)
def _kinds() -> tuple[frozenset[int], dict[int, str]]:
    """`phonenumbers` is imported on the first parse, not with this module: with its metadata it
    is about 20 ms of the desktop's start-up, and no number is read before the records are open
    (the desktop warms it up on its worker then, see `warm_up`)."""
    from phonenumbers import PhoneNumberType, ValidationResult

    # Numbers of these kinds are not tied to a place: phonenumbers maps a US toll-free number to
    # every zone of the NANP, which says nothing about where the customer is.
    non_geographic = frozenset({
        PhoneNumberType.TOLL_FREE,
        PhoneNumberType.PREMIUM_RATE,
        PhoneNumberType.SHARED_COST,
        PhoneNumberType.PERSONAL_NUMBER,
        PhoneNumberType.UAN,
        PhoneNumberType.VOICEMAIL,
        PhoneNumberType.PAGER,
    })
    possible_problems = {
        ValidationResult.INVALID_COUNTRY_CODE: "its country code does not exist",
        ValidationResult.TOO_SHORT: "it is too short",
        ValidationResult.TOO_LONG: "it is too long",
        ValidationResult.INVALID_LENGTH: "it has the wrong number of digits",
        ValidationResult.IS_POSSIBLE_LOCAL_ONLY: "it lacks its area code",
    }
    return non_geographic, possible_problems


@dataclass(frozen=True)
class ParsedNumber:
    """One typed number, read once. `problem` is a plain-words reason when it is not valid."""

    raw: str
    valid: bool
    e164: str | None = None
    country_code: int | None = None
    national_number: str | None = None  # national significant number, digits only
    region: str | None = None  # ISO region ("US", "GB"), when known
    country_name: str = ""
    international_format: str | None = None
    extension: str | None = None
    toll_free: bool = False
    geographic: bool = True
    zones: tuple[str, ...] = ()  # the number's zones as phonenumbers knows them
    problem: str | None = None


@dataclass(frozen=True)
class ZoneDecision:
    """Where the customer's local time is read, and why; `zones` is empty when unknown."""

    zones: tuple[str, ...]
    source: ZoneSource
    explanation: str


@lru_cache(maxsize=1)
def _region_names() -> dict[str, str]:
    # Not phonenumbers.geocoder: importing its geographic data costs ~250 ms of start-up.
    raw = importlib.resources.files("resources.policy").joinpath("regions.toml").read_bytes()
    names = tomllib.loads(raw.decode("utf-8"))["names"]
    return {str(k): str(v) for k, v in names.items()}


def country_name(region: str | None) -> str:
    """English name of an ISO region ("GB" → "United Kingdom"); the code itself if unknown."""
    if not region:
        return ""
    return _region_names().get(region, region)


@lru_cache(maxsize=4096)
def parse_number(text: str, default_region: str = "US") -> ParsedNumber:
    """Read a number the way a person typed it; never raises."""
    import phonenumbers
    from phonenumbers import PhoneNumberFormat, PhoneNumberType
    from phonenumbers import timezone as pn_timezone

    non_geographic, possible_problems = _kinds()
    raw = text
    if not text.strip():
        return ParsedNumber(raw=raw, valid=False, problem="no number was entered")
    try:
        num = phonenumbers.parse(text, default_region)
    except phonenumbers.NumberParseException:
        return ParsedNumber(raw=raw, valid=False,
                            problem="it does not look like a phone number")
    national = phonenumbers.national_significant_number(num)
    cc = num.country_code
    if not phonenumbers.is_valid_number(num):
        reason = phonenumbers.is_possible_number_with_reason(num)
        problem = possible_problems.get(reason, "no such number can exist")
        return ParsedNumber(raw=raw, valid=False, country_code=cc, national_number=national,
                            problem=problem)
    kind = phonenumbers.number_type(num)
    zones = tuple(z for z in pn_timezone.time_zones_for_number(num) if z != _UNKNOWN_ZONE)
    region = phonenumbers.region_code_for_number(num)
    return ParsedNumber(
        raw=raw,
        valid=True,
        e164=phonenumbers.format_number(num, PhoneNumberFormat.E164),
        country_code=cc,
        national_number=national,
        region=region,
        country_name=country_name(region),
        international_format=phonenumbers.format_number(num, PhoneNumberFormat.INTERNATIONAL),
        extension=num.extension or None,
        toll_free=kind == PhoneNumberType.TOLL_FREE,
        geographic=kind not in non_geographic,
        zones=zones,
    )


def is_valid(text: str, default_region: str = "US") -> bool:
    return parse_number(text, default_region).valid


def to_e164(text: str, default_region: str = "US") -> str | None:
    """The stored form of a number ("+13125550142"), or None when it is not a valid number."""
    return parse_number(text, default_region).e164


def is_toll_free(text: str, default_region: str = "US") -> bool:
    return parse_number(text, default_region).toll_free


def dial_string(number: str | ParsedNumber, *, default_region: str = "US",
                home_country_code: int = 1, national_prefix: str = "1",
                international_prefix: str = "011") -> str | None:
    """What the agent's line dials, digits only; None for an invalid number.

    Home-country numbers: national prefix + national number ("1" + "3125550142");
    anything else: international prefix + country code + national number (seed 002:
    "Dial 011+DestinationCountryCode+PhoneNumber"). Extensions are never part of it: they are
    keyed in after the call connects.
    """
    parsed = number if isinstance(number, ParsedNumber) else parse_number(number, default_region)
    if not parsed.valid or parsed.national_number is None or parsed.country_code is None:
        return None
    if parsed.country_code == home_country_code:
        return f"{national_prefix}{parsed.national_number}"
    return f"{international_prefix}{parsed.country_code}{parsed.national_number}"


@lru_cache(maxsize=512)
def zone_exists(name: str) -> bool:
    """True when `name` is an IANA zone this machine's tz database knows."""
    if not name or name.startswith("/") or ".." in name:
        return False
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


@lru_cache(maxsize=4096)
def _zones_for(number: str, service_zone: str | None, default_region: str) -> ZoneDecision:
    if service_zone is not None:
        if zone_exists(service_zone):
            return ZoneDecision((service_zone,), "service address",
                                "from the account's service address")
        return ZoneDecision((), "unknown",
                            f"the service address zone “{service_zone}” is not a known time "
                            "zone")
    parsed = parse_number(number, default_region)
    if not parsed.valid:
        return ZoneDecision((), "unknown",
                            "the number is not valid and the account has no service address "
                            "zone")
    if parsed.toll_free:
        return ZoneDecision((), "unknown",
                            "toll-free numbers are not tied to a place and the account has no "
                            "service address zone")
    if not parsed.geographic:
        return ZoneDecision((), "unknown",
                            "this kind of number is not tied to a place and the account has no "
                            "service address zone")
    zones = tuple(z for z in parsed.zones if zone_exists(z))
    if not zones:
        return ZoneDecision((), "unknown",
                            "the number's time zone is not known and the account has no service "
                            "address zone")
    if len(zones) == 1:
        return ZoneDecision(zones, "phone number", "from the phone number")
    return ZoneDecision(zones, "phone number",
                        "from the phone number, whose area spans several time zones")


def zones_for(number: str | ParsedNumber, service_zone: str | None,
              default_region: str = "US") -> ZoneDecision:
    """The customer's zones: the service address when known (it survives porting), else the
    number's. Unknown (empty) when neither says where the customer is."""
    raw = number.raw if isinstance(number, ParsedNumber) else number
    return _zones_for(raw, service_zone, default_region)


def zone_city(zone: str) -> str:
    """A person's name for a zone id: "America/North_Dakota/Center" → "Center, North Dakota"."""
    parts = zone.split("/")
    city = parts[-1].replace("_", " ")
    if len(parts) > 2:
        city = f"{city}, {parts[-2].replace('_', ' ')}"
    return city


def warm_up() -> None:
    """Imports `phonenumbers` and its zone data by reading one number, so the first number an
    agent dials or looks at is not the one that pays for it. Call it off the GUI thread."""
    parse_number("+1 312 555 0142")


def clear_caches() -> None:
    """For benchmarks that measure a cold cache; the caches never need clearing for correctness."""
    parse_number.cache_clear()
    _zones_for.cache_clear()
    zone_exists.cache_clear()
