"""A whole call through the real desktop against the real demo line, checked in the database;
and a power cut mid-memo that loses nothing."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.test_app_process import _env


def _drive(scenario: str, data: Path, env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "tests.e2e.drive_desktop", scenario, str(data)],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _line(proc: subprocess.Popen[str], prefix: str) -> str:
    assert proc.stdout is not None
    for line in proc.stdout:
        if line.startswith(prefix):
            return line.strip()
    raise AssertionError(f"the desktop never said {prefix!r}; stderr:\n"
                         f"{proc.stderr.read() if proc.stderr else ''}")


@pytest.mark.timeout(180)
def test_whole_call_is_recorded_with_notice_time_and_memo(tmp_path: Path) -> None:
    data = tmp_path / "data"
    proc = _drive("whole-call", data, _env(tmp_path))
    try:
        record_id = _line(proc, "CLOSED").split()[1]
        assert proc.wait(timeout=60) == 0
    finally:
        proc.kill()
        proc.wait()
        for stream in (proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()
    db = sqlite3.connect(data / "demo.sqlite3")
    try:
        state, outcome, dial_string, notice_at, verified_at, pack = db.execute(
            "select state, outcome, dial_string, recording_notice_at, verified_at, pack_version "
            "from calls where id = ?", (record_id,)).fetchone()
        summary, response, payment = db.execute(
            "select summary, customer_response, payment_topic from memos where call_id = ?",
            (record_id,)).fetchone()
        (sent,) = db.execute("select count(*) from notifications where customer_id = ? "
                             "and template = 'customer_callback' and delivered", (
                                 "demo-ana-garcia",)).fetchone()
        kinds = [k for (k,) in db.execute("select kind from audit_log where record_id = ? "
                                          "order by seq", (record_id,))]
    finally:
        db.close()
    assert (state, outcome, dial_string) == ("closed", "local_hangup", "13125550141")
    assert notice_at is not None and verified_at is not None
    assert pack  # the pack version in force is stored with the attempt
    assert summary.startswith("Reset network settings") and response and payment == "not_discussed"
    assert sent == 1  # the "Customer Callback" message went over SIP MESSAGE and was delivered
    assert kinds[0] == "call_attempt" and kinds[-1] == "record_closed"


@pytest.mark.timeout(180)
def test_memo_draft_survives_a_kill_mid_memo(tmp_path: Path) -> None:
    data = tmp_path / "data"
    env = _env(tmp_path)
    proc = _drive("crash-memo", data, env)
    try:
        record_id = _line(proc, "DRAFT-SAVED").split()[1]
        os.kill(proc.pid, signal.SIGKILL)  # no shutdown code runs, as in a power cut
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        for stream in (proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()
    # The demo line the killed process started is an orphan now; it exits on its own when
    # its parent dies (see app.demo.line), and a fresh one is started below.
    again = _drive("reopen", data, env)
    try:
        reopened = json.loads(_line(again, "REOPENED").split(" ", 1)[1])
        assert again.wait(timeout=60) == 0
    finally:
        if again.poll() is None:
            again.kill()
            again.wait()
        for stream in (again.stdout, again.stderr):
            if stream is not None:
                stream.close()
    assert reopened == {"id": record_id,
                        "summary": "Reset network settings together; data works again."}
    db = sqlite3.connect(data / "demo.sqlite3")
    try:
        (check,) = db.execute("pragma integrity_check").fetchone()
    finally:
        db.close()
    assert check == "ok"
