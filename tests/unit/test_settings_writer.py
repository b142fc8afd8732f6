"""The user's settings file is written by the app (audio devices): only USER names, nothing lost."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.settings import SettingsError, load_settings, save_user_settings

NO_MACHINE = "no-machine.toml"


def test_a_saved_choice_is_what_the_next_start_reads(tmp_path: Path) -> None:
    user = tmp_path / "config" / "callwise.toml"  # the folder does not exist yet
    save_user_settings(user, {"audio.input": "Jabra Evolve2 65", "audio.output": "Speakers",
                              "audio.ring": "null device"})
    s = load_settings(user, tmp_path / NO_MACHINE)
    assert (s["audio.input"], s["audio.output"], s["audio.ring"]) == (
        "Jabra Evolve2 65", "Speakers", "null device")


def test_the_users_other_values_are_kept(tmp_path: Path) -> None:
    user = tmp_path / "callwise.toml"
    user.write_text('[sip]\nusername = "alice"\n[agent]\nname = "Alice B"\n'
                    '[audio]\ninput = "Old headset"\nring = "Desk bell"\n'
                    '[database]\nurl = "sqlite:///mine.db"\n')
    save_user_settings(user, {"audio.input": "New headset"})
    s = load_settings(user, tmp_path / NO_MACHINE)
    assert s["sip.username"] == "alice" and s["agent.name"] == "Alice B"
    assert (s["audio.input"], s["audio.ring"]) == ("New headset", "Desk bell")
    # A value IT locks stays in the user's file as the user wrote it (still ignored on load).
    assert s.ignored == ("database.url",)
    assert 'url = "sqlite:///mine.db"' in user.read_text()


def test_a_machine_setting_is_refused_and_the_file_untouched(tmp_path: Path) -> None:
    user = tmp_path / "callwise.toml"
    user.write_text('[audio]\ninput = "Headset"\n')
    with pytest.raises(SettingsError, match="set by IT for the whole machine") as caught:
        save_user_settings(user, {"audio.input": "Other", "sip.dtmf_method": "sip_info"})
    assert caught.value.action and "IT" in caught.value.action
    assert user.read_text() == '[audio]\ninput = "Headset"\n'


@pytest.mark.parametrize(("values", "expected"), [
    ({"audio.input": 3}, "'audio.input' must be a str"),
    ({"agent.id": True}, "'agent.id' must be a str"),
    ({"audio.speaker": "x"}, "unknown setting 'audio.speaker'"),
])
def test_wrong_names_and_types_are_refused(tmp_path: Path, values: dict[str, object],
                                           expected: str) -> None:
    user = tmp_path / "callwise.toml"
    with pytest.raises(SettingsError, match=expected):
        save_user_settings(user, values)
    assert not user.exists()


def test_a_file_that_is_not_toml_is_not_overwritten(tmp_path: Path) -> None:
    user = tmp_path / "callwise.toml"
    user.write_text("[audio\ninput = 'half written by hand'\n")
    with pytest.raises(SettingsError, match="not valid TOML"):
        save_user_settings(user, {"audio.input": "Headset"})
    assert user.read_text() == "[audio\ninput = 'half written by hand'\n"


def test_a_failed_write_keeps_the_old_file_and_leaves_no_litter(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    user = tmp_path / "callwise.toml"
    user.write_text('[audio]\ninput = "Headset"\n')

    def disk_full(src: object, dst: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", disk_full)
    with pytest.raises(SettingsError, match="could not be saved") as caught:
        save_user_settings(user, {"audio.input": "Other"})
    assert caught.value.action and "unchanged" in caught.value.action
    assert user.read_text() == '[audio]\ninput = "Headset"\n'
    assert sorted(p.name for p in tmp_path.iterdir()) == ["callwise.toml"]


def test_the_files_permissions_are_kept(tmp_path: Path) -> None:
    user = tmp_path / "callwise.toml"
    user.write_text('[audio]\ninput = "Headset"\n')
    user.chmod(0o600)
    save_user_settings(user, {"audio.output": "Speakers"})
    assert stat.S_IMODE(user.stat().st_mode) == 0o600


@given(st.text(max_size=40))
def test_any_device_name_survives_the_round_trip(name: str) -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        user = Path(tmp) / "callwise.toml"
        save_user_settings(user, {"audio.output": name})
        assert load_settings(user, Path(tmp) / NO_MACHINE)["audio.output"] == name


def test_the_dtmf_method_is_one_of_the_known_ones(tmp_path: Path) -> None:
    machine = tmp_path / "machine.toml"
    machine.write_text('[sip]\ndtmf_method = "sip_info"\n')
    assert load_settings(None, machine)["sip.dtmf_method"] == "sip_info"
    assert load_settings(None, tmp_path / NO_MACHINE)["sip.dtmf_method"] == "rfc4733"
    machine.write_text('[sip]\ndtmf_method = "inband"\n')
    with pytest.raises(SettingsError, match="must be one of rfc4733, sip_info"):
        load_settings(None, machine)
