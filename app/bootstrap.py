"""The one composition root: builds the object graph from settings. `ui.entry` is its only caller.

Nothing in Callwise is created at import time; everything that owns a resource (the record store,
the SIP owner thread, the demo line process) is made here and torn down by `AppGraph.close` in
a fixed order: phone first (hang up, unregister, destroy), then the demo line, then the store.
"""

from __future__ import annotations

import logging
import os
import re
import subprocess
import sys
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import platformdirs

from app.domain.agent import Agent
from app.domain.clock import Clock, SystemClock
from app.domain.enums import AgentState, Team
from app.domain.errors import CallwiseError
from app.policy.pack import PolicyPack, load_pack
from app.ports.mailer import Mailer
from app.ports.phone import Phone, SipAccountConfig, Transport
from app.ports.store import Shift, Store
from app.services.callbacks import Commitments
from app.services.desk import Desk
from app.settings import Settings, load_settings

log = logging.getLogger(__name__)
APP_NAME = "Callwise"


def user_config_file() -> Path:
    return Path(platformdirs.user_config_dir(APP_NAME, appauthor=False)) / "callwise.toml"


def load_app_settings() -> Settings:
    return load_settings(user_config_file())


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
class AppGraph:
    settings: Settings
    pack: PolicyPack
    store: Store
    phone: Phone
    desk: Desk
    commitments: Commitments
    clock: Clock
    account: SipAccountConfig
    demo_line: DemoLine | None = None
    company: dict[str, str] = field(default_factory=dict)
    _closed: bool = False

    def start_phone(self) -> None:
        self.phone.start(self.account)

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        try:
            self.phone.shutdown(timeout_s=5.0)
        finally:
            if self.demo_line is not None:
                self.demo_line.stop()
            self.store.close()


def _demo_shift(store: Store, agent_id: str, clock: Clock) -> None:
    """The demo agent works a twelve-hour shift around now, so a promised callback stays theirs."""
    now = clock.now()
    with store.unit_of_work() as uow:
        if uow.shifts.covering(agent_id, now) is None:
            start = now.replace(minute=0, second=0, microsecond=0) - timedelta(hours=2)
            uow.shifts.add(Shift(id=f"demo-shift-{start:%Y%m%d%H}", agent_id=agent_id,
                                 starts_at=start, ends_at=start + timedelta(hours=12)))
            uow.commit()


def _agent(settings: Settings, demo: bool) -> Agent:
    if demo:
        from app.demo.customers import demo_agent

        return demo_agent()
    agent_id = str(settings["agent.id"]) or os.environ.get("USER", "agent")
    return Agent(id=agent_id, name=str(settings["agent.name"]) or agent_id,
                 team=Team(settings["agent.team"]), state=AgentState.NOT_READY_OTHER,
                 international_calling=bool(settings["agent.international_calling"]))


def build(*, demo: bool, database: str | None = None, data_dir_override: str | None = None,
          pack_path: str | None = None, settings: Settings | None = None,
          clock: Clock | None = None) -> AppGraph:
    from app.sip.engine import SipPhone
    from app.storage import open_desktop_store

    settings = settings or load_app_settings()
    for name in settings.ignored:
        log.warning("ignoring the user value of %s: IT has locked it machine-wide", name)
    pack = load_pack(Path(pack_path) if pack_path else
                     (Path(settings["policy.pack"]) if settings["policy.pack"] else None))
    clock = clock or SystemClock()
    url = database_url_for(settings, database, data_dir_override, demo)
    # A PostgreSQL URL opens the shared store with a local copy, so the desk keeps working
    # (and catches up exactly once) when the central database is away.
    store = open_desktop_store(url, data_dir(data_dir_override))
    demo_line: DemoLine | None = None
    try:
        agent = _agent(settings, demo)
        if demo:
            from app.demo.customers import seed_demo

            seed_demo(store)
            demo_line = DemoLine()
            demo_line.start()
            domain = f"127.0.0.1:{demo_line.port}"
            account = SipAccountConfig(registrar=f"sip:{domain}", username=agent.id,
                                       domain=domain, transport=Transport.UDP, null_audio=True)
        else:
            account = company_account(settings)
            domain = account.domain
        with store.unit_of_work() as uow:
            stored = uow.agents.get(agent.id)
            if stored is None:
                uow.agents.add(agent)
                uow.commit()
            else:
                agent = stored
        if demo:
            _demo_shift(store, agent.id, clock)
        from app.sip.audio import AudioChoice

        audio = AudioChoice(str(settings["audio.input"]), str(settings["audio.output"]),
                            str(settings["audio.ring"]))
        # The demo line is on loopback; a company registrar is reached over the network.
        phone = SipPhone(audio=audio,
                         bind_host="127.0.0.1" if demo else str(settings["sip.bind_address"]))
        company = {"company": str(settings["company.name"]),
                   "support_number": str(settings["company.support_number"])}
        desk = Desk(store=store, pack=pack, phone=phone, clock=clock, agent=agent,
                    sip_domain=domain, mailer=_mailer(settings),
                    mail_from=str(settings["smtp.from_address"]), company=company)
        commitments = Commitments(store=store, pack=pack, clock=clock, agent=agent)
    except BaseException:
        if demo_line is not None:
            demo_line.stop()
        raise
    return AppGraph(settings=settings, pack=pack, store=store, phone=phone, desk=desk,
                    commitments=commitments, clock=clock,
                    account=account, demo_line=demo_line, company=company)


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


def company_account(settings: Settings) -> SipAccountConfig:
    from app.keyring.secrets import SipSecrets

    registrar = str(settings["sip.registrar"])
    username = str(settings["sip.username"])
    if not registrar or not username:
        raise CallwiseError(
            "No company SIP account is configured on this workstation.",
            action="Ask IT to set sip.registrar and sip.username, or run `callwise --demo`.")
    password = SipSecrets().get_password(username)
    if not password:
        raise CallwiseError(f"No SIP password for {username} in the OS keyring.",
                            action="Ask IT to provision it, or store it with `callwise sip login`.")
    return SipAccountConfig(
        registrar=registrar, username=username,
        domain=str(settings["sip.domain"]) or registrar.removeprefix("sip:"),
        password=password, transport=Transport(settings["sip.transport"]),
        proxy=str(settings["sip.proxy"]) or None,
        tls_ca_file=str(settings["sip.tls_ca_file"]) or None, null_audio=False)
