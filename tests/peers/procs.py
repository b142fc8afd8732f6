"""Process and port helpers shared by the peer launchers."""

from __future__ import annotations

import contextlib
import ctypes
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

LOOPBACK = "127.0.0.1"


class PeerMissing(RuntimeError):
    """A peer binary is not installed; tests fail with this message, they never skip."""


class PeerFailed(RuntimeError):
    """A peer did not come up; the message carries the tail of its log."""


def need_binary(name: str, package: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise PeerMissing(
            f"{name} is not installed (Debian package {package!r}); the SIP integration tests "
            "need the real peer: apt-get install " + package
        )
    return path


def free_port(*, udp: bool = True, tcp: bool = True, pair: bool = False) -> int:
    """A loopback port free right now for the requested protocols (and port+2 if `pair`)."""
    for _ in range(200):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.bind((LOOPBACK, 0))
            port = int(probe.getsockname()[1])
        if port > 65000:
            continue
        wanted = [port, port + 2] if pair else [port]
        if all(_is_free(p, udp=udp, tcp=tcp) for p in wanted):
            return port
    raise PeerFailed("no free loopback port found")


def _is_free(port: int, *, udp: bool, tcp: bool) -> bool:
    kinds = ([socket.SOCK_DGRAM] if udp else []) + ([socket.SOCK_STREAM] if tcp else [])
    for kind in kinds:
        with socket.socket(socket.AF_INET, kind) as sock:
            try:
                sock.bind((LOOPBACK, port))
            except OSError:
                return False
    return True


def udp_port_bound(port: int) -> bool:
    """True when some process holds the UDP port (used to see that SIPp has started)."""
    return not _is_free(port, udp=True, tcp=False)


def tcp_port_bound(port: int) -> bool:
    """True when some process listens on the TCP port (no connection made)."""
    return not _is_free(port, udp=False, tcp=True)


def start(
    argv: list[str],
    log_path: Path,
    env: dict[str, str] | None = None,
    *,
    keep_stdin: bool = False,
    forks: bool = False,
) -> subprocess.Popen[bytes]:
    """Start a peer in its own session, stdout and stderr to `log_path`.

    `keep_stdin`: give it a pipe that stays open (openssl s_server quits on EOF).
    `forks`: the peer forks workers (Kamailio) that would outlive their parent; run it under
    a shell that kills the whole group when the test process dies.
    """
    if forks:
        argv = ["sh", "-c", 'trap "kill -KILL 0" TERM; "$@" & wait', "peer-guard", *argv]
    log = log_path.open("wb")
    try:
        return subprocess.Popen(
            argv,
            stdin=subprocess.PIPE if keep_stdin else subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=_die_with_parent_by_term if forks else _die_with_parent,
            env=env,
        )
    finally:
        log.close()


def _die_with_parent() -> None:
    """In the child before exec: SIGKILL it when the test process dies, even by abort().

    A crashed test run (pjsip asserts kill the whole process) never reaches the context
    managers' cleanup; without this its Kamailio and SIPp would outlive it.
    """
    _set_parent_death_signal(signal.SIGKILL)


def _die_with_parent_by_term() -> None:
    """Same, with SIGTERM, for the guard shell whose trap then kills its process group."""
    _set_parent_death_signal(signal.SIGTERM)


def _set_parent_death_signal(sig: int) -> None:
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, int(sig))


_PR_SET_PDEATHSIG = 1


def stop(proc: subprocess.Popen[bytes], *, grace_s: float = 3.0) -> None:
    """SIGTERM the process group we started, then SIGKILL it if it lingers."""
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(grace_s)
    # Children (Kamailio forks) may outlive the leader: kill what is left of our group.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(grace_s)
    if proc.stdin is not None:
        proc.stdin.close()


def tail(path: Path, lines: int = 40) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return "(no log)"
    return "\n".join(text.splitlines()[-lines:])


def wait_until(predicate: Callable[[], bool], timeout_s: float, step_s: float = 0.02) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step_s)
    return predicate()


def sip_options_ping(host: str, port: int, *, timeout_s: float = 0.3) -> str | None:
    """Send one OPTIONS and return the first response line, or None (for readiness checks)."""
    branch = f"z9hG4bK-ping-{time.monotonic_ns()}"
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind((LOOPBACK, 0))
        local = sock.getsockname()[1]
        msg = (
            f"OPTIONS sip:{host}:{port} SIP/2.0\r\n"
            f"Via: SIP/2.0/UDP {LOOPBACK}:{local};branch={branch};rport\r\n"
            "Max-Forwards: 70\r\n"
            f"From: <sip:ping@{LOOPBACK}>;tag=ping{local}\r\n"
            f"To: <sip:{host}:{port}>\r\n"
            f"Call-ID: ping-{branch}\r\n"
            "CSeq: 1 OPTIONS\r\n"
            "Content-Length: 0\r\n\r\n"
        ).encode()
        sock.settimeout(timeout_s)
        sock.sendto(msg, (host, port))
        try:
            data, _ = sock.recvfrom(65535)
        except (TimeoutError, OSError):
            return None
        return data.split(b"\r\n", 1)[0].decode(errors="replace")
