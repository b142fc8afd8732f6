"""Scenario files and the `policy` commands, run in-process (the real process is in integration)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from app.cli.policy import add_parser, main
from app.domain.enums import AgentState, CallOrigin, Team
from app.policy.engine import evaluate
from app.policy.pack import PolicyPack, default_pack_bytes
from app.policy.scenarios import mismatches, parse_scenario, read_scenarios
from tests.unit.policy.builders import DATA

EXAMPLE = json.loads((DATA / "examples.jsonl").read_text(encoding="utf-8").splitlines()[0])


def test_scenario_mirrors_the_acceptance_input() -> None:
    s = parse_scenario(EXAMPLE, 1)
    assert s.name == EXAMPLE["name"]
    assert s.facts.team is Team.CARE
    assert s.facts.state is AgentState.NOT_READY_FOLLOW_UP
    assert s.facts.origin is CallOrigin.FOLLOW_UP
    assert s.facts.history_complete is True
    assert s.now.utcoffset() is not None
    assert s.expect is not None and s.expect.allowed is True


def with_change(path: tuple[str, ...], value: object) -> dict[str, object]:
    scenario = json.loads(json.dumps(EXAMPLE))
    target = scenario
    for key in path[:-1]:
        target = target[key]
    if value is KeyError:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return scenario  # type: ignore[no-any-return]


@pytest.mark.parametrize(("path", "value", "words"), [
    (("agent", "team"), "sales", "agent.team is \"sales\"; expected care | global_care"),
    (("agent", "teem"), "care", "unknown key “teem” in agent"),
    (("customer", "spoke_before"), KeyError, "missing key “spoke_before” in customer"),
    (("customer", "spoke_before"), "yes", "customer.spoke_before must be true or false"),
    (("customer", "unanswered_attempts"), -1, "0 or more"),
    (("customer", "number"), 3125550142, "customer.number must be text"),
    (("customer", "consent"), {"from": "9am", "to": "21:00"}, "customer.consent.from"),
    (("now",), "2026-11-20T16:00:00", "has no offset"),
    (("now",), "yesterday", "not a date and time"),
    (("call", "notification_sent"), "sms", "call.notification_sent is \"sms\""),
    (("expect", "blocked_by"), "OB-WINDOW", "list of rule ids"),
    (("expect", "blocked"), [], "unknown key “blocked” in expect"),
])
def test_malformed_scenarios_say_what_is_wrong(path: tuple[str, ...], value: object,
                                               words: str) -> None:
    with pytest.raises(ValueError) as info:
        parse_scenario(with_change(path, value), 7)
    assert words in str(info.value)


def test_read_scenarios_reports_every_bad_line_with_its_number() -> None:
    good = json.dumps(EXAMPLE)
    text = "\n".join([good, "", "{not json", good, json.dumps(with_change(("agent", "team"),
                                                                         "x"))])
    scenarios, errors = read_scenarios(text, "s.jsonl")
    assert [s.line for s in scenarios] == [1, 4]
    assert [(e.line, str(e).split(":")[0]) for e in errors] == [(3, "s.jsonl"), (5, "s.jsonl")]
    assert str(errors[0]).startswith("s.jsonl:3: not valid JSON")


def test_mismatches_are_described(pack: PolicyPack) -> None:
    s = parse_scenario(with_change(("expect",), {"allowed": False, "blocked_by": ["OB-INTL"],
                                                 "dial_string": "1"}), 1)
    problems = mismatches(s, evaluate(pack, s.facts, s.now))
    assert problems == ["expected allowed=false, got true",
                        "expected blocked_by [OB-INTL], got []",
                        "expected dial_string \"1\", got \"13125550142\""]


# -- the commands, in-process -----------------------------------------------------------------

def test_add_parser_registers_policy_with_func(pack: PolicyPack, tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    parser = argparse.ArgumentParser(prog="callwise")
    add_parser(parser.add_subparsers(dest="command"))
    pack_path = tmp_path / "p.toml"
    pack_path.write_bytes(default_pack_bytes()[0])
    args = parser.parse_args(["policy", "validate", str(pack_path)])
    assert args.func(args) == 0
    assert capsys.readouterr().out == f"valid: version {pack.version}, checksum {pack.checksum}\n"


def test_evaluate_check_passes_on_the_acceptance_examples(
        capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["evaluate", str(DATA / "examples.jsonl"), "--check"]) == 0
    out, err = capsys.readouterr()
    lines = [json.loads(line) for line in out.splitlines()]
    assert len(lines) == 12
    assert "12 scenario(s), all as expected" in err


def test_evaluate_check_lists_mismatches(tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    wrong = with_change(("expect",), {"allowed": False, "blocked_by": ["OB-WINDOW"]})
    path = tmp_path / "s.jsonl"
    path.write_text(json.dumps(EXAMPLE) + "\n" + json.dumps(wrong) + "\n", encoding="utf-8")
    assert main(["evaluate", str(path), "--check"]) == 1
    out, err = capsys.readouterr()
    assert len(out.splitlines()) == 2  # every verdict is still printed
    assert f"mismatch: {path}:2: {EXAMPLE['name']}: expected allowed=false, got true" in err
    assert f"mismatch: {path}:2: {EXAMPLE['name']}: expected blocked_by [OB-WINDOW], got []" in err
    assert "1 of 2 scenario(s) not as expected" in err
    # Without --check the same file is just evaluated.
    assert main(["evaluate", str(path)]) == 0


def test_evaluate_malformed_line_exits_2_and_prints_no_verdicts(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "s.jsonl"
    path.write_text(json.dumps(EXAMPLE) + "\n{oops\n", encoding="utf-8")
    assert main(["evaluate", str(path), "--check"]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert f"{path}:2: not valid JSON" in err


def test_evaluate_with_a_broken_pack_exits_2(tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("schema = 1\n[rules\n", encoding="utf-8")
    assert main(["evaluate", str(DATA / "examples.jsonl"), "--pack", str(bad)]) == 2
    assert f"{bad}:2: invalid TOML" in capsys.readouterr().err


def test_validate_reports_file_line_problem(tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    text = default_pack_bytes()[0].decode().replace("care = 2", "care = -2")
    bad = tmp_path / "bad.toml"
    bad.write_text(text, encoding="utf-8")
    line = text.splitlines().index("care = -2") + 1
    assert main(["validate", str(bad)]) == 1
    assert capsys.readouterr().err.strip() == f"{bad}:{line}: “care” must be at least 0, not -2"


def test_explain_prints_every_rule_with_its_source(pack: PolicyPack,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["explain"]) == 0
    out = capsys.readouterr().out
    assert pack.version in out and pack.checksum in out
    for rule in pack.rules:
        assert f"{rule.id} — {rule.title}" in out
    assert "“Place outbound calls between 9 a.m. - 8 p.m. in the customer's time zone" in out
    assert "Unanswered attempts allowed: Care: 2; Global Care: 1" in out
    assert "Decision where the policy is silent:" in out
