"""`callwise password …`: IT puts the SIP and mail passwords into the OS keyring, and nowhere else.

  callwise password set sip  [--user NAME] [--password-env VAR]   the agent's SIP account
  callwise password set smtp [--user NAME] [--password-env VAR]   the Service Assurance mailer
  callwise password clear sip|smtp [--user NAME]

The user name defaults to the configured one (`sip.username`, `smtp.username`). Passwords are
never command-line arguments (shell history, `ps`): they are asked for twice without echo, or
read from the environment variable named by --password-env (for deployment scripts).
A plaintext keyring is refused, as at start-up. Exit status: 0 done, 1 refused, 3 no keyring.
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys

from app.domain.errors import CallwiseError

EXIT_OK = 0
EXIT_REFUSED = 1
EXIT_NO_KEYRING = 3

_ACCOUNTS = {"sip": ("sip.username", "SIP"), "smtp": ("smtp.username", "mail server")}


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    pw = sub.add_parser("password", help="store or remove the SIP or mail password in the OS keyring",
                        description="Store or remove an account password in the OS keyring (IT).")
    commands = pw.add_subparsers(dest="password_command", metavar="COMMAND", required=True)
    store = commands.add_parser("set", help="store the password (asked for twice, not echoed)")
    _account_options(store)
    store.add_argument("--password-env", metavar="VAR",
                       help="read the password from this environment variable instead of asking")
    store.set_defaults(func=run_set)
    clear = commands.add_parser("clear", help="remove the stored password")
    _account_options(clear)
    clear.set_defaults(func=run_clear)


def _account_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("account", choices=sorted(_ACCOUNTS), help="which account's password")
    p.add_argument("--user", metavar="NAME", default="",
                   help="the account's user name (default: the configured one)")


def _user(args: argparse.Namespace) -> str:
    if args.user:
        return str(args.user)
    from app.settings import load_app_settings

    setting, words = _ACCOUNTS[args.account]
    configured = str(load_app_settings()[setting])
    if not configured:
        raise CallwiseError(f"No {words} user name is configured on this workstation.",
                            action=f"Pass --user NAME, or set {setting} first.")
    return configured


def _password(args: argparse.Namespace, user: str) -> str:
    if args.password_env:
        value = os.environ.get(args.password_env, "")
        if not value:
            raise CallwiseError(f"The environment variable {args.password_env} is empty or unset.",
                                action="Export the password in it, or leave out --password-env.")
        return value
    first = getpass.getpass(f"Password for {user}: ")
    if first != getpass.getpass("Again: "):
        raise CallwiseError("The two passwords differ; nothing was stored.",
                            action="Run the command again.")
    return first


def _service(account: str) -> str:
    from app.keyring.secrets import SERVICE, SMTP_SERVICE

    return SMTP_SERVICE if account == "smtp" else SERVICE


def _fail(error: CallwiseError) -> int:
    from app.keyring.secrets import KeyringUnavailable

    print("callwise password: " + error.said("\n  "), file=sys.stderr)
    return EXIT_NO_KEYRING if isinstance(error, KeyringUnavailable) else EXIT_REFUSED


def run_set(args: argparse.Namespace) -> int:
    from app.keyring.secrets import SipSecrets

    try:
        user = _user(args)
        password = _password(args, user)
        SipSecrets(_service(args.account)).set_password(user, password)
    except CallwiseError as e:
        return _fail(e)
    print(f"Stored the {_ACCOUNTS[args.account][1]} password for {user} in the OS keyring.")
    return EXIT_OK


def run_clear(args: argparse.Namespace) -> int:
    from app.keyring.secrets import SipSecrets

    try:
        user = _user(args)
        SipSecrets(_service(args.account)).delete_password(user)
    except CallwiseError as e:
        return _fail(e)
    print(f"Removed the {_ACCOUNTS[args.account][1]} password for {user} from the OS keyring.")
    return EXIT_OK
