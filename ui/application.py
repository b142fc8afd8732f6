"""Starting and stopping the desktop: logging, the crash handler, the graph, the window.

Shutdown is staged: the window closes, the last memo draft reaches the disk, the worker stops,
then the graph closes the phone (hang up, unregister, destroy) before the store.
"""

from __future__ import annotations

import argparse
import gc
import logging
import sys
import threading
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from logging.handlers import RotatingFileHandler
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING

import platformdirs
from PySide6.QtCore import QEvent, QMessageLogContext, QObject, QTimer, QtMsgType, qInstallMessageHandler
from PySide6.QtGui import QWindow
from PySide6.QtWidgets import QApplication, QMessageBox

from app import bootstrap
from app.domain.enums import Team
from app.domain.errors import CallwiseError
from ui.controller import DeskController
from ui.main_window import MainWindow
from ui.phone_bridge import PhoneBridge
from ui.tasks import TaskRunner
from ui.widgets.audio import AudioDevices
from ui.widgets.script import ScriptTexts

if TYPE_CHECKING:
    from app.keyring.lookup import PasswordLookup
    from app.policy.pack import PolicyPack
    from app.settings import Settings

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
    from app.policy.obligations import proof_facts, recording_notice, reminders, script_steps
    from app.policy.pack import VerifyParams

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
    audio: AudioDevices | None = None

    def close(self) -> None:
        self.controller.shutdown()
        self.runner.drain()


def open_desktop(graph: bootstrap.AppGraph, bridge: PhoneBridge | None = None) -> Desktop:
    """`bridge`: one made before the phone started (see `run`), else one is made here. When the
    graph's records are already open (`bootstrap.build`), the desktop gets them at once;
    otherwise `open_records` brings them."""
    runner = TaskRunner()
    controller = DeskController(runner, load_templates(graph.company.get("company", "")),
                                clock=graph.clock, demo_ring=bool(graph.demo_ring_uri))
    bridge = bridge or PhoneBridge(graph.phone)
    bridge.event_did_arrive.connect(controller.on_phone_event)
    window = MainWindow(controller)
    audio = AudioDevices(graph.phone, runner, graph.user_settings_file, window)
    bridge.event_did_arrive.connect(audio.on_phone_event)
    window.audio_action.triggered.connect(lambda: audio.open_dialog(window))
    audio.warnings_did_arrive.connect(lambda text: window.statusBar().showMessage(text, 20_000))
    desktop = Desktop(window, controller, runner, bridge, audio)
    if graph.records is not None:
        use_records(desktop, graph.records, records_script(graph, graph.records))
    return desktop


def records_script(graph: bootstrap.AppGraph, records: bootstrap.Records) -> ScriptTexts:
    return script_texts(records.pack, records.desk.agent.team, graph.company)


def use_records(desktop: Desktop, records: bootstrap.Records, texts: ScriptTexts) -> None:
    """Hands the opened records (the policy pack, the store and the services on them) to the
    controller and the window. The controller's `start` comes next."""
    desktop.controller.use_records(records.desk, records.commitments, records.store)
    desktop.window.use_policy(texts, records.pack.version)


class WhenUp(QObject):
    """Runs `then` once, when the window is on screen and the phone has its first registration
    answer (registered or not), or after `cap_ms` at the latest. Owned by the GUI thread.

    Why wait: opening the records imports SQLAlchemy (about 200 ms of Python) on the worker;
    started at once it competes for the GIL with the window's first frame and the SIP thread's
    REGISTER, and the window and the phone line came up about 130 ms later (measured, see
    docs/benchmarks/desktop.md), while the records were not open any sooner.
    """

    def __init__(self, desktop: Desktop, then: Callable[[], None], cap_ms: int = 1500) -> None:
        super().__init__(desktop.window)
        self._then: Callable[[], None] | None = then
        self._exposed = False
        self._answered = False
        handle = desktop.window.windowHandle()
        if handle is None or handle.isExposed():
            self._exposed = True
        else:
            handle.installEventFilter(self)
        desktop.controller.registration_did_change.connect(self._phone_answered)
        QTimer.singleShot(cap_ms, self, self._fire)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if (event.type() == QEvent.Type.Expose and isinstance(watched, QWindow)
                and watched.isExposed()):
            self._exposed = True
            watched.removeEventFilter(self)
            if self._answered:
                QTimer.singleShot(0, self, self._fire)  # after this frame is handed over
        return False

    def _phone_answered(self, _event: object) -> None:
        self._answered = True
        if self._exposed:
            self._fire()

    def _fire(self) -> None:
        then, self._then = self._then, None
        if then is not None:
            then()

    def cancel(self) -> None:
        self._then = None


def open_records(graph: bootstrap.AppGraph, desktop: Desktop,
                 then: Callable[[], None] | None = None) -> None:
    """Loads the policy pack and opens the record store on the desk worker, after the window is
    shown and the phone is registering (the policy, SQLAlchemy and a migration check are about
    250 ms the agent need not wait for). Work the agent asks for meanwhile queues behind it on
    the same worker; the window says "Opening records…" and keeps the controls that need them
    disabled. A pack or a store that does not open is shown in the window and logged; nothing is
    written anywhere else."""
    gc.enable()  # off since `ui.entry` started the desktop: the window is up now
    window, controller = desktop.window, desktop.controller
    window.show_records_opening()

    def opened(result: tuple[bootstrap.Records, ScriptTexts]) -> None:
        use_records(desktop, *result)
        window.show_records_open()
        log.info("records open: customer search enabled")
        controller.start()
        if then is not None:
            then()

    def failed(error: CallwiseError) -> None:
        log.error("records not open: %s%s", error.message,
                  f" ({error.action})" if error.action else "")
        window.show_records_failed(error)

    def open_then_warm_up() -> tuple[bootstrap.Records, ScriptTexts]:
        from app.policy.numbers import warm_up as warm_up_numbers

        records = graph.open_records()
        texts = records_script(graph, records)
        # phonenumbers is imported on the first number read: here, on the worker, rather than
        # on the GUI thread when the agent looks at the first customer.
        warm_up_numbers()
        return records, texts

    desktop.runner.submit(open_then_warm_up, opened, failed)


def show_start_failure(error: CallwiseError, close_after_s: float | None = None) -> None:
    """Says why the desktop did not start in a window as well as on the terminal: an agent who
    starts Callwise from the menu has no terminal, and would otherwise see nothing happen.
    `close_after_s`: scripted runs (`--quit-after`) close it by themselves."""
    box = QMessageBox(QMessageBox.Icon.Critical, "Callwise cannot start", error.message,
                      QMessageBox.StandardButton.Close)
    box.setObjectName("startFailure")
    if error.action:
        box.setInformativeText(error.action)
    if close_after_s is not None:
        QTimer.singleShot(int(close_after_s * 1000), box, box.reject)
    box.exec()


def run(args: argparse.Namespace, *, settings: Settings | None = None,
        password: PasswordLookup | None = None) -> int:
    """`settings` and `password` (a lookup already under way) come from `ui.entry`, which
    starts the keyring lookup before Qt is imported."""
    log_path = setup_logging()
    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    app.setApplicationName("Callwise")
    app.setApplicationDisplayName("Callwise")
    install_crash_handler(log_path)
    try:
        graph = bootstrap.prepare(demo=args.demo, database=args.database,
                                  data_dir_override=args.data_dir, pack_path=args.pack,
                                  settings=settings, password=password)
    except CallwiseError as e:
        log.warning("the desktop did not start: %s", e.said())  # the file; the terminal below
        print("callwise: " + e.said("\n  "), file=sys.stderr)
        show_start_failure(e, close_after_s=args.quit_after)
        return 2
    try:
        # The phone registers while the window is built (about 40 ms, longer than the REGISTER
        # round trip); the bridge queues what it says until the window listens.
        bridge = PhoneBridge(graph.phone)
        graph.start_phone()
        desktop = open_desktop(graph, bridge)
        desktop.window.show()
    except BaseException:
        graph.close()
        raise
    link = args.dial
    desktop.window.show_records_opening()
    after_phone = WhenUp(desktop, lambda: open_records(
        graph, desktop, (lambda: desktop.controller.open_link(link)) if link else None))
    if args.quit_after is not None:
        QTimer.singleShot(int(args.quit_after * 1000), desktop.window.close)
    try:
        code = app.exec()
    finally:
        after_phone.cancel()
        desktop.close()
        graph.close()
    if code == 0 and not graph.records_open:
        code = 2  # the records never opened (the reason was shown and logged): not a clean run
    log.info("callwise exited with %s", code)
    return int(code)
