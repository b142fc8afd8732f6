"""IT's machine-wide values sit above user values, and a user cannot undo a lock."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.settings import SettingsError, load_settings


def test_defaults_without_files(tmp_path: Path) -> None:
    s = load_settings(tmp_path / "none.toml", tmp_path / "none-machine.toml")
    assert s["database.url"] == ""
    assert s["sip.transport"] == "tls"


def test_machine_lock_beats_user_value(tmp_path: Path) -> None:
    user = tmp_path / "user.toml"
    machine = tmp_path / "machine.toml"
    user.write_text('[database]\nurl = "sqlite:///mine.db"\n[sip]\nusername = "alice"\n')
    machine.write_text('[database]\nurl = "postgresql+psycopg://db/callwise"\n')
    s = load_settings(user, machine)
    assert s["database.url"] == "postgresql+psycopg://db/callwise"
    assert s["sip.username"] == "alice"
    assert s.ignored == ("database.url",)


def test_user_cannot_set_a_machine_setting_even_without_a_machine_file(tmp_path: Path) -> None:
    user = tmp_path / "user.toml"
    user.write_text('[agent]\nteam = "leader"\n')
    s = load_settings(user, tmp_path / "absent.toml")
    assert s["agent.team"] == "care"


@pytest.mark.parametrize(("text", "expected"), [
    ('[sip]\nusernme = "x"\n', "unknown setting 'sip.usernme'"),
    ('[agent]\ninternational_calling = "yes"\n', "must be a bool"),
    ("[sip\n", "not valid TOML"),
])
def test_bad_files_are_refused_with_the_problem(tmp_path: Path, text: str, expected: str) -> None:
    path = tmp_path / "user.toml"
    path.write_text(text)
    with pytest.raises(SettingsError) as e:
        load_settings(path, tmp_path / "absent.toml")
    assert expected in e.value.message
    assert str(path) in e.value.message


def test_a_bare_link_becomes_dial_but_an_option_value_does_not() -> None:
    from app.cli import normalise_argv

    assert normalise_argv(["tel:+13125550141"]) == ["--dial=tel:+13125550141"]
    assert normalise_argv(["doctor", "--test-call", "sip:1@pbx"]) == [
        "doctor", "--test-call", "sip:1@pbx"]
    assert normalise_argv(["--demo", "sip:13125550141@pbx"]) == [
        "--demo", "--dial=sip:13125550141@pbx"]
