"""SIP passwords live only in the OS keyring, never in a file, the database or a log.

A plaintext or "fail" backend is refused: a desktop that has no real keyring cannot hold the
company account's password, and saying so beats writing it to disk.

`keyring` is imported at first use, not with this module: the desktop reads its password in a
child process (`app.keyring.lookup`) and never loads keyring itself.
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING

from app.domain.errors import CallwiseError

if TYPE_CHECKING:
    import keyring.backend

SERVICE = "Callwise SIP"
SMTP_SERVICE = "Callwise SMTP"
_REFUSED_BACKENDS = ("PlaintextKeyring", "EncryptedKeyring", "Keyring", "ChainerBackend")


class KeyringUnavailable(CallwiseError):
    pass


def backend_name() -> str:
    import keyring

    backend = keyring.get_keyring()
    return f"{type(backend).__module__}.{type(backend).__name__}"


def _checked_backend() -> keyring.backend.KeyringBackend:
    import keyring

    backend = keyring.get_keyring()
    name = type(backend).__name__
    module = type(backend).__module__
    if module.startswith("keyring.backends.fail") or module.startswith("keyrings.alt") or (
            name in _REFUSED_BACKENDS and module.startswith("keyrings")):
        raise KeyringUnavailable(
            f"No secure keyring is available (found {module}.{name}).",
            action="Start the desktop keyring (GNOME Keyring, KWallet or the Windows Credential "
                   "Manager) and try again.")
    if name == "ChainerBackend" and not backend.backends:  # type: ignore[attr-defined]
        raise KeyringUnavailable("No keyring backend is available.",
                                 action="Start the desktop keyring and try again.")
    return backend


class SipSecrets:
    """Reads and stores SIP passwords; called from worker threads, never the GUI thread.

    `service` names the keyring entry: the SIP account by default, `SMTP_SERVICE` for the mail
    account that sends the Service Assurance email.
    """

    def __init__(self, service: str = SERVICE) -> None:
        self._service = service

    def get_password(self, username: str) -> str | None:
        import keyring.errors

        try:
            return _checked_backend().get_password(self._service, username)
        except keyring.errors.KeyringError as e:
            raise KeyringUnavailable(f"The keyring refused to give the SIP password: {e}",
                                     action="Unlock the keyring and try again.") from e

    def set_password(self, username: str, password: str) -> None:
        if not password:
            raise CallwiseError("The SIP password is empty.", action="Type the password again.")
        import keyring.errors

        try:
            _checked_backend().set_password(self._service, username, password)
        except keyring.errors.KeyringError as e:
            raise KeyringUnavailable(f"The keyring refused to store the SIP password: {e}",
                                     action="Unlock the keyring and try again.") from e

    def delete_password(self, username: str) -> None:
        import keyring.errors

        with contextlib.suppress(keyring.errors.PasswordDeleteError):
            _checked_backend().delete_password(self._service, username)
