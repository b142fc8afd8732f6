"""Light and dark: every status colour is readable on the background it is drawn on, and the window
re-colours itself when the system switches theme.

The offscreen platform has no system scheme to switch, so the switch is what Qt does when the
desktop's scheme changes under Fusion: a new application palette (Qt's own dark Fusion palette).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QApplication, QLabel, QTreeWidget, QTreeWidgetItem
from pytestqt.qtbot import QtBot

from app.domain.commitment import CallbackRequest
from app.domain.enums import CallReason
from app.ports.phone import RegistrationChanged
from tests.gui.conftest import Harness
from ui.theme import AA_CONTRAST, DARK, LIGHT, Tones, backgrounds, choose, contrast, dark_palette


def light_palette() -> QPalette:
    style = QApplication.style()
    assert style is not None
    return style.standardPalette()


PALETTES = {"light": light_palette, "dark": dark_palette}


def shown(label: QLabel) -> str:
    """The colour the label's text is drawn in, after its style sheet is applied."""
    label.ensurePolished()
    return label.palette().color(QPalette.ColorRole.WindowText).name()


@pytest.fixture
def restore_palette(qapp: QApplication) -> Iterator[None]:
    before = qapp.palette()
    yield
    qapp.setPalette(before)


def test_contrast_ratio_matches_wcag() -> None:
    assert contrast("#000000", "#ffffff") == pytest.approx(21.0)
    assert contrast("#777777", "#ffffff") == pytest.approx(4.48, abs=0.01)  # the classic fail
    assert contrast("#1b7f3b", "#efefef") < AA_CONTRAST  # the green this app used to draw


@pytest.mark.parametrize(("tones", "palette"), [(LIGHT, "light"), (DARK, "dark")],
                         ids=["light", "dark"])
@pytest.mark.parametrize("tone", ["ok", "warn", "error", "muted"])
@pytest.mark.parametrize("background", ["window", "base", "alternate base"])
def test_every_tone_meets_aa_on_every_background(
        qapp: QApplication, tones: Tones, palette: str, tone: str, background: str) -> None:
    bg = backgrounds(PALETTES[palette]())[background]
    ratio = contrast(tones.pairs()[tone], bg)
    assert ratio >= AA_CONTRAST, (f"{palette} {tone} {tones.pairs()[tone]} on {background} "
                                  f"{bg.name()}: {ratio:.2f}:1")


def test_the_scheme_decides_unless_the_palette_contradicts_it(qapp: QApplication) -> None:
    scheme = Qt.ColorScheme
    assert choose(scheme.Unknown, light_palette()) is LIGHT
    assert choose(scheme.Unknown, dark_palette()) is DARK
    assert choose(scheme.Dark, dark_palette()) is DARK
    assert choose(scheme.Light, light_palette()) is LIGHT
    # A style that keeps a light palette under a dark desktop: dark tones would be unreadable.
    assert choose(scheme.Dark, light_palette()) is LIGHT
    assert choose(scheme.Light, dark_palette()) is DARK


def overdue_row(h: Harness) -> QTreeWidgetItem:
    c, w = h.controller, h.window
    h.graph.commitments.schedule(CallbackRequest("demo-ana-garcia", datetime(2026, 11, 20, 10, 30),
                                                 "America/Chicago", CallReason.TROUBLESHOOTING))
    h.clock.advance(timedelta(hours=1))
    with h.qtbot.waitSignal(c.callbacks_did_load, timeout=5000):
        c.refresh_callbacks()
    tree: QTreeWidget
    for tree in (w.callbacks.mine, w.callbacks.queue):
        if tree.topLevelItemCount():
            item = tree.topLevelItem(0)
            assert item is not None
            assert item.text(0).startswith("Overdue"), item.text(0)
            return item
    raise AssertionError("the overdue callback is in no list")


def test_switching_to_dark_recolours_the_window_readably(
        harness: Harness, qapp: QApplication, restore_palette: None, qtbot: QtBot) -> None:
    h, w = harness, harness.window
    h.pick("Keoni")  # Honolulu at 6 a.m.: OB-WINDOW blocks, most rules pass
    with qtbot.waitSignal(h.controller.registration_did_change, timeout=5000):
        h.phone.emit(RegistrationChanged(True, 200, "registered"))
    w.memo.summary.setPlainText("Customer read out SSN 123-45-6789.")
    qtbot.waitUntil(lambda: bool(w.memo.problems.text()), timeout=5000)
    row = overdue_row(h)

    blocked = w.gate.findChild(QLabel, "mark-OB-WINDOW")
    passed = next(m for m in w.gate.findChildren(QLabel)
                  if m.objectName().startswith("mark-") and m.accessibleName().endswith("passes"))
    reason = w.gate.findChild(QLabel, "rule-OB-WINDOW")
    tinted = {"blocked mark": (blocked, "error"), "passed mark": (passed, "ok"),
              "gate summary": (w.gate.summary, "error"),
              "registration": (w.registration, "ok"), "memo problems": (w.memo.problems, "error")}

    def check(tones: Tones) -> None:
        window_bg = qapp.palette().color(QPalette.ColorRole.Window)
        for what, (label, tone) in tinted.items():
            colour = shown(label)
            assert colour == tones.pairs()[tone], f"{what} is {colour} in the {tones.name} theme"
            assert contrast(colour, window_bg) >= AA_CONTRAST, what
        assert tones.error in reason.text()
        app_palette = qapp.palette()
        plain = {"search results": w.search.results, "my callbacks": w.callbacks.mine,
                 "gate checklist": reason, "callbacks summary": w.callbacks.summary}
        roles = (QPalette.ColorRole.Base, QPalette.ColorRole.Window, QPalette.ColorRole.Text)

        def stale() -> list[str]:
            return [f"{what} keeps the old {role.name} in the {tones.name} theme"
                    for what, widget in plain.items() for role in roles
                    if widget.palette().color(role) != app_palette.color(role)]

        # Plain widgets follow the theme too (Qt posts them the palette change): within the
        # event loop's next turns, not only once the process restarts.
        def followed() -> None:
            assert not stale(), stale()

        qtbot.waitUntil(followed, timeout=5000)  # the last AssertionError names the widget
        row_colour = row.foreground(0).color()
        assert row_colour.name() == tones.error
        for name, bg in backgrounds(qapp.palette()).items():
            assert contrast(row_colour, bg) >= AA_CONTRAST, f"overdue row on {name}"

    check(LIGHT)
    qapp.setPalette(dark_palette())  # what Qt does when the desktop switches to dark
    qtbot.waitUntil(lambda: shown(w.registration) == DARK.ok, timeout=5000)
    check(DARK)
    qapp.setPalette(light_palette())  # and back, without restarting
    qtbot.waitUntil(lambda: shown(w.registration) == LIGHT.ok, timeout=5000)
    check(LIGHT)
