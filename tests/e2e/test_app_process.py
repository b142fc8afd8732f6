"""The real app as a subprocess, on the real demo line: starts, registers, quits cleanly."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

CALLWISE = [sys.executable, "-m", "ui.entry"]


def _env(tmp_path: Path) -> dict[str, str]:
    return {**os.environ, "QT_QPA_PLATFORM": "offscreen", "HOME": str(tmp_path),
            "XDG_CONFIG_HOME": str(tmp_path / "config"), "XDG_DATA_HOME": str(tmp_path / "data"),
            "XDG_STATE_HOME": str(tmp_path / "state"), "XDG_CACHE_HOME": str(tmp_path / "cache"),
            "CALLWISE_MACHINE_CONFIG": str(tmp_path / "no-machine-config.toml")}


def test_version() -> None:
    out = subprocess.run([*CALLWISE, "--version"], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "callwise 0.1.0"


@pytest.mark.timeout(120)
def test_demo_starts_registers_and_quits_cleanly(tmp_path: Path) -> None:
    data = tmp_path / "callwise-data"
    proc = subprocess.run([*CALLWISE, "--demo", "--quit-after", "4", "--data-dir", str(data)],
                          env=_env(tmp_path), capture_output=True, text=True, timeout=90)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.strip() == "", f"unexpected output on stderr:\n{proc.stderr}"
    assert "Assertion" not in proc.stdout
    db = sqlite3.connect(data / "demo.sqlite3")
    try:
        (customers,) = db.execute("select count(*) from customers").fetchone()
        assert customers >= 6  # the demo customers were seeded
    finally:
        db.close()
    log = (tmp_path / "state" / "Callwise" / "log" / "callwise.log")
    text = log.read_text() if log.exists() else ""
    assert "registered" in text.lower(), "the app never registered with the demo line"


@pytest.mark.timeout(120)
def test_doctor_reports_every_check_as_json(tmp_path: Path) -> None:
    proc = subprocess.run([*CALLWISE, "doctor", "--json", "--data-dir", str(tmp_path / "d")],
                          env=_env(tmp_path), capture_output=True, text=True, timeout=90)
    report = json.loads(proc.stdout)
    names = {c["name"]: c for c in report["checks"]}
    assert set(names) == {"python", "sip stack", "audio", "keyring", "database"}
    assert names["sip stack"]["ok"] and "2.15.1" in names["sip stack"]["detail"]
    assert names["database"]["ok"], names["database"]["detail"]
    # No desktop keyring in this environment: doctor must say so, not pass silently.
    assert names["keyring"]["ok"] is False
    assert proc.returncode == 1


@pytest.mark.timeout(120)
def test_a_malformed_pack_locks_the_desk_with_file_line_and_problem(tmp_path: Path) -> None:
    # The window and the phone come up first; the pack loads with the records, and one that
    # cannot be used is said (window, log, terminal) before any record is opened.
    pack = tmp_path / "broken.toml"
    pack.write_text('version = "2026.99"\nname = "broken"\n[rules.OB-WINDOW\nstage = "dial"\n')
    proc = subprocess.run([*CALLWISE, "--demo", "--pack", str(pack), "--quit-after", "3",
                           "--data-dir", str(tmp_path / "d")],
                          env=_env(tmp_path), capture_output=True, text=True, timeout=90)
    assert proc.returncode == 2  # not a clean run: the desk never opened
    assert "The policy pack could not be loaded" in proc.stderr, proc.stderr
    assert f"{pack}:3" in proc.stderr  # the file and the line of the problem
    assert "Traceback" not in proc.stderr
    assert not (tmp_path / "d" / "demo.sqlite3").exists()  # nothing ran on a half-loaded policy


@pytest.mark.timeout(120)
def test_records_that_cannot_open_are_reported_while_the_phone_still_registers(
        tmp_path: Path) -> None:
    # The window and the phone come up before the record store; a store that cannot open is
    # said plainly (window, log, terminal), the file is left as it was, and the run is not
    # "clean".
    data = tmp_path / "callwise-data"
    data.mkdir()
    broken = data / "demo.sqlite3"
    garbage = b"this is not a database, but somebody's records might be in it\n" * 100
    broken.write_bytes(garbage)
    proc = subprocess.run([*CALLWISE, "--demo", "--quit-after", "4", "--data-dir", str(data)],
                          env=_env(tmp_path), capture_output=True, text=True, timeout=90)
    assert proc.returncode == 2, proc.stderr
    assert "The call records could not be opened" in proc.stderr, proc.stderr
    assert "file is not a database" in proc.stderr
    assert "Traceback" not in proc.stderr
    log = (tmp_path / "state" / "Callwise" / "log" / "callwise.log").read_text()
    assert "phone registration: registered" in log
    assert broken.read_bytes() == garbage  # lose nothing


@pytest.mark.timeout(120)
def test_a_second_start_opens_the_records_without_alembic(tmp_path: Path) -> None:
    # First start creates and migrates the store; the second finds it at head and opens it
    # without importing Alembic, with the records of the first.
    data = tmp_path / "callwise-data"
    probe = ("import sys; from ui.entry import main; code = main(sys.argv[1:]); "
             "print('alembic loaded:', 'alembic' in sys.modules); sys.exit(code)")
    args = ["--demo", "--quit-after", "3", "--data-dir", str(data)]
    runs = [subprocess.run([sys.executable, "-c", probe, *args], env=_env(tmp_path),
                           capture_output=True, text=True, timeout=90) for _ in range(2)]
    for run in runs:
        assert run.returncode == 0, run.stderr
    assert "alembic loaded: True" in runs[0].stdout
    assert "alembic loaded: False" in runs[1].stdout
    log = (tmp_path / "state" / "Callwise" / "log" / "callwise.log").read_text()
    assert log.count("records open: customer search enabled") == 2
