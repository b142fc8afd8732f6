"""The policy pack: the shipped default reproduces seed 002, and a broken pack never half-loads."""

from __future__ import annotations

import dataclasses
import hashlib
import re
from datetime import time
from pathlib import Path

import pytest

from app.domain.enums import AgentState, CallOrigin, NotificationTemplate, Team
from app.policy.engine import Outcome, evaluate
from app.policy.pack import (
    AttemptsParams,
    NotifyParams,
    PackError,
    PolicyPack,
    RecordingParams,
    ScriptParams,
    Stage,
    StateParams,
    WindowParams,
    default_pack_bytes,
    load_pack,
)
from tests.unit.policy.builders import DATA, facts, utc

DEFAULT_TEXT = default_pack_bytes()[0].decode("utf-8")


def seed_text() -> str:
    return "\n".join(p.read_text(encoding="utf-8") for p in sorted((DATA / "seeds").glob("*.txt")))


# -- the shipped pack -------------------------------------------------------------------------

def test_default_pack_has_version_and_checksum_of_its_bytes(pack: PolicyPack) -> None:
    raw, _ = default_pack_bytes()
    assert pack.version == "2026.11.1"
    assert pack.checksum == hashlib.sha256(raw).hexdigest()
    assert load_pack(pack.path).checksum == pack.checksum


def test_every_rule_quotes_the_policy_word_for_word(pack: PolicyPack) -> None:
    seeds = seed_text()
    for rule in pack.rules:
        assert rule.title and rule.description and rule.source, rule.id
        for sentence in rule.source:
            assert sentence in seeds, f"{rule.id}: not in the seeds: {sentence!r}"


def test_every_spec_rule_is_in_the_pack(pack: PolicyPack) -> None:
    spec_ids = {"OB-WINDOW", "OB-ATTEMPTS", "OB-NOANSWER", "OB-SPOKE", "OB-DEVICE", "OB-PAYMENT",
                "OB-NOSSN", "OB-OTP", "OB-NOCALLBACK", "OB-NOTIFY", "OB-SEQUENCE", "OB-INTL",
                "OB-STATE", "OB-RECORDING", "OB-VERIFY", "OB-PROOF", "OB-ALTNUMBER", "OB-MEMO",
                "SA-ORIGIN", "SA-EMAILFIRST", "SA-PREPARE", "SA-ALTERNATIVE", "SA-OWNERSHIP",
                "SA-DOCUMENT", "COMMIT"}
    assert spec_ids <= {r.id for r in pack.rules}


def test_default_parameters_reproduce_seed_002(pack: PolicyPack) -> None:
    window = pack.params("OB-WINDOW", WindowParams)
    assert window == WindowParams(time(9), time(20))
    attempts = pack.params("OB-ATTEMPTS", AttemptsParams)
    assert attempts is not None
    assert dict(attempts.caps) == {Team.CARE: 2, Team.GLOBAL_CARE: 1,
                                   Team.SERVICE_ASSURANCE: 2, Team.LEADER: 2}
    notify = pack.params("OB-NOTIFY", NotifyParams)
    assert notify is not None
    assert notify.template_names[NotificationTemplate.CUSTOMER_CALLBACK] == "Customer Callback"
    assert notify.template_names[NotificationTemplate.DROPPED_CALL] == "Dropped Call"
    assert notify.templates[CallOrigin.TICKET] is NotificationTemplate.CUSTOMER_CALLBACK
    states = pack.params("OB-STATE", StateParams)
    assert states is not None
    assert states.states[CallOrigin.ALTERNATE_NUMBER] == (AgentState.AFTER_CALL_WORK,
                                                          AgentState.TALKING)
    recording = pack.params("OB-RECORDING", RecordingParams)
    assert recording is not None
    assert recording.notice == "This call may be recorded for quality and training purposes."
    alternative = pack.params("SA-ALTERNATIVE", ScriptParams)
    assert alternative is not None and alternative.teams == {Team.SERVICE_ASSURANCE}
    assert "{support_number}" in alternative.steps[0].text
    assert "{company}" in alternative.steps[0].text


def test_decisions_are_written_next_to_rules_where_the_policy_is_silent(
        pack: PolicyPack) -> None:
    for rule_id in ("NUMBER", "OB-WINDOW", "OB-ATTEMPTS", "OB-SPOKE", "OB-NOSSN", "SA-PREPARE",
                    "OB-VERIFY"):
        assert pack.rule(rule_id).decision, rule_id
    assert "Service Assurance" in (pack.rule("OB-NOSSN").decision or "")
    assert pack.dial_plan.decision


def test_stages(pack: PolicyPack) -> None:
    assert {r.id for r in pack.stage(Stage.CALL)} == {"OB-PROOF", "OB-OTP"}
    assert "OB-DEVICE" in {r.id for r in pack.stage(Stage.GUIDANCE)}
    assert pack.rule("OB-WINDOW").line == DEFAULT_TEXT.splitlines().index(
        "[rules.OB-WINDOW]") + 1


def test_pack_is_immutable(pack: PolicyPack) -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        pack.version = "x"  # type: ignore[misc]
    attempts = pack.params("OB-ATTEMPTS", AttemptsParams)
    assert attempts is not None
    with pytest.raises(TypeError):
        attempts.caps[Team.CARE] = 9  # type: ignore[index]


# -- IT's own pack ----------------------------------------------------------------------------

def write(tmp_path: Path, text: str, name: str = "pack.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_another_pack_changes_the_verdict_without_code(tmp_path: Path) -> None:
    text = DEFAULT_TEXT.replace('start = "09:00"\nend = "20:00"',
                               'start = "10:00"\nend = "18:00"')
    text = text.replace('version = "2026.11.1"', 'version = "acme-3"')
    custom = load_pack(write(tmp_path, text))
    assert custom.version == "acme-3"
    nine_thirty_chicago = utc("2026-11-20T15:30:00Z")
    assert evaluate(load_pack(), facts(), nine_thirty_chicago).allowed
    v = evaluate(custom, facts(), nine_thirty_chicago)
    assert v.blocked_by == ("OB-WINDOW",)
    assert "10:00 AM–6:00 PM" in v.rule("OB-WINDOW").reason
    assert v.pack_version == "acme-3" and v.pack_checksum == custom.checksum


def test_a_pack_without_a_rule_does_not_evaluate_it(tmp_path: Path) -> None:
    start = DEFAULT_TEXT.index("[rules.OB-INTL]")
    end = DEFAULT_TEXT.index("[rules.SA-EMAILFIRST]")
    custom = load_pack(write(tmp_path, DEFAULT_TEXT[:start] + DEFAULT_TEXT[end:]))
    v = evaluate(custom, facts(number="+44 20 7946 0958"), utc("2026-11-20T16:00:00Z"))
    assert "OB-INTL" not in [r.id for r in v.rules]
    assert v.allowed
    assert v.dial_string == "011442079460958"


def test_global_care_cap_can_change(tmp_path: Path) -> None:
    custom = load_pack(write(tmp_path, DEFAULT_TEXT.replace("global_care = 1", "global_care = 2")))
    rule = evaluate(custom, facts(team=Team.GLOBAL_CARE, unanswered_attempts=1),
                    utc("2026-11-20T16:00:00Z")).rule("OB-ATTEMPTS")
    assert rule.outcome is Outcome.PASS


# -- malformed packs --------------------------------------------------------------------------

def broken(tmp_path: Path, old: str, new: str) -> tuple[Path, str]:
    assert old in DEFAULT_TEXT, old
    text = DEFAULT_TEXT.replace(old, new, 1)
    return write(tmp_path, text), text


def load_error(path: Path) -> PackError:
    with pytest.raises(PackError) as info:
        load_pack(path)
    return info.value


@pytest.mark.parametrize(("old", "new", "anchor", "needle", "words"), [
    # TOML syntax: an unclosed string.
    ('title = "Customer\'s calling hours"', 'title = "Customer\'s calling hours', None,
     'title = "Customer\'s calling hours', "invalid TOML"),
    # A typo in a key points at the typo.
    ('start = "09:00"', 'strat = "09:00"', None, "strat =", "did you mean “start”?"),
    # A key nobody reads.
    ('start = "09:00"', 'start = "09:00"\nlunch_break = true', None, "lunch_break",
     "unknown key “lunch_break” in [rules.OB-WINDOW]"),
    # A value of the wrong kind.
    ("care = 2", 'care = "two"', None, 'care = "two"', "whole number"),
    # An unknown team.
    ("leader = 2", "leaders = 2", None, "leaders = 2", "unknown team 'leaders'"),
    # A missing cap names the caps table.
    ("leader = 2\n", "", None, "[rules.OB-ATTEMPTS.caps]",
     "no attempt limit for team(s): leader"),
    # An unknown agent state.
    ('follow_up = ["not_ready_follow_up"]', 'follow_up = ["napping"]', None, '["napping"]',
     "unknown agent state 'napping'"),
    # A time that is not a time.
    ('end = "20:00"', 'end = "8pm"', None, 'end = "8pm"', "time of day"),
    # A window that can never open.
    ('end = "20:00"', 'end = "09:00"', "[rules.OB-WINDOW]", 'end = "09:00"',
     "no call could ever be placed"),
    # An unknown placeholder in a script step: the step's own line.
    ("{support_number}.", "{phone}.", None, "{phone}", "unknown placeholder {phone}"),
    # An unknown memo field.
    ('required_fields = ["reason"]', 'required_fields = ["reasons"]', None, '["reasons"]',
     "unknown memo field 'reasons'"),
    # A rule this version cannot enforce, claimed as a dial rule.
    ('[rules.OB-DEVICE]\nstage = "guidance"', '[rules.OB-DEVICE]\nstage = "dial"',
     "[rules.OB-DEVICE]", 'stage = "dial"', "no check for rule 'OB-DEVICE'"),
    # A known rule at the wrong stage.
    ('[rules.OB-INTL]\nstage = "dial"', '[rules.OB-INTL]\nstage = "record"', "[rules.OB-INTL]",
     'stage = "record"', 'checked at stage "dial"'),
    # An unsupported schema.
    ("schema = 1", "schema = 2", None, "schema = 2", "schema 2 is not supported"),
    # A missing top-level key has no line of its own: line 1.
    ('version = "2026.11.1"\n', "", None, None, "missing key “version”"),
    # The recording notice must not be empty.
    ('notice = "This call may be recorded for quality and training purposes."', 'notice = ""',
     None, 'notice = ""', "must not be empty"),
])
def test_malformed_pack_names_file_line_and_problem(tmp_path: Path, old: str, new: str,
                                                    anchor: str | None, needle: str | None,
                                                    words: str) -> None:
    path, text = broken(tmp_path, old, new)
    error = load_error(path)
    expected_line = 1
    if needle is not None:
        lines = text.splitlines()
        start = lines.index(anchor) if anchor is not None else 0
        expected_line = next(no for no in range(start, len(lines)) if needle in lines[no]) + 1
    assert error.path == str(path)
    assert error.line == expected_line, str(error)
    assert str(error).startswith(f"{path}:{expected_line}: ")
    assert words in error.problem, error.problem


def test_missing_number_rule_is_refused(tmp_path: Path) -> None:
    start = DEFAULT_TEXT.index("[rules.NUMBER]")
    end = DEFAULT_TEXT.index("[rules.OB-WINDOW]")
    error = load_error(write(tmp_path, DEFAULT_TEXT[:start] + DEFAULT_TEXT[end:]))
    assert "must keep rule NUMBER" in error.problem


def test_missing_file_and_folder(tmp_path: Path) -> None:
    error = load_error(tmp_path / "nope.toml")
    assert error.line is None and "no such file" in str(error)
    assert "folder" in load_error(tmp_path).problem


def test_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "latin1.toml"
    path.write_bytes(b'schema = 1\nname = "caf\xe9"\n')
    error = load_error(path)
    assert error.line == 2 and "UTF-8" in error.problem


def test_syntax_error_reports_the_parser_line(tmp_path: Path) -> None:
    path = write(tmp_path, 'schema = 1\nversion = "1"\n[rules\nx = 1\n')
    error = load_error(path)
    assert error.line == 3
    assert re.match(rf"{re.escape(str(path))}:3: invalid TOML: ", str(error))


def test_pack_error_is_an_expected_error_with_an_action() -> None:
    from app.domain.errors import CallwiseError

    error = PackError("p.toml", 4, "oops")
    assert isinstance(error, CallwiseError)
    assert error.action and "validate" in error.action
