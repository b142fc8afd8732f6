"""Keyboard-first: every shortcut is unique, and every control the agent uses has a name."""

from __future__ import annotations

from collections import Counter

from PySide6.QtGui import QShortcut
from PySide6.QtWidgets import QAbstractButton, QComboBox, QLineEdit, QPlainTextEdit, QTabBar

from tests.gui.conftest import Harness


def test_no_two_actions_share_a_shortcut(harness: Harness) -> None:
    keys = [b.shortcut().toString() for b in harness.window.findChildren(QAbstractButton)
            if not b.shortcut().isEmpty()]
    keys += [s.key().toString() for s in harness.window.findChildren(QShortcut)]
    clashes = {k: n for k, n in Counter(keys).items() if n > 1}
    assert clashes == {}


def test_every_input_and_button_has_an_accessible_name_or_text(harness: Harness) -> None:
    unnamed = []
    for kind in (QLineEdit, QPlainTextEdit, QComboBox):
        for w in harness.window.findChildren(kind):
            if not w.accessibleName() and w.objectName() != "qt_spinbox_lineedit":
                unnamed.append(f"{kind.__name__} {w.objectName() or w}")
    for b in harness.window.findChildren(QAbstractButton):
        if isinstance(b.parent(), (QLineEdit, QTabBar)):
            continue  # Qt's own clear and scroll arrows, named by Qt's accessibility layer
        if not (b.accessibleName() or b.text().strip()):
            unnamed.append(f"button {b.objectName() or b} in {b.parent()}")
    assert unnamed == []
