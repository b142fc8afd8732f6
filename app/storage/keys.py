"""Search keys: how names, account numbers and phone numbers are normalised for indexed lookup.

Everything is matched by PREFIX on an indexed column with a range condition
(`key >= p AND key < next(p)`), which uses a plain B-tree index on SQLite and PostgreSQL alike
(`LIKE 'p%'` would need NOCASE or text_pattern_ops indexes and behaves differently per backend).
Phone numbers are kept three ways so a number typed any way is a prefix of one of them:
E.164 digits ("13125550142"), national digits ("3125550142"), and the E.164 digits reversed,
which turns "ends with 0142" into a prefix match.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

import phonenumbers

_MIN_PREFIX_DIGITS = 3  # "312" finds a whole area code; fewer would find everyone
_MIN_SUFFIX_DIGITS = 4  # "0142": agents read the last four digits back to each other
_MIN_ACCOUNT_CHARS = 3


def fold(text: str) -> str:
    """Lower-case, accents dropped, punctuation to spaces, spaces collapsed: "José O'Neil-Díaz" →
    "jose o neil diaz". The same folding applies to stored names and typed text."""
    decomposed = unicodedata.normalize("NFKD", text)
    kept = []
    for ch in decomposed:
        if unicodedata.combining(ch):
            continue
        kept.append(ch if ch.isalnum() else " ")
    return " ".join("".join(kept).casefold().split())


def name_keys(first_name: str, last_name: str) -> tuple[str, str]:
    """("first last", "last first"): a prefix of either finds the customer, so "ana", "garcia",
    "ana gar" and "garcia, ana" all match Ana Garcia with two indexes."""
    first, last = fold(first_name), fold(last_name)
    return f"{first} {last}".strip(), f"{last} {first}".strip()


def account_key(account_number: str) -> str:
    """Letters and digits only, lower-cased: "ACC-100 42" → "acc10042"."""
    return "".join(ch for ch in fold(account_number) if ch.isalnum())


def digits_of(text: str) -> str:
    return "".join(ch for ch in text if ch.isdigit() and ch.isascii())


@dataclass(frozen=True)
class NumberKeys:
    e164_digits: str
    national_digits: str
    reversed_digits: str


def number_keys(e164: str) -> NumberKeys:
    """Keys for a stored E.164 number. The country code is found from phonenumbers' table of
    calling codes (1-3 digits, prefix-free) without a full parse, so bulk imports stay fast."""
    digits = digits_of(e164)
    national = digits
    for width in (1, 2, 3):
        if int(digits[:width] or "0") in phonenumbers.COUNTRY_CODE_TO_REGION_CODE:
            national = digits[width:]
            break
    return NumberKeys(digits, national, digits[::-1])


@dataclass(frozen=True)
class SearchPlan:
    """Which indexed prefixes one typed query probes; empty when there is nothing to look for."""

    name_prefix: str | None = None
    account_prefix: str | None = None
    number_prefixes: tuple[str, ...] = ()  # matched against E.164 and national digits
    reversed_suffix: str | None = None  # matched against reversed digits

    @property
    def empty(self) -> bool:
        return not (self.name_prefix or self.account_prefix or self.number_prefixes
                    or self.reversed_suffix)


def plan_search(text: str) -> SearchPlan:
    """Text with letters is a name or an account; text without letters is a number or an account.

    International prefixes are dropped ("011 44 20…", "00 44 20…" → "4420…") and so is a national
    trunk "0" ("020 7946 0958" → "2079460958"), since stored numbers carry neither.
    """
    stripped = text.strip()
    if not stripped:
        return SearchPlan()
    has_letters = any(ch.isalpha() for ch in stripped)
    account = account_key(stripped)
    account_prefix = account if len(account) >= _MIN_ACCOUNT_CHARS else None
    if has_letters:
        name = fold(stripped)
        return SearchPlan(name_prefix=name or None, account_prefix=account_prefix)
    digits = digits_of(stripped)
    prefixes: list[str] = []
    if len(digits) >= _MIN_PREFIX_DIGITS:
        prefixes.append(digits)
        for intl in ("011", "00"):
            if digits.startswith(intl):
                if len(digits) - len(intl) >= _MIN_PREFIX_DIGITS:
                    prefixes.append(digits[len(intl):])
                break
        else:
            if digits.startswith("0") and len(digits) >= 7:
                prefixes.append(digits[1:])
    suffix = digits[::-1] if len(digits) >= _MIN_SUFFIX_DIGITS else None
    return SearchPlan(account_prefix=account_prefix, number_prefixes=tuple(prefixes),
                      reversed_suffix=suffix)


def prefix_upper_bound(prefix: str) -> str:
    """The smallest string greater than every string starting with `prefix` (code-point order,
    which is byte order for UTF-8 in SQLite's BINARY and PostgreSQL's "C" collation)."""
    head = prefix
    while head and ord(head[-1]) >= 0x10FFFF:
        head = head[:-1]  # nothing follows U+10FFFF: carry into the previous character
    if not head:
        raise ValueError("an empty prefix matches everything")
    nxt = ord(head[-1]) + 1
    if 0xD800 <= nxt <= 0xDFFF:
        nxt = 0xE000  # surrogates cannot be encoded; the next real character follows them
    return head[:-1] + chr(nxt)
