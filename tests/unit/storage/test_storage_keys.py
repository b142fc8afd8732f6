"""Search keys: what an agent types must normalise to a prefix of what is stored."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.storage.keys import (
    account_key,
    fold,
    name_keys,
    number_keys,
    plan_search,
    prefix_upper_bound,
)


def test_names_fold_accents_case_and_punctuation() -> None:
    assert fold("  José  O'Neil-DÍAZ ") == "jose o neil diaz"
    assert name_keys("Ana", "García") == ("ana garcia", "garcia ana")


def test_account_numbers_keep_only_letters_and_digits() -> None:
    assert account_key("ACC-100 42") == "acc10042"


@pytest.mark.parametrize(("e164", "national"), [
    ("+13125550142", "3125550142"),
    ("+442079460958", "2079460958"),
    ("+4930901820", "30901820"),
    ("+525555501234", "5555501234"),
])
def test_numbers_are_kept_as_e164_national_and_reversed_digits(e164: str, national: str) -> None:
    keys = number_keys(e164)
    assert keys.e164_digits == e164[1:]
    assert keys.national_digits == national
    assert keys.reversed_digits == e164[1:][::-1]


@pytest.mark.parametrize(("typed", "prefixes", "suffix"), [
    ("(312) 555-0142", ("3125550142",), "2410555213"),
    ("+1 312 555 0142", ("13125550142",), "24105552131"),
    ("011 44 20 7946 0958", ("011442079460958", "442079460958"), "859064970244110"),
    ("00 44 20 7946 0958", ("00442079460958", "442079460958"), "85906497024400"),
    ("020 7946 0958", ("02079460958", "2079460958"), "85906497020"),
    ("0142", ("0142",), "2410"),  # too short to be a national number without its trunk 0
    ("312", ("312",), None),
])
def test_a_typed_number_probes_prefixes_and_its_reversed_suffix(
        typed: str, prefixes: tuple[str, ...], suffix: str | None) -> None:
    plan = plan_search(typed)
    assert plan.name_prefix is None
    assert plan.number_prefixes == prefixes
    assert plan.reversed_suffix == suffix


def test_text_with_letters_is_a_name_or_an_account() -> None:
    plan = plan_search("García, Ana")
    assert plan.name_prefix == "garcia ana"
    assert plan.account_prefix == "garciaana"
    assert plan.number_prefixes == () and plan.reversed_suffix is None


@pytest.mark.parametrize("typed", ["", "   ", "12", "-", "+1"])
def test_too_little_to_go_on_finds_nothing(typed: str) -> None:
    assert plan_search(typed).empty


@given(st.text(min_size=1), st.text())
def test_every_extension_of_a_prefix_falls_inside_its_range(prefix: str, rest: str) -> None:
    try:
        upper = prefix_upper_bound(prefix)
    except ValueError:  # only a prefix made wholly of U+10FFFF has no upper bound
        assert set(prefix) == {"\U0010ffff"}
        return
    candidate = prefix + rest
    assert prefix <= candidate < upper
    upper.encode("utf-8")  # never a lone surrogate that a database driver would reject


@given(st.text(min_size=1), st.text(min_size=1))
def test_strings_outside_the_prefix_fall_outside_its_range(prefix: str, other: str) -> None:
    if other.startswith(prefix):
        return
    try:
        upper = prefix_upper_bound(prefix)
    except ValueError:
        return
    assert not (prefix <= other < upper)
