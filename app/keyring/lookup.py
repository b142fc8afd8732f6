"""Reading a password from the OS keyring in a short-lived child process, started early.

Why a process: importing `keyring` with its Secret Service backend and asking over D-Bus takes
about 140 ms and leaves about 22 MiB (keyring, jeepney, cryptography) in whatever process does
it. The desktop needs the SIP password once, at start-up; a child started before the desktop
imports Qt does the lookup on the other CPU while the window is being built, and takes that
memory with it when it exits. Nobody waits for it: the phone polls `done` from its own loop
and registers once it is (`app.ports.phone.PendingPassword`).

The password travels only over the child's stdout pipe, as one JSON line: never in argv, the
environment, a file or a log. Errors come back as the same `KeyringUnavailable` sentence the
in-process `SipSecrets` would raise. A frozen build (no `python -m`) looks up in-process.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from typing import TYPE_CHECKING

from app.keyring.secrets import SERVICE, KeyringUnavailable, SipSecrets

if TYPE_CHECKING:
    from app.settings import Settings


def company_password_lookup(settings: Settings, *, demo: bool) -> PasswordLookup | None:
    """Starts reading the company account's SIP password now, in a child process, so the
    keyring's import and D-Bus round trip overlap the desktop's own start-up; the phone collects
    the answer (`app.bootstrap.CompanyPassword`). None when no company account will be used
    (demo, or none configured). Imports only the settings: it runs first thing at start-up."""
    username = str(settings["sip.username"])
    if demo or not username or not str(settings["sip.registrar"]):
        return None
    return PasswordLookup(username)


class PasswordLookup:
    """One lookup, started at construction; `result` may be called once, from any one thread."""

    def __init__(self, username: str, service: str = SERVICE, timeout_s: float = 30.0) -> None:
        self.username = username
        self.timeout_s = timeout_s  # a locked keyring may be waiting for the agent to unlock it
        self._service = service
        self._started = time.monotonic()
        self._proc: subprocess.Popen[str] | None = None
        if not getattr(sys, "frozen", False):
            self._proc = subprocess.Popen(
                [sys.executable, "-m", "app.keyring.answer", service, username],
                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                text=True)

    def done(self) -> bool:
        """True once `result` answers without waiting: the child has answered, or its time is
        up (a keyring left locked: `result` then says so)."""
        proc = self._proc
        return (proc is None or proc.poll() is not None
                or time.monotonic() - self._started >= self.timeout_s)

    def result(self) -> str | None:
        """The password, or None when the keyring has none for this user. Waits at most until
        `timeout_s` after the lookup started.

        Raises KeyringUnavailable with the sentence the agent reads."""
        if self._proc is None:
            return SipSecrets(self._service).get_password(self.username)
        proc, self._proc = self._proc, None
        try:
            out, err = proc.communicate(
                timeout=max(0.0, self._started + self.timeout_s - time.monotonic()))
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()
            raise KeyringUnavailable(
                f"The keyring did not answer within {self.timeout_s:.0f} seconds.",
                action="Unlock the keyring and try again.") from None
        try:
            answer = json.loads(out) if proc.returncode == 0 else None
        except ValueError:
            answer = None
        if not isinstance(answer, dict):
            # The child's traceback never holds the password: it had none to print.
            import logging  # here: this module is imported before the desktop sets up logging

            logging.getLogger(__name__).warning("keyring lookup process failed (%s): %s",
                                                proc.returncode, err.strip())
            raise KeyringUnavailable("The keyring lookup failed; details are in the log.",
                                     action="Unlock the keyring and try again.")
        if "error" in answer:
            raise KeyringUnavailable(str(answer["error"]), action=answer.get("action"))
        password = answer.get("password")
        return str(password) if password is not None else None

    def cancel(self) -> None:
        """Stop a lookup nobody will read (start-up failed before the password was needed)."""
        proc, self._proc = self._proc, None
        if proc is not None:
            proc.kill()
            proc.communicate()
