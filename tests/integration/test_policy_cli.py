"""`policy evaluate|validate|explain` as IT runs them: a real process, real files, exit codes.

Runs the installed `callwise` console script (the one IT runs), from this interpreter's venv.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data" / "policy"
DEFAULT_PACK = ROOT / "resources" / "policy" / "default.toml"


def policy(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(Path(sys.executable).with_name("callwise")), "policy", *args], cwd=ROOT,
                          capture_output=True, text=True, encoding="utf-8", timeout=60,
                          check=False)


def check_file(path: Path) -> None:
    result = policy("evaluate", str(path), "--check")
    assert result.returncode == 0, result.stderr
    scenarios = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()
                 if line.strip()]
    verdicts = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(verdicts) == len(scenarios)
    pack_rules = None
    for scenario, verdict in zip(scenarios, verdicts, strict=True):
        assert verdict["name"] == scenario["name"]
        assert verdict["allowed"] == scenario["expect"]["allowed"]
        blocked = {r["id"] for r in verdict["rules"] if r["outcome"] == "block"}
        assert blocked == set(scenario["expect"]["blocked_by"]), scenario["name"]
        assert verdict["allowed"] == (not blocked)
        assert all(r["outcome"] in ("pass", "block", "not_applicable") and r["reason"]
                   for r in verdict["rules"])
        ids = [r["id"] for r in verdict["rules"]]
        pack_rules = pack_rules or ids
        assert ids == pack_rules  # every rule of the pack, every time
        if "dial_string" in scenario["expect"]:
            assert verdict["dial_string"] == scenario["expect"]["dial_string"]
    assert "all as expected" in result.stderr


def test_acceptance_examples_pass_with_the_default_pack() -> None:
    source = DATA / "examples.jsonl"
    check_file(source)
    verdicts = [json.loads(line) for line in policy("evaluate", str(source)).stdout.splitlines()]
    window = next(v for v in verdicts if v["name"] == "Chicago customer at 20:30 local")
    reason = next(r["reason"] for r in window["rules"] if r["id"] == "OB-WINDOW")
    assert reason.startswith("It is 8:30 PM in Chicago (customer's local time)")
    assert window["dial_string"] == "13125550142"
    london = next(v for v in verdicts if v["name"].startswith("London"))
    assert london["dial_string"] == "011442079460958"


def test_edge_cases_pass_with_the_default_pack() -> None:
    check_file(DATA / "edge_cases.jsonl")


def test_check_fails_and_names_the_line_when_the_pack_changes(tmp_path: Path) -> None:
    # IT narrows the window to 10:30-18:00: the 10:00 Chicago example no longer holds, which is
    # exactly what --check is for before rollout.
    text = DEFAULT_PACK.read_text(encoding="utf-8")
    narrowed = tmp_path / "narrow.toml"
    narrowed.write_text(text.replace('start = "09:00"\nend = "20:00"',
                                     'start = "10:30"\nend = "18:00"'), encoding="utf-8")
    result = policy("evaluate", str(DATA / "examples.jsonl"), "--pack", str(narrowed),
                    "--check")
    assert result.returncode == 1
    # Line 1: 10:00 in Chicago is now before the window.
    assert (f"mismatch: {DATA / 'examples.jsonl'}:1: Chicago customer at 10:00 local, "
            "follow-up with template sent: expected allowed=true, got false") in result.stderr
    assert len(result.stdout.splitlines()) == 12


def test_malformed_scenario_line_exits_2_with_its_line_number(tmp_path: Path) -> None:
    lines = (DATA / "examples.jsonl").read_text(encoding="utf-8").splitlines()
    bad = tmp_path / "bad.jsonl"
    bad.write_text("\n".join([lines[0], lines[1].replace('"care"', '"carer"'), lines[2]]) + "\n",
                   encoding="utf-8")
    result = policy("evaluate", str(bad), "--check")
    assert result.returncode == 2
    assert result.stdout == ""
    assert f"{bad}:2: agent.team is \"carer\"" in result.stderr


def test_validate(tmp_path: Path) -> None:
    ok = policy("validate", str(DEFAULT_PACK))
    assert ok.returncode == 0
    assert ok.stdout.startswith("valid: version 2026.11.1, checksum ")
    broken = tmp_path / "broken.toml"
    text = DEFAULT_PACK.read_text(encoding="utf-8").replace("global_care = 1",
                                                            "global_care = one")
    broken.write_text(text, encoding="utf-8")
    line = text.splitlines().index("global_care = one") + 1
    bad = policy("validate", str(broken))
    assert bad.returncode == 1
    assert bad.stderr.startswith(f"{broken}:{line}: invalid TOML")
    assert policy("validate", str(tmp_path / "missing.toml")).returncode == 1


def test_explain_reads_the_pack_in_plain_words() -> None:
    result = policy("explain")
    assert result.returncode == 0, result.stderr
    assert "OB-WINDOW — Customer's calling hours [dial gate]" in result.stdout
    assert "“This call may be recorded for quality and training purposes.”" in result.stdout
