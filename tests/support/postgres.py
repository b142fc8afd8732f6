"""A real, throw-away PostgreSQL server for integration tests.

Uses the Debian package's binaries (/usr/lib/postgresql/<version>/bin, or CALLWISE_PG_BIN) to
`initdb` a cluster in a temporary directory and run it on a free loopback port, with its unix
socket inside that directory. The server refuses to run as root, so under root every command runs
as the `postgres` OS user (`runuser -u postgres --`) and the directory is handed to that user.

`fsync=off`: the cluster is deleted afterwards, and the durability tests are about SQLite;
nothing PostgreSQL returns to a query depends on it.

A missing binary raises `PostgresMissing` with the package to install: the tests fail, never skip.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg

LOOPBACK = "127.0.0.1"
SUPERUSER = "postgres"


class PostgresMissing(RuntimeError):
    """The PostgreSQL server binaries are not installed."""


class PostgresFailed(RuntimeError):
    """The server did not start; the message carries the tail of its log."""


def find_bin_dir() -> Path:
    override = os.environ.get("CALLWISE_PG_BIN")
    candidates = [Path(override)] if override else sorted(
        Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)
    for candidate in candidates:
        if (candidate / "initdb").is_file() and (candidate / "pg_ctl").is_file():
            return candidate
    raise PostgresMissing(
        "PostgreSQL server binaries (initdb, pg_ctl) not found in "
        + (str(override) if override else "/usr/lib/postgresql/*/bin")
        + ". The storage integration tests need a real server: apt-get install postgresql "
        "(or set CALLWISE_PG_BIN to the directory holding initdb and pg_ctl).")


def _free_tcp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((LOOPBACK, 0))
        return int(probe.getsockname()[1])


def _as_server_user(argv: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return argv
    runuser = shutil.which("runuser")
    if runuser is not None:
        return [runuser, "-u", SUPERUSER, "--", *argv]
    su = shutil.which("su")
    if su is None:
        raise PostgresMissing("running as root but neither runuser nor su is available to drop "
                              "to the postgres user")
    import shlex

    return [su, SUPERUSER, "-s", "/bin/sh", "-c", shlex.join(argv)]


def _run(argv: list[str], cwd: Path, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(_as_server_user(argv), cwd=cwd, capture_output=True, text=True,
                          timeout=timeout, check=False, stdin=subprocess.DEVNULL)


@dataclass
class PostgresServer:
    bin_dir: Path
    base: Path
    port: int

    @property
    def data_dir(self) -> Path:
        return self.base / "data"

    @property
    def socket_dir(self) -> Path:
        return self.base / "sock"

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://{SUPERUSER}@{LOOPBACK}:{self.port}/{database}"

    def _admin(self) -> psycopg.Connection[tuple[object, ...]]:
        return psycopg.connect(host=LOOPBACK, port=self.port, user=SUPERUSER, dbname="postgres",
                               autocommit=True, connect_timeout=10)

    def create_database(self, name: str | None = None) -> tuple[str, str]:
        """A fresh empty database: (name, SQLAlchemy URL)."""
        name = name or f"t_{uuid.uuid4().hex[:12]}"
        with self._admin() as conn:
            conn.execute(f'CREATE DATABASE "{name}" TEMPLATE template0 ENCODING \'UTF8\'')
        return name, self.url(name)

    def drop_database(self, name: str) -> None:
        with self._admin() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def log_tail(self, lines: int = 40) -> str:
        log = self.base / "server.log"
        if not log.exists():
            return "(no server log)"
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])

    def _start(self) -> subprocess.CompletedProcess[str]:
        options = (f"-c listen_addresses={LOOPBACK} -c port={self.port} "
                   f"-c unix_socket_directories={self.socket_dir} -c fsync=off "
                   "-c max_connections=60")
        return _run([str(self.bin_dir / "pg_ctl"), "-D", str(self.data_dir), "-l",
                     str(self.base / "server.log"), "-w", "-t", "60", "-o", options, "start"],
                    cwd=self.base, timeout=90)

    def stop(self) -> None:
        result = _run([str(self.bin_dir / "pg_ctl"), "-D", str(self.data_dir), "-m", "fast",
                       "-w", "-t", "30", "stop"], cwd=self.base, timeout=60)
        pid_file = self.data_dir / "postmaster.pid"
        if result.returncode != 0 and pid_file.exists():
            # pg_ctl could not stop it in time: kill the postmaster we started, by its pid.
            with contextlib.suppress(ValueError, ProcessLookupError, OSError):
                os.kill(int(pid_file.read_text().splitlines()[0]), signal.SIGKILL)


@contextlib.contextmanager
def running_postgres() -> Iterator[PostgresServer]:
    """Starts a server, yields it, and always stops it and removes its directory."""
    bin_dir = find_bin_dir()
    base = Path(tempfile.mkdtemp(prefix="callwise-pg-"))
    server: PostgresServer | None = None
    started = False
    try:
        base.chmod(0o700)
        if os.geteuid() == 0:
            shutil.chown(base, SUPERUSER, SUPERUSER)
        _run_checked([str(bin_dir / "initdb"), "-D", str(base / "data"), "-U", SUPERUSER,
                      "-A", "trust", "-E", "UTF8", "--locale=C.UTF-8", "--no-sync",
                      "--no-instructions"], base, "initdb")
        _run_checked(["mkdir", "-p", str(base / "sock")], base, "mkdir")
        for _attempt in range(3):  # the free port may be taken between probe and bind
            server = PostgresServer(bin_dir, base, _free_tcp_port())
            result = server._start()
            if result.returncode == 0:
                started = True
                break
        if not started:
            assert server is not None
            raise PostgresFailed("PostgreSQL did not start:\n" + server.log_tail())
        assert server is not None
        yield server
    finally:
        if server is not None and (started or (server.data_dir / "postmaster.pid").exists()):
            server.stop()
        shutil.rmtree(base, ignore_errors=True)


def _run_checked(argv: list[str], cwd: Path, what: str) -> None:
    result = _run(argv, cwd)
    if result.returncode != 0:
        raise PostgresFailed(f"{what} failed ({result.returncode}):\n{result.stdout}\n"
                             f"{result.stderr}")
