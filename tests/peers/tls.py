"""A throwaway CA, server certificates and `openssl s_server` on loopback, for TLS tests.

    from tests.peers.tls import make_ca, issue, running_tls_server

    ca = make_ca(tmp_path)
    cert = issue(ca, tmp_path, "localhost", sans=("DNS:localhost", "IP:127.0.0.1"))
    with running_tls_server(cert, tmp_path) as server:
        ...  # point a TLS registrar at server.port; server.received() is what it decrypted
"""

from __future__ import annotations

import subprocess
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.peers.procs import (
    LOOPBACK,
    PeerFailed,
    held_ports,
    need_binary,
    start,
    stop,
    tail,
    wait_until,
)


@dataclass(frozen=True)
class KeyPair:
    cert: Path
    key: Path


def _openssl(*args: str) -> None:
    binary = need_binary("openssl", "openssl")
    subprocess.run([binary, *args], check=True, capture_output=True, timeout=30)


def make_ca(directory: Path, name: str = "Callwise Test CA") -> KeyPair:
    """A self-signed CA valid for two days."""
    ca = KeyPair(directory / f"{name.replace(' ', '_')}.crt", directory / f"{name.replace(' ', '_')}.key")
    _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
             "-subj", f"/CN={name}", "-keyout", str(ca.key), "-out", str(ca.cert))
    return ca


def issue(ca: KeyPair, directory: Path, common_name: str, *, sans: Sequence[str]) -> KeyPair:
    """A server certificate for `common_name` with the given subjectAltNames, signed by `ca`."""
    stem = directory / common_name.replace("*", "star")
    pair = KeyPair(stem.with_suffix(".crt"), stem.with_suffix(".key"))
    csr = stem.with_suffix(".csr")
    ext = stem.with_suffix(".ext")
    ext.write_text(
        f"subjectAltName={','.join(sans)}\nbasicConstraints=CA:FALSE\n"
        "extendedKeyUsage=serverAuth\nkeyUsage=digitalSignature,keyEncipherment\n"
    )
    _openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", f"/CN={common_name}",
             "-keyout", str(pair.key), "-out", str(csr))
    _openssl("x509", "-req", "-in", str(csr), "-CA", str(ca.cert), "-CAkey", str(ca.key),
             "-CAcreateserial", "-days", "2", "-extfile", str(ext), "-out", str(pair.cert))
    return pair


@dataclass(frozen=True)
class TlsServer:
    port: int
    log_path: Path

    def received(self) -> str:
        """Everything s_server printed: handshake details and the decrypted bytes."""
        return self.log_path.read_text(errors="replace")


@contextmanager
def running_tls_server(server: KeyPair, workdir: Path | None = None, *,
                       options: Sequence[str] = ()) -> Iterator[TlsServer]:
    """`openssl s_server` on a free loopback port; `options` e.g. ("-tls1",) to restrict it.

    It binds port 0 and the port it got is read back from its socket (its "ACCEPT" line is
    not printed with -brief): no other process can take the port in between.
    """
    binary = need_binary("openssl", "openssl")
    with tempfile.TemporaryDirectory(prefix="s_server-", dir=workdir) as tmp:
        log_path = Path(tmp) / "s_server.out"
        argv = [binary, "s_server", "-accept", f"{LOOPBACK}:0", "-cert", str(server.cert),
                "-key", str(server.key), "-ign_eof", *options]
        proc = start(argv, log_path, keep_stdin=True)
        try:
            listening: set[int] = set()

            def up() -> bool:
                listening.update(held_ports(proc, tcp=True))
                return proc.poll() is not None or bool(listening)

            if not wait_until(up, 5):
                raise PeerFailed(f"s_server did not start:\n{tail(log_path)}")
            if proc.poll() is not None:
                raise PeerFailed(f"s_server exited ({proc.returncode}):\n{tail(log_path)}")
            yield TlsServer(min(listening), log_path)
        finally:
            stop(proc)

