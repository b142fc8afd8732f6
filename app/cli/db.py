"""`callwise db …`: what IT runs on the shared records database (docs/storage.md, "Roles").

  callwise db upgrade  [--database URL]   migrate to the newest schema; re-apply role grants
  callwise db roles    [--database URL]   create the callwise_owner/_agent/_supervisor groups,
                                          hand the database to the owner group, grant (superuser)
  callwise db add-login LOGIN --role agent --agent ID          a desktop login for one agent
  callwise db add-login LOGIN --role supervisor --team T [...]  a dashboard login for teams
  callwise db add-login LOGIN --role owner                      a login that runs migrations

Passwords are never command-line arguments (they would sit in the shell history and in `ps`):
they are read from the environment variable named by --password-env, or asked for twice.
Exit status: 0 done, 1 refused (bad input, wrong user), 3 database unreachable.
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys

from app.ports.store import StoreError, StoreUnavailable

EXIT_OK = 0
EXIT_REFUSED = 1
EXIT_UNAVAILABLE = 3


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    db = sub.add_parser("db", help="upgrade the records database, set up its roles and logins",
                        description="Administer the records database (IT).")
    commands = db.add_subparsers(dest="db_command", metavar="COMMAND", required=True)

    up = commands.add_parser("upgrade", help="migrate the records database to this version",
                             description="Migrate to the newest schema. On PostgreSQL with the "
                                         "Callwise roles set up, re-apply their grants too.")
    _database_option(up)
    up.set_defaults(func=run_upgrade)

    roles = commands.add_parser(
        "roles", help="create the least-privilege PostgreSQL roles (as a superuser)",
        description="Create the group roles callwise_owner, callwise_agent and "
                    "callwise_supervisor, hand the database and its objects to callwise_owner, "
                    "and grant each group exactly what it needs. Safe to run again.")
    _database_option(roles)
    roles.set_defaults(func=run_roles)

    login = commands.add_parser("add-login", help="create (or re-password) a database login",
                                description="Create a PostgreSQL login in one Callwise group, "
                                            "or change its password and mapping.")
    login.add_argument("login", help="the PostgreSQL login name")
    login.add_argument("--role", required=True, choices=("agent", "supervisor", "owner"))
    login.add_argument("--agent", metavar="ID", help="agent id this login writes as (agents)")
    login.add_argument("--team", metavar="TEAM", action="append", default=[],
                       help="a team this login reads (supervisors; repeat for several)")
    login.add_argument("--password-env", metavar="VAR",
                       help="read the password from this environment variable instead of asking")
    _database_option(login)
    login.set_defaults(func=run_add_login)


def _database_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--database", metavar="URL", default=argparse.SUPPRESS,
                   help="database URL (default: the configured records database)")
    p.add_argument("--data-dir", metavar="DIR", default=argparse.SUPPRESS,
                   help=argparse.SUPPRESS)


def database_url(args: argparse.Namespace) -> str:
    """An explicit --database wins here, unlike for the desktop (where IT's locked URL wins):
    these are IT's own commands, and running `db roles` on some other database than the one
    named would be the worst surprise."""
    explicit = getattr(args, "database", None)
    if explicit:
        return str(explicit)
    from app.bootstrap import database_url_for
    from app.settings import load_app_settings

    return database_url_for(load_app_settings(), None, getattr(args, "data_dir", None))


def _fail(exc: Exception) -> int:
    message = getattr(exc, "message", None) or str(exc)
    action = getattr(exc, "action", None)
    print(f"error: {message}" + (f"\n{action}" if action else ""), file=sys.stderr)
    return EXIT_UNAVAILABLE if isinstance(exc, StoreUnavailable) else EXIT_REFUSED


def run_upgrade(args: argparse.Namespace) -> int:
    from app.storage.roles import upgrade_database

    try:
        revision = upgrade_database(database_url(args))
    except (StoreError, ValueError) as exc:
        return _fail(exc)
    print(f"records database at schema {revision}")
    return EXIT_OK


def run_roles(args: argparse.Namespace) -> int:
    from app.storage.roles import GROUPS, setup_roles

    try:
        made = setup_roles(database_url(args))
    except (StoreError, ValueError) as exc:
        return _fail(exc)
    print("created roles: " + (", ".join(made) if made else "none (they existed)"))
    print(f"groups ready: {', '.join(GROUPS)}; grants and row-level security applied")
    print("next: `callwise db add-login NAME --role owner|agent|supervisor` for each person")
    return EXIT_OK


def _password(args: argparse.Namespace) -> str:
    if args.password_env:
        value = os.environ.get(args.password_env, "")
        if not value:
            raise ValueError(f"the environment variable {args.password_env} is empty or unset")
        return value
    first = getpass.getpass(f"Password for {args.login}: ")
    if first != getpass.getpass("Again: "):
        raise ValueError("the two passwords differ")
    return first


def run_add_login(args: argparse.Namespace) -> int:
    from app.storage.roles import create_login

    try:
        create_login(database_url(args), args.login, _password(args), args.role,
                     agent_id=args.agent, teams=args.team)
    except (StoreError, ValueError) as exc:
        return _fail(exc)
    print(f"login {args.login} ready ({args.role})")
    return EXIT_OK
