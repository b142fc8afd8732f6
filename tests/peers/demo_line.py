"""The demo line (`python -m app.demo.line`) as a separate process, the way the app runs it.

    from tests.peers.demo_line import running_demo_line

    with running_demo_line(tmp_path, ring_s=0.3) as line:
        account = SipAccountConfig(registrar=line.uri, username="agent", domain="demo")
        ...
        line.wait_for("dtmf 5")
"""

from __future__ import annotations

import re
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.peers.procs import LOOPBACK, PeerFailed, start, stop, tail, wait_until

ROOT = Path(__file__).resolve().parents[2]
# What the line prints once it listens; with `--port 0` it names the port it got.
READY_LINE = re.compile(rf"^demo line listening on {re.escape(LOOPBACK)}:(\d+)$", re.M)


@dataclass
class DemoLine:
    host: str
    port: int
    log_path: Path

    @property
    def uri(self) -> str:
        return f"sip:{self.host}:{self.port}"

    def number(self, user: str) -> str:
        return f"sip:{user}@{self.host}:{self.port}"

    @property
    def ring_me(self) -> str:
        """Where the agent asks for a demo customer's call (app.demo.line.RING_ME_USER)."""
        return self.number("ring-me")

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_for(self, pattern: str, timeout_s: float = 5.0) -> str:
        """The first output line matching `pattern` (a regex), waiting for it to appear."""
        found: list[str] = []

        def seen() -> bool:
            found[:] = [ln for ln in self.output().splitlines() if re.search(pattern, ln)]
            return bool(found)

        if not wait_until(seen, timeout_s):
            raise AssertionError(f"demo line never printed {pattern!r}:\n{tail(self.log_path)}")
        return found[0]


@contextmanager
def running_demo_line(
    workdir: Path | None = None,
    *,
    ring_s: float = 0.3,
    no_answer_s: float = 1.5,
    voicemail_s: float = 1.5,
    drop_after_s: float = 1.0,
    ring_agent_s: float = 30.0,
) -> Iterator[DemoLine]:
    with tempfile.TemporaryDirectory(prefix="demoline-", dir=workdir) as tmp:
        log_path = Path(tmp) / "line.out"
        # Port 0: the line binds a port nobody holds and prints it; no probe, no race.
        argv = [
            sys.executable, "-m", "app.demo.line", "--port", "0", "--host", LOOPBACK,
            "--ring-s", str(ring_s), "--no-answer-s", str(no_answer_s),
            "--voicemail-s", str(voicemail_s), "--drop-after-s", str(drop_after_s),
            "--ring-agent-s", str(ring_agent_s),
        ]  # fmt: skip
        proc = start(argv, log_path, env=_env())
        try:
            found: list[int] = []

            def listening() -> bool:
                if match := READY_LINE.search(log_path.read_text(errors="replace")):
                    found.append(int(match[1]))
                return proc.poll() is not None or bool(found)

            if not wait_until(listening, 10.0):
                raise PeerFailed(f"demo line did not start:\n{tail(log_path)}")
            if proc.poll() is not None:
                raise PeerFailed(f"demo line exited ({proc.returncode}):\n{tail(log_path)}")
            yield DemoLine(LOOPBACK, found[0], log_path)
        finally:
            stop(proc)


def _env() -> dict[str, str]:
    import os

    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    env["PYTHONUNBUFFERED"] = "1"
    return env
