"""Starting and stopping the desktop: logging, the crash handler, the graph, the window.

Shutdown is staged: the window closes, the last memo draft reaches the disk, the worker stops,
then the graph closes the phone (hang up, unregister, destroy) before the store.
"""

from __future__ import annotations

import argparse
import logging
import sys
import threading
import tomllib
from dataclasses import dataclass
from importlib import resources
from logging.handlers import RotatingFileHandler
from pathlib import Path
from types import TracebackType

import platformdirs
from PySide6.QtCore import QMessageLogContext, QTimer, QtMsgType, qInstallMessageHandler
from PySide6.QtWidgets import QApplication, QMessageBox

from app import bootstrap
from app.domain.enums import Team
from app.domain.errors import CallwiseError
from app.policy.obligations import proof_facts, recording_notice, reminders, script_steps
from app.policy.pack import PolicyPack, VerifyParams
from ui.controller import DeskController
from ui.main_window import MainWindow
from ui.phone_bridge import PhoneBridge
from ui.tasks import TaskRunner
from ui.widgets.script import ScriptTexts

log = logging.getLogger("callwise")


def setup_logging(log_dir: Path | None = None) -> Path:
    folder = log_dir or Path(platformdirs.user_log_dir("Callwise", appauthor=False))
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "callwise.log"
    root = logging.getLogger()
    root.setLevel(logging.INFO)
    handler = RotatingFileHandler(path, maxBytes=5_000_000, backupCount=3, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(threadName)s %(name)s: "
                                           "%(message)s"))
    root.addHandler(handler)
    console = logging.StreamHandler(sys.stderr)
    console.setLevel(logging.ERROR)  # the terminal shows only what someone must act on
    root.addHandler(console)
    logging.getLogger("alembic").setLevel(logging.WARNING)
    route_qt_messages()
    return path


def route_qt_messages() -> None:
    """Qt's own warnings go to our log (the terminal shows only what someone must act on)."""
    qt_log = logging.getLogger("qt")
    levels = {QtMsgType.QtDebugMsg: logging.DEBUG, QtMsgType.QtInfoMsg: logging.INFO,
              QtMsgType.QtWarningMsg: logging.WARNING, QtMsgType.QtCriticalMsg: logging.ERROR,
              QtMsgType.QtFatalMsg: logging.CRITICAL}

    def handler(kind: QtMsgType, _context: QMessageLogContext, message: str) -> None:
        qt_log.log(levels.get(kind, logging.WARNING), "%s", message)

    qInstallMessageHandler(handler)


def install_crash_handler(log_path: Path) -> None:
    """Unexpected errors are crash reports: logged always, a dialog only on the GUI thread."""

    def hook(kind: type[BaseException], value: BaseException, tb: TracebackType | None) -> None:
        log.critical("unexpected error", exc_info=(kind, value, tb))
        app = QApplication.instance()
        if app is not None and threading.current_thread() is threading.main_thread():
            QMessageBox.critical(None, "Callwise hit an unexpected error",
                                 f"{value}\n\nDetails were written to {log_path}. Your call "
                                 "records and memo drafts are kept.")

    sys.excepthook = hook
    threading.excepthook = lambda a: hook(a.exc_type, a.exc_value or Exception(), a.exc_traceback)


def load_templates(company: str) -> dict[str, str]:
    data = tomllib.loads(resources.files("resources.templates").joinpath(
        "notifications.toml").read_text(encoding="utf-8"))
    out = {name: str(entry["text"]) for name, entry in data.items()}
    out["company"] = company
    return out


def script_texts(pack: PolicyPack, team: Team, company: dict[str, str]) -> ScriptTexts:
    """The on-call script, entirely from the pack: a changed rule needs no code change."""
    verify = pack.params("OB-VERIFY", VerifyParams)
    notice = recording_notice(pack)
    facts = proof_facts(pack)
    steps = script_steps(pack, team, company=company.get("company", ""),
                         support_number=company.get("support_number", ""))
    return ScriptTexts(
        verify_prompt=verify.prompt if verify else "Verify the customer's first and last name.",
        recording_notice=notice or "",
        proof_intro="Only after verification, give exactly: " + ", ".join(facts) + ".",
        otp_note="One Time PIN processes are allowed now that the account is verified (OB-OTP).",
        reminders=tuple(f"{text} ({rule_id})" for rule_id, text in reminders(pack, team)),
        team_steps=tuple((rule_id, step.id, step.text) for rule_id, step in steps))


@dataclass
class Desktop:
    """The desktop's GUI-thread objects, built the same way by the app, its tests and screenshots."""

    window: MainWindow
    controller: DeskController
    runner: TaskRunner
    bridge: PhoneBridge

    def close(self) -> None:
        self.controller.shutdown()
        self.runner.drain()


def open_desktop(graph: bootstrap.AppGraph) -> Desktop:
    runner = TaskRunner()
    controller = DeskController(graph.desk, runner,
                                load_templates(graph.company.get("company", "")),
                                commitments=graph.commitments, store=graph.store)
    bridge = PhoneBridge(graph.phone)
    bridge.event_did_arrive.connect(controller.on_phone_event)
    texts = script_texts(graph.pack, graph.desk.agent.team, graph.company)
    window = MainWindow(controller, texts, f"Policy pack {graph.pack.version}")
    return Desktop(window, controller, runner, bridge)


def run(args: argparse.Namespace) -> int:
    log_path = setup_logging()
    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    app.setApplicationName("Callwise")
    app.setApplicationDisplayName("Callwise")
    install_crash_handler(log_path)
    try:
        graph = bootstrap.build(demo=args.demo, database=args.database,
                                data_dir_override=args.data_dir, pack_path=args.pack)
    except CallwiseError as e:
        print(f"callwise: {e.message}" + (f"\n  {e.action}" if e.action else ""), file=sys.stderr)
        return 2
    desktop = open_desktop(graph)
    desktop.window.show()
    graph.start_phone()
    desktop.controller.start()
    if args.dial:
        desktop.controller.open_link(args.dial)
    if args.quit_after is not None:
        QTimer.singleShot(int(args.quit_after * 1000), desktop.window.close)
    try:
        code = app.exec()
    finally:
        desktop.close()
        graph.close()
    log.info("callwise exited with %s", code)
    return int(code)
