"""A real Secret Service keyring for tests: gnome-keyring-daemon on a private D-Bus session bus.

Never the plaintext fallback: the adapter refuses it, and so would a real workstation policy.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def _need(binary: str) -> str:
    path = shutil.which(binary)
    if path is None:
        raise RuntimeError(f"{binary} is not installed: run installer/system-deps.sh test")
    return path


@contextmanager
def secret_service(tmp: Path) -> Iterator[dict[str, str]]:
    """Yields the environment variables that point a process at an unlocked, empty keyring."""
    dbus = _need("dbus-daemon")
    gkd = _need("gnome-keyring-daemon")
    home = tmp / "home"
    for sub in ("data", "run", "config"):
        (home / sub).mkdir(parents=True, exist_ok=True)
    (home / "run").chmod(0o700)
    env = {
        "HOME": str(home),
        "XDG_DATA_HOME": str(home / "data"),
        "XDG_RUNTIME_DIR": str(home / "run"),
        "XDG_CONFIG_HOME": str(home / "config"),
    }
    full = {**os.environ, **env}
    bus = subprocess.Popen([dbus, "--session", "--nofork", "--print-address=1"],
                           stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=full, text=True)
    keyring_proc: subprocess.Popen[bytes] | None = None
    try:
        assert bus.stdout is not None
        address = bus.stdout.readline().strip()
        if not address:
            raise RuntimeError("dbus-daemon did not print its address")
        env["DBUS_SESSION_BUS_ADDRESS"] = address
        full["DBUS_SESSION_BUS_ADDRESS"] = address
        keyring_proc = subprocess.Popen([gkd, "--unlock", "--components=secrets", "--foreground"],
                                        stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                        stderr=subprocess.DEVNULL, env=full)
        assert keyring_proc.stdin is not None
        keyring_proc.stdin.write(b"callwise-test-keyring")
        keyring_proc.stdin.close()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            probe = subprocess.run(
                ["dbus-send", "--session", "--print-reply", "--dest=org.freedesktop.DBus",
                 "/org/freedesktop/DBus", "org.freedesktop.DBus.NameHasOwner",
                 "string:org.freedesktop.secrets"],
                env=full, capture_output=True, text=True, check=False)
            if "boolean true" in probe.stdout:
                break
            time.sleep(0.05)
        else:
            raise RuntimeError("gnome-keyring-daemon did not claim org.freedesktop.secrets")
        yield env
    finally:
        for proc in (keyring_proc, bus):
            if proc is not None and proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
        if bus.stdout is not None:
            bus.stdout.close()
