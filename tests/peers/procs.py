"""Process and port helpers shared by the peer launchers."""

from __future__ import annotations

import contextlib
import ctypes
import errno
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

LOOPBACK = "127.0.0.1"
PORT_ATTEMPTS = 5  # starts of a peer on fresh ports before a port clash fails the test

T = TypeVar("T")


class PeerMissing(RuntimeError):
    """A peer binary is not installed; tests fail with this message, they never skip."""


class PeerFailed(RuntimeError):
    """A peer did not come up; the message carries the tail of its log."""


class PortTaken(PeerFailed):
    """The peer could not bind its port: another process took it after `free_port` probed it."""


def need_binary(name: str, package: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise PeerMissing(
            f"{name} is not installed (Debian package {package!r}); the SIP integration tests "
            "need the real peer: apt-get install " + package
        )
    return path


def free_port(*, udp: bool = True, tcp: bool = True, pair: bool = False) -> int:
    """A loopback port free right now for the requested protocols (and port+2 if `pair`).

    Only a probe: another process may bind it before whoever it is handed to does. Where we
    bind ourselves, bind port 0 and read the port back instead; a peer that needs its port on
    the command line is started with `on_fresh_ports` and checked with `held_ports`.
    """
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


def held_ports(proc: subprocess.Popen[bytes], *, tcp: bool = False) -> set[int]:
    """Loopback ports that `proc`'s process group has bound (UDP) or listens on (TCP).

    Read from /proc, it tells the peer we started from another process that took the same
    port first, which a probe bind cannot: a clash must not pass for a ready peer. `start`
    gives every peer its own process group, so forked workers count too.
    """
    ports: dict[str, int] = {}  # socket inode -> port
    for row in Path("/proc/net/tcp" if tcp else "/proc/net/udp").read_text().splitlines()[1:]:
        fields = row.split()
        host, port = fields[1].split(":")
        if host in (_LOOPBACK_HEX, "00000000") and (not tcp or fields[3] == _TCP_LISTEN):
            ports[fields[9]] = int(port, 16)
    held: set[int] = set()
    for pid in _group_members(proc.pid):
        with contextlib.suppress(OSError):  # the process or the descriptor is already gone
            for fd in os.listdir(f"/proc/{pid}/fd"):
                with contextlib.suppress(OSError):
                    link = os.readlink(f"/proc/{pid}/fd/{fd}")
                    if link.startswith("socket:[") and link[8:-1] in ports:
                        held.add(ports[link[8:-1]])
    return held


# /proc/net prints an IPv4 address as the 32-bit word in host byte order, in hex.
_LOOPBACK_HEX = f"{int.from_bytes(socket.inet_aton(LOOPBACK), sys.byteorder):08X}"
_TCP_LISTEN = "0A"


def _group_members(pgid: int) -> list[int]:
    members = []
    for name in os.listdir("/proc"):
        if name.isdigit():
            with contextlib.suppress(OSError):
                if os.getpgid(int(name)) == pgid:
                    members.append(int(name))
    return members


def port_clash(log_path: Path) -> bool:
    """True when the peer's log says a bind failed with EADDRINUSE (Kamailio, SIPp)."""
    return os.strerror(errno.EADDRINUSE) in tail(log_path, 200)


def on_fresh_ports(launch: Callable[[], T], *, attempts: int = PORT_ATTEMPTS) -> T:
    """`launch()` again while it raises PortTaken; `launch` picks new ports with `free_port`.

    A probed port can be taken before the peer binds it (a second test run beside this one);
    that is no fault of the code under test, so start over on another port. Bounded: the last
    attempt's PortTaken, with its log, fails the test.
    """
    for _ in range(attempts - 1):
        try:
            return launch()
        except PortTaken:
            continue
    return launch()


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


@contextlib.contextmanager
def stopped_on_failure(proc: subprocess.Popen[bytes]) -> Iterator[subprocess.Popen[bytes]]:
    """Stop `proc` if the block raises: a peer that did not come up is not left running."""
    try:
        yield proc
    except BaseException:
        stop(proc)
        raise


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
