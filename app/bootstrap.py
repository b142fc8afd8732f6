"""The one composition root: builds the object graph from settings. `ui.entry` is its only caller.

Nothing in Callwise is created at import time; everything that owns a resource (the record store,
the SIP owner thread, the demo line process) is made here and torn down by `AppGraph.close` in
a fixed order: phone first (hang up, unregister, destroy), then the demo line, then the store.

Module-level imports are kept light (settings, errors, the phone port). The SIP password lookup
(`app.keyring.lookup.company_password_lookup`) starts before this module is imported, from the
settings alone; the phone adapter is imported by `prepare`, and the policy, the services and the
store only when the records open (`AppGraph.open_records`), on the desk worker after the
window's first frame.
"""

from __future__ import annotations

import logging
import os
import re
import subprocess
import sys
import threading
from dataclasses import dataclass, field, replace
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import platformdirs

from app.domain.errors import CallwiseError, RecordsNotOpen
from app.ports.phone import DtmfMethod, PendingPassword, SipAccountConfig, Transport
from app.settings import APP_NAME, Settings, audio_choice, load_app_settings, user_config_file

if TYPE_CHECKING:
    from app.domain.agent import Agent
    from app.domain.clock import Clock
    from app.keyring.lookup import PasswordLookup
    from app.policy.pack import PolicyPack
    from app.ports.mailer import Mailer
    from app.ports.phone import Phone
    from app.ports.store import Store
    from app.services.callbacks import Commitments
    from app.services.desk import Desk

log = logging.getLogger(__name__)


def data_dir(override: str | None) -> Path:
    path = Path(override) if override else Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))
    path.mkdir(parents=True, exist_ok=True)
    return path


def database_url_for(settings: Settings, override: str | None, data_dir_override: str | None,
                     demo: bool = False) -> str:
    """Machine-locked URL wins over the command line: IT's central store is not a user choice."""
    configured = str(settings["database.url"])
    if configured:
        return configured
    if override:
        return override
    name = "demo.sqlite3" if demo else "callwise.sqlite3"
    return f"sqlite:///{data_dir(data_dir_override) / name}"


# app.demo.line.RING_ME_USER, spelled out so start-up does not import the line's asyncio code.
DEMO_RING_USER = "ring-me"


def demo_ring_uri(domain: str) -> str:
    """Where the desktop asks the demo line for a demo customer's call (`Desk.ring_me`)."""
    return f"sip:{DEMO_RING_USER}@{domain}"


class DemoLine:
    """The demo line as a child process: registrar and called party on loopback."""

    def __init__(self) -> None:
        self._proc: subprocess.Popen[str] | None = None
        self.port = 0

    def start(self) -> None:
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "app.demo.line", "--host", "127.0.0.1", "--port", "0",
             "--parent-pid", str(os.getpid())],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"})
        assert self._proc.stdout is not None
        line = self._proc.stdout.readline()
        match = re.search(r"listening on 127\.0\.0\.1:(\d+)", line)
        if not match:
            self.stop()
            raise CallwiseError("The demo line did not start.",
                                action="Run `python -m app.demo.line` to see why.")
        self.port = int(match.group(1))

    def stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()


@dataclass
class Records:
    """What opening the records brings: the policy pack, the record store, and the desk and
    callbacks services built on both; made on the desk worker by `AppGraph.open_records`."""

    pack: PolicyPack
    store: Store
    desk: Desk
    commitments: Commitments


@dataclass
class AppGraph:
    """Built on the GUI thread by `prepare` (or `build`); `open_records` runs on the desk worker.

    `prepare` makes what the window and the phone need; the policy pack, the store and the
    services on them (`records`) come from `open_records`, set under `_lock` so that `close` on
    the GUI thread always closes the store that is really open. Until then `pack`, `store`,
    `desk` and `commitments` refuse with the sentence the agent reads.
    """

    settings: Settings
    phone: Phone
    clock: Clock
    account: SipAccountConfig
    agent: Agent  # from the settings; the stored agent wins once the records are open
    password: PendingPassword | None = None  # the account's, when it is still being read
    records: Records | None = None
    pack_path: Path | None = None  # None: the pack shipped with Callwise
    demo_line: DemoLine | None = None
    company: dict[str, str] = field(default_factory=dict)
    records_url: str = ""
    data_dir: Path | None = None
    demo: bool = False
    demo_ring_uri: str = ""  # `callwise --demo` only: see `Desk.ring_me`
    user_settings_file: Path | None = None  # where the agent's own choices (audio) are saved
    _closed: bool = False
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def start_phone(self) -> None:
        self.phone.start(self.account, self.password)

    @property
    def records_open(self) -> bool:
        return self.records is not None

    def _opened(self) -> Records:
        if self.records is None:
            raise RecordsNotOpen()
        return self.records

    @property
    def pack(self) -> PolicyPack:
        return self._opened().pack

    @property
    def store(self) -> Store:
        return self._opened().store

    @property
    def desk(self) -> Desk:
        return self._opened().desk

    @property
    def commitments(self) -> Commitments:
        return self._opened().commitments

    def open_records(self) -> Records:
        """Loads the policy pack, opens (and if due, migrates) the record store, then builds the
        desk and callbacks on them.

        Runs on the desk worker, after the window is shown and the phone is registering: the
        policy modules, the pack, SQLAlchemy and a migration check are about 250 ms the first
        frame need not wait for. A pack that cannot be used stops here, before the store is
        touched. Any failure comes out as a CallwiseError whose sentence says what went wrong."""
        from app.policy.pack import PackError, load_pack
        from app.services.callbacks import Commitments
        from app.services.desk import Desk

        try:
            pack = load_pack(self.pack_path)
        except PackError as exc:  # its message is "FILE:LINE: problem", for IT
            raise CallwiseError(f"The policy pack could not be loaded: {exc.message}.",
                                action=exc.action) from exc
        try:
            from app.storage import open_desktop_store

            # A PostgreSQL URL opens the shared store with a local copy, so the desk keeps
            # working (and catches up exactly once) when the central database is away.
            store = open_desktop_store(self.records_url, self.data_dir or data_dir(None))
        except CallwiseError:
            raise
        except Exception as exc:  # a bad URL, a refused journal mode, a failed migration
            # The details go to the log file; the sentence below is what the agent reads.
            log.warning("the record store did not open", exc_info=True)
            raise CallwiseError(
                f"The call records could not be opened: {exc}",
                action="Run `callwise doctor` to check the database, then start Callwise again."
            ) from exc
        try:
            agent = self.agent
            if self.demo:
                from app.demo.customers import seed_demo

                seed_demo(store)
            with store.unit_of_work() as uow:
                stored = uow.agents.get(agent.id)
                if stored is None:
                    uow.agents.add(agent)
                    uow.commit()
                else:
                    agent = stored
            if self.demo:
                _demo_shift(store, agent.id, self.clock)
            desk = Desk(store=store, pack=pack, phone=self.phone, clock=self.clock,
                        agent=agent, sip_domain=self.account.domain,
                        mailer=_mailer(self.settings),
                        mail_from=str(self.settings["smtp.from_address"]), company=self.company,
                        demo_ring_uri=self.demo_ring_uri)
            commitments = Commitments(store=store, pack=pack, clock=self.clock, agent=agent)
            records = Records(pack, store, desk, commitments)
            with self._lock:
                if self._closed:
                    raise CallwiseError("Callwise is closing.")
                self.records = records
        except BaseException:
            store.close()
            raise
        log.info("call records open for %s", agent.id)
        return records

    def close(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
        try:
            self.phone.shutdown(timeout_s=5.0)
        finally:
            if self.demo_line is not None:
                self.demo_line.stop()
            if self.records is not None:
                self.records.store.close()


def _demo_shift(store: Store, agent_id: str, clock: Clock) -> None:
    """The demo agent works a twelve-hour shift around now, so a promised callback stays theirs."""
    from app.ports.store import Shift

    now = clock.now()
    with store.unit_of_work() as uow:
        if uow.shifts.covering(agent_id, now) is None:
            start = now.replace(minute=0, second=0, microsecond=0) - timedelta(hours=2)
            uow.shifts.add(Shift(id=f"demo-shift-{start:%Y%m%d%H}", agent_id=agent_id,
                                 starts_at=start, ends_at=start + timedelta(hours=12)))
            uow.commit()


def _agent(settings: Settings, demo: bool) -> Agent:
    from app.domain.agent import Agent
    from app.domain.enums import AgentState, Team

    if demo:
        from app.demo.customers import demo_agent

        return demo_agent()
    agent_id = str(settings["agent.id"]) or os.environ.get("USER", "agent")
    return Agent(id=agent_id, name=str(settings["agent.name"]) or agent_id,
                 team=Team(settings["agent.team"]), state=AgentState.NOT_READY_OTHER,
                 international_calling=bool(settings["agent.international_calling"]))


def prepare(*, demo: bool, database: str | None = None, data_dir_override: str | None = None,
            pack_path: str | None = None, settings: Settings | None = None,
            clock: Clock | None = None, password: PasswordLookup | None = None) -> AppGraph:
    """The graph without its records: what the window and the phone need, so they come up
    first; `AppGraph.open_records` brings the policy pack and the store in on the desk worker.

    `password`: the lookup `company_password_lookup` started for these settings, if any."""
    from app.domain.clock import SystemClock
    from app.sip.engine import SipPhone

    settings = settings or load_app_settings()
    for name in settings.ignored:
        log.warning("ignoring the user value of %s: IT has locked it machine-wide", name)
    pack_setting = pack_path or str(settings["policy.pack"])
    clock = clock or SystemClock()
    url = database_url_for(settings, database, data_dir_override, demo)
    agent = _agent(settings, demo)
    demo_line: DemoLine | None = None
    pending: CompanyPassword | None = None  # the demo line asks for none
    try:
        if demo:
            demo_line = DemoLine()
            demo_line.start()
            domain = f"127.0.0.1:{demo_line.port}"
            account = SipAccountConfig(registrar=f"sip:{domain}", username=agent.id,
                                       domain=domain, transport=Transport.UDP, null_audio=True)
        else:
            account = company_line(settings)
            pending = CompanyPassword(account.username, password)
    except BaseException:
        if demo_line is not None:
            demo_line.stop()
        raise
    audio = audio_choice(settings)
    # The demo line is on loopback; a company registrar is reached over the network.
    phone = SipPhone(audio=audio,
                     bind_host="127.0.0.1" if demo else str(settings["sip.bind_address"]))
    company = {"company": str(settings["company.name"]),
               "support_number": str(settings["company.support_number"])}
    return AppGraph(settings=settings, phone=phone, clock=clock, account=account, agent=agent,
                    password=pending,
                    pack_path=Path(pack_setting) if pack_setting else None,
                    demo_line=demo_line, company=company, records_url=url,
                    data_dir=data_dir(data_dir_override), demo=demo,
                    demo_ring_uri=demo_ring_uri(account.domain) if demo else "",
                    user_settings_file=user_config_file())


def build(*, demo: bool, database: str | None = None, data_dir_override: str | None = None,
          pack_path: str | None = None, settings: Settings | None = None,
          clock: Clock | None = None, password: PasswordLookup | None = None) -> AppGraph:
    """The whole graph at once, records open (tests, screenshots, tools): `prepare`, then
    `open_records` on this thread. The desktop itself opens the records after its window."""
    graph = prepare(demo=demo, database=database, data_dir_override=data_dir_override,
                    pack_path=pack_path, settings=settings, clock=clock, password=password)
    try:
        graph.open_records()
    except BaseException:
        graph.close()
        raise
    return graph


def _mailer(settings: Settings) -> Mailer | None:
    """The Service Assurance email's mail server, when IT configured one (SA-EMAILFIRST)."""
    if not settings["smtp.host"]:
        return None
    from app.keyring.secrets import SMTP_SERVICE, SipSecrets
    from app.mail import SmtpConfig, SmtpMailer

    config = SmtpConfig(host=str(settings["smtp.host"]), port=int(settings["smtp.port"]),
                        security=settings["smtp.security"],
                        from_address=str(settings["smtp.from_address"]),
                        username=str(settings["smtp.username"]),
                        ca_file=str(settings["smtp.ca_file"]))
    password = SipSecrets(SMTP_SERVICE).get_password(config.username) if config.username else None
    return SmtpMailer(config, password)


def company_line(settings: Settings) -> SipAccountConfig:
    """The company account as IT configured it, without its password (see `CompanyPassword`).
    Raises CallwiseError when there is no account to register."""
    registrar = str(settings["sip.registrar"])
    username = str(settings["sip.username"])
    if not registrar or not username:
        raise CallwiseError(
            "No company SIP account is configured on this workstation.",
            action="Ask IT to set sip.registrar and sip.username, or run `callwise --demo`.")
    return SipAccountConfig(
        registrar=registrar, username=username,
        domain=str(settings["sip.domain"]) or registrar.removeprefix("sip:"),
        transport=Transport(settings["sip.transport"]),
        proxy=str(settings["sip.proxy"]) or None,
        tls_ca_file=str(settings["sip.tls_ca_file"]) or None, null_audio=False,
        dtmf_method=DtmfMethod(settings["sip.dtmf_method"]))


class CompanyPassword:
    """The company account's SIP password, from a keyring lookup already under way (or one
    started here). The desktop hands it to the phone, which starts its SIP stack meanwhile and
    registers once it is read (`app.ports.phone.PendingPassword`): neither the window nor the
    phone's thread waits for the keyring."""

    def __init__(self, username: str, lookup: PasswordLookup | None = None) -> None:
        if lookup is None or lookup.username != username:
            from app.keyring.lookup import PasswordLookup

            lookup = PasswordLookup(username)
        self.username = username
        self._lookup = lookup

    def done(self) -> bool:
        return self._lookup.done()

    def result(self) -> str:
        password = self._lookup.result()
        if not password:
            raise CallwiseError(f"No SIP password for {self.username} in the OS keyring.",
                                action="Ask IT to provision it, or store it with "
                                       "`callwise password set sip`.")
        return password


def company_account(settings: Settings, lookup: PasswordLookup | None = None) -> SipAccountConfig:
    """The company account with its password, read now (`callwise doctor --test-call`)."""
    line = company_line(settings)
    return replace(line, password=CompanyPassword(line.username, lookup).result())
