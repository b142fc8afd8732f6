"""The child side of `app.keyring.lookup.PasswordLookup`: reads one password from the OS keyring
and answers on stdout as one JSON line, then exits.

    python -m app.keyring.answer SERVICE USERNAME

Its own module so that the child imports only what the answer needs: it runs while the desktop
starts, and the sooner it answers, the sooner the phone registers.
"""

from __future__ import annotations

import json
import sys

from app.domain.errors import CallwiseError
from app.keyring.secrets import SipSecrets


def main(argv: list[str]) -> int:
    service, username = argv
    try:
        answer: dict[str, str | None] = {"password": SipSecrets(service).get_password(username)}
    except CallwiseError as e:
        answer = {"error": e.message, "action": e.action}
    sys.stdout.write(json.dumps(answer))
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
