"""Kamailio as the registrar and proxy of the integration tests (config: kamailio/kamailio.cfg).

    from tests.peers.kamailio import running_kamailio

    with running_kamailio(tmp_path, user="agent", password="secret") as kam:
        account = SipAccountConfig(registrar=kam.uri, username=kam.user, domain=kam.domain,
                                   password=kam.password)

UDP and TCP listen on the same free loopback port. Anything dialled at a host:port other than
Kamailio's own (a SIPp UAS) is relayed there; `sip:<user>@<domain>` is looked up in usrloc.
"""

from __future__ import annotations

import subprocess
import tempfile
from collections.abc import Iterator
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
    sip_options_ping,
    start,
    stop,
    stopped_on_failure,
    tail,
    wait_until,
)

CONFIG = Path(__file__).resolve().parent / "kamailio" / "kamailio.cfg"


@dataclass(frozen=True)
class Kamailio:
    host: str
    port: int
    user: str
    password: str
    domain: str
    log_path: Path

    @property
    def uri(self) -> str:
        """The registrar/proxy URI to put in `SipAccountConfig.registrar`."""
        return f"sip:{self.host}:{self.port}"

    def aor(self, user: str | None = None) -> str:
        """The address of a registered user, routed by usrloc."""
        return f"sip:{user or self.user}@{self.domain}"

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


@contextmanager
def running_kamailio(
    workdir: Path | None = None,
    *,
    user: str = "agent",
    password: str = "secret",
    domain: str = "callwise.test",
    ready_timeout_s: float = 10.0,
) -> Iterator[Kamailio]:
    binary = need_binary("kamailio", "kamailio")
    with tempfile.TemporaryDirectory(prefix="kamailio-", dir=workdir) as tmp:
        run = Path(tmp)
        log_path = run / "kamailio.log"

        def launch() -> tuple[subprocess.Popen[bytes], int]:
            port = free_port()
            argv = [
                binary, "-f", str(CONFIG), "-DD", "-E", "-n", "1", "-N", "1",
                "-m", "32", "-M", "4", "-Y", str(run), "-P", str(run / "kamailio.pid"),
                "-l", f"udp:{LOOPBACK}:{port}", "-l", f"tcp:{LOOPBACK}:{port}",
                "-A", f'AUTH_USER="{user}"', "-A", f'AUTH_PASSWORD="{password}"',
                "-A", f'TEST_DOMAIN="{domain}"',
            ]  # fmt: skip
            with stopped_on_failure(start(argv, log_path, forks=True)) as proc:
                # Ours must hold both sockets before the ping counts: a phone or Kamailio of
                # another test run that took the port first would answer the OPTIONS too.
                ready = wait_until(
                    lambda: proc.poll() is not None
                    or (port in held_ports(proc) and port in held_ports(proc, tcp=True)
                        and (sip_options_ping(LOOPBACK, port) or "").startswith("SIP/2.0 200")),
                    ready_timeout_s,
                )
                if proc.poll() is not None or not ready:
                    failed = PortTaken if port_clash(log_path) else PeerFailed
                    raise failed(f"kamailio did not start on {port}:\n{tail(log_path)}")
            return proc, port

        proc, port = on_fresh_ports(launch)
        try:
            yield Kamailio(LOOPBACK, port, user, password, domain, log_path)
        finally:
            stop(proc)
