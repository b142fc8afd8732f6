"""SIPp scenarios (tests/peers/sipp/*.xml) as context managers.

    from tests.peers.sipp import running_sipp

    with running_sipp("uas.xml", tmp_path, pause_ms=300, rtp_echo=True) as uas:
        phone.dial("c1", uas.uri)          # directly, or through Kamailio: it relays host:port
        ...
        assert uas.wait(10) == 0           # SIPp's exit code: 0 = every call as scripted

Every run is bounded: `-m calls` and `-timeout` make SIPp exit on its own; on leaving the block
the process is stopped whatever happened. Messages are traced to `messages()` for assertions.
"""

from __future__ import annotations

import subprocess
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.peers.procs import (
    LOOPBACK,
    PeerFailed,
    PortTaken,
    free_port,
    held_ports,
    need_binary,
    on_fresh_ports,
    port_clash,
    start,
    stop,
    stopped_on_failure,
    tail,
    wait_until,
)

SCENARIOS = Path(__file__).resolve().parent / "sipp"


@dataclass
class Sipp:
    proc: subprocess.Popen[bytes]
    port: int
    service: str
    workdir: Path

    @property
    def uri(self) -> str:
        return f"sip:{self.service}@{LOOPBACK}:{self.port}"

    def wait(self, timeout_s: float = 30.0) -> int:
        """Wait for SIPp to finish its calls; returns its exit code (0: all as scripted)."""
        try:
            return self.proc.wait(timeout_s)
        except subprocess.TimeoutExpired as exc:
            raise PeerFailed(f"SIPp still running after {timeout_s} s:\n{self.report()}") from exc

    def messages(self) -> str:
        """Every SIP message SIPp sent and received (its -trace_msg file)."""
        return _read(self.workdir / "messages.log")

    def report(self) -> str:
        return (
            f"--- sipp output\n{tail(self.workdir / 'sipp.out')}\n"
            f"--- errors\n{tail(self.workdir / 'errors.log')}\n"
            f"--- messages\n{tail(self.workdir / 'messages.log', 80)}"
        )


@contextmanager
def running_sipp(
    scenario: str,
    workdir: Path | None = None,
    *,
    remote: tuple[str, int] | None = None,
    service: str = "service",
    calls: int = 1,
    pause_ms: int = 0,
    keys: Mapping[str, str] | None = None,
    fill: Mapping[str, str] | None = None,
    rtp_echo: bool = False,
    rate: float | None = None,
    limit: int | None = None,
    timeout_s: float = 30.0,
) -> Iterator[Sipp]:
    """Run `scenario` on a free loopback port; a UAC scenario sends to `remote`.

    `keys` become SIPp `-key` keywords (substituted when a message is sent); `fill` replaces
    `{{name}}` in the XML before SIPp reads it, for what SIPp checks at load time (status codes).
    """
    binary = need_binary("sipp", "sip-tester")
    path = SCENARIOS / scenario
    if not path.is_file():
        raise FileNotFoundError(path)
    with tempfile.TemporaryDirectory(prefix="sipp-", dir=workdir) as tmp:
        run = Path(tmp)
        if fill:
            text = path.read_text()
            for name, value in fill.items():
                text = text.replace("{{" + name + "}}", value)
            path = run / scenario
            path.write_text(text)
        options = [
            "-m", str(calls), "-timeout", f"{int(timeout_s)}s", "-timeout_error",
            "-d", str(pause_ms), "-s", service, "-nostdin",
            "-trace_msg", "-message_file", str(run / "messages.log"),
            "-trace_err", "-error_file", str(run / "errors.log"),
        ]  # fmt: skip
        for key, value in (keys or {}).items():
            options += ["-key", key, value]
        if rtp_echo:
            options.append("-rtp_echo")
        if rate is not None:
            options += ["-r", str(rate), "-rp", "1000"]
        if limit is not None:
            options += ["-l", str(limit)]
        if remote is not None:
            options.append(f"{remote[0]}:{remote[1]}")

        def launch() -> tuple[subprocess.Popen[bytes], int]:
            port = free_port(tcp=False)
            media_port = free_port(tcp=False, pair=True)
            argv = [binary, "-sf", str(path), "-i", LOOPBACK, "-p", str(port),
                    "-mi", LOOPBACK, "-mp", str(media_port), *options]
            for stale in ("messages.log", "errors.log"):  # from an attempt that lost its port
                (run / stale).unlink(missing_ok=True)
            with stopped_on_failure(start(argv, run / "sipp.out")) as proc:
                # SIPp binds the SIP port and both media ports (audio, video) at start; it is
                # up once they are its own, not merely taken by someone.
                wanted = {port, media_port, media_port + 2}
                if not wait_until(lambda: proc.poll() is not None
                                  or wanted <= held_ports(proc), 5.0):
                    raise PeerFailed(f"SIPp did not bind {port}:\n{tail(run / 'sipp.out')}")
                if proc.poll() not in (None, 0):
                    failed = PortTaken if port_clash(run / "sipp.out") else PeerFailed
                    out = f"{tail(run / 'sipp.out')}\n--- errors\n{tail(run / 'errors.log')}"
                    raise failed(f"SIPp exited at once ({proc.returncode}):\n{out}")
            return proc, port

        proc, port = on_fresh_ports(launch)
        try:
            yield Sipp(proc, port, service, run)
        finally:
            stop(proc)


def _read(path: Path) -> str:
    try:
        return path.read_text(errors="replace")
    except OSError:
        return ""
