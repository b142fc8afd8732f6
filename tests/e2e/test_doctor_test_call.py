"""`callwise doctor --demo --test-call NUMBER` as IT runs it: a subprocess, the real demo line.

The runs are started together (each has its own demo line on its own free port), so the
no-answer case's ~6 s of ringing is the whole test's wall time.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

CALLWISE = [sys.executable, "-m", "ui.entry"]

pytestmark = [pytest.mark.peers, pytest.mark.timeout(90)]


def _env(tmp_path: Path) -> dict[str, str]:
    return {**os.environ, "HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path / "config"),
            "XDG_DATA_HOME": str(tmp_path / "data"), "XDG_STATE_HOME": str(tmp_path / "state"),
            "XDG_CACHE_HOME": str(tmp_path / "cache"),
            "CALLWISE_MACHINE_CONFIG": str(tmp_path / "no-machine-config.toml")}


def _start(tmp_path: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen([*CALLWISE, "doctor", "--demo", *args], env=_env(tmp_path),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_test_call_reports_registration_setup_and_outcome(tmp_path: Path) -> None:
    runs = {
        "answer": _start(tmp_path, "--test-call", "5550101", "--talk-s", "1", "--json"),
        "busy": _start(tmp_path, "--test-call", "5550102", "--json"),
        "no answer": _start(tmp_path, "--test-call", "5550103", "--json"),
        "text": _start(tmp_path, "--test-call", "5550101", "--talk-s", "0.5"),
    }
    results: dict[str, tuple[int, str, str]] = {}
    try:
        for name, proc in runs.items():
            out, err = proc.communicate(timeout=60)
            results[name] = (proc.returncode, out, err)
    finally:
        for proc in runs.values():
            if proc.poll() is None:
                proc.kill()
                proc.communicate()
    for name, (_code, _out, err) in results.items():
        assert err == "", f"{name}: unexpected stderr:\n{err}"

    code, out, _ = results["answer"]
    report = json.loads(out)
    call = report["test_call"]
    assert (code, report["ok"], report["via"]) == (0, True, "demo line")
    assert call["registered"] and call["registration"] == "registered"
    assert call["outcome"] == "answered" and call["code"] == 200
    # The demo line rings about 1 s before it answers; set-up is INVITE to 200 OK.
    assert call["registration_ms"] > 0
    assert 0 <= call["ringing_ms"] < call["setup_ms"]
    assert call["setup_ms"] >= 900
    assert call["talk_s"] >= 1.0

    code, out, _ = results["busy"]
    call = json.loads(out)["test_call"]
    assert (code, call["outcome"], call["code"], call["reason"]) == (
        1, "busy", 486, "486 Busy Here")
    assert call["registered"] and call["setup_ms"] is None

    code, out, _ = results["no answer"]
    call = json.loads(out)["test_call"]
    assert (code, call["outcome"], call["code"]) == (1, "no_answer", 480)
    assert call["setup_ms"] is None and call["ringing_ms"] is not None

    code, out, _ = results["text"]
    lines = out.splitlines()
    assert code == 0
    assert lines[0].startswith("Test call to 5550101 as it-doctor@127.0.0.1:")
    assert lines[1].startswith("registration  OK    registered in ")
    assert lines[1].endswith("(demo line)")
    assert lines[2].startswith("call setup    OK    INVITE to 200 OK in ")
    assert re.fullmatch(r"outcome       OK    answered; hung up after \d\.\d s", lines[3])


def test_test_call_without_a_company_account_says_what_is_missing(tmp_path: Path) -> None:
    proc = subprocess.run([*CALLWISE, "doctor", "--test-call", "5550101", "--json"],
                          env=_env(tmp_path), capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    report = json.loads(proc.stdout)
    assert report["ok"] is False
    assert report["error"].startswith("No company SIP account is configured on this workstation.")
