"""A desktop that cannot start says why in a window: started from the menu, there is no
terminal to read."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QMessageBox
from pytestqt.qtbot import QtBot

from app.bootstrap import company_account
from app.domain.errors import CallwiseError
from app.settings import load_settings
from ui.application import show_start_failure


def _shown_while_open(error: CallwiseError, close_after_s: float | None = None) -> list[str]:
    """Runs the dialog; while it is open, reads what it says, then presses Close (unless it is
    meant to close by itself)."""
    seen: list[str] = []

    def read_then_close() -> None:
        box = QApplication.activeModalWidget()
        if not isinstance(box, QMessageBox):
            QTimer.singleShot(20, read_then_close)
            return
        seen.extend([box.windowTitle(), box.text(), box.informativeText()])
        if close_after_s is None:
            box.button(QMessageBox.StandardButton.Close).click()

    QTimer.singleShot(0, read_then_close)
    show_start_failure(error, close_after_s=close_after_s)
    return seen


def test_a_missing_company_account_says_who_fixes_it(qtbot: QtBot, tmp_path: Path) -> None:
    settings = load_settings(tmp_path / "none.toml", tmp_path / "no-machine.toml")
    with pytest.raises(CallwiseError) as raised:
        company_account(settings)
    _title, text, action = _shown_while_open(raised.value)
    assert text == "No company SIP account is configured on this workstation."
    assert "Ask IT" in action and "callwise --demo" in action


@pytest.mark.timeout(30)
def test_a_scripted_run_closes_the_dialog_by_itself(qtbot: QtBot) -> None:
    seen = _shown_while_open(CallwiseError("The database is locked.", action="Try again."),
                             close_after_s=0.2)
    assert seen[1:] == ["The database is locked.", "Try again."]
    assert QApplication.activeModalWidget() is None
