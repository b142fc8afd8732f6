"""Status colours that stay readable in the light and the dark theme the system picks.

Qt already follows the system colour scheme for the palette (window, base, text); what it cannot
know is our status colours (a rule that passes, a callback that is late). A colour chosen for a
white window is unreadable on a dark one, so every status colour here comes as a light and a dark
tone, each at least WCAG AA (4.5:1) against every background it is drawn on (window, base,
alternate base) — tests/gui/test_theme.py checks every pair.

Widgets never hold a colour: they name a tone (`tint(label, "error")`) or ask `tones()` while
painting, and `Theme` re-applies both when the system scheme or the application palette changes.
Owned by the GUI thread.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from math import ceil
from typing import Literal

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import (
    QAbstractButton,
    QApplication,
    QComboBox,
    QLabel,
    QPlainTextEdit,
    QScrollArea,
    QTabWidget,
    QWidget,
)

from app.domain.commitment import Urgency

Tone = Literal["ok", "warn", "error", "muted"]
AA_CONTRAST = 4.5  # WCAG 2.x level AA for normal-size text
_TONE = "callwiseTone"  # dynamic properties a tinted label carries, read back on a theme change
_BOLD = "callwiseBold"


@dataclass(frozen=True)
class Tones:
    """One theme's status colours, as #rrggbb names (what style sheets and QColor both take)."""

    name: str
    ok: str
    warn: str
    error: str
    muted: str

    def urgency(self, level: Urgency) -> str | None:
        """COMMIT: a late callback is an error, one due soon a warning, a later one plain text."""
        return {Urgency.OVERDUE: self.error, Urgency.DUE_SOON: self.warn}.get(level)

    def pairs(self) -> dict[str, str]:
        return {"ok": self.ok, "warn": self.warn, "error": self.error, "muted": self.muted}


# Darker than the usual "material" tones on purpose: Fusion's light window is #efefef and its
# alternate rows darker still, where #1b7f3b green and #777777 grey fall under 4.5:1.
LIGHT = Tones("light", ok="#1a7536", warn="#7a4f00", error="#b3261e", muted="#5f5f5f")
DARK = Tones("dark", ok="#7ddc8f", warn="#f0b84a", error="#ff9e94", muted="#b0b0b0")


def luminance(colour: QColor) -> float:
    """WCAG relative luminance of an opaque sRGB colour."""

    def linear(c: float) -> float:
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    return (0.2126 * linear(colour.redF()) + 0.7152 * linear(colour.greenF())
            + 0.0722 * linear(colour.blueF()))


def contrast(foreground: QColor | str, background: QColor | str) -> float:
    """WCAG contrast ratio, 1.0 (same) to 21.0 (black on white)."""
    a, b = luminance(QColor(foreground)), luminance(QColor(background))
    hi, lo = max(a, b), min(a, b)
    return (hi + 0.05) / (lo + 0.05)


def backgrounds(palette: QPalette) -> dict[str, QColor]:
    """What status text is drawn on: labels on the window, list rows on base and alternate base."""
    role = QPalette.ColorRole
    return {"window": palette.color(role.Window), "base": palette.color(role.Base),
            "alternate base": palette.color(role.AlternateBase)}


def _readable(tones: Tones, palette: QPalette) -> bool:
    return all(contrast(colour, bg) >= AA_CONTRAST
               for colour in tones.pairs().values() for bg in backgrounds(palette).values())


def choose(scheme: Qt.ColorScheme, palette: QPalette) -> Tones:
    """The system scheme decides; when it is unknown, the window's lightness does.

    A style can ignore the scheme (a light custom palette under a dark desktop): then the scheme's
    tones would be drawn on the wrong background, so the palette wins whenever the scheme's tones
    fail the contrast bar on it.
    """
    by_palette = DARK if palette.color(QPalette.ColorRole.Window).lightnessF() < 0.5 else LIGHT
    if scheme == Qt.ColorScheme.Dark:
        wanted = DARK
    elif scheme == Qt.ColorScheme.Light:
        wanted = LIGHT
    else:
        wanted = by_palette
    return wanted if _readable(wanted, palette) else by_palette


_chosen: dict[tuple[Qt.ColorScheme, int], Tones] = {}


def tones() -> Tones:
    """The tones for the application's current scheme and palette (light before a QApplication).

    Remembered per scheme and palette (`QPalette.cacheKey` changes with any colour): every
    tinted label asks, and choosing checks the contrast of every tone on every background."""
    app = QApplication.instance()
    if not isinstance(app, QGuiApplication):
        return LIGHT
    scheme, palette = app.styleHints().colorScheme(), app.palette()
    key = (scheme, palette.cacheKey())
    chosen = _chosen.get(key)
    if chosen is None:
        if len(_chosen) > 16:
            _chosen.clear()
        chosen = _chosen[key] = choose(scheme, palette)
    return chosen


def dark_palette() -> QPalette:
    """Fusion's palette under a dark system scheme (Qt's qt_fusionPalette(dark)), for previews:
    screenshots and tests, where the offscreen platform has no system scheme to follow."""
    window, text = QColor(50, 50, 50), QColor(240, 240, 240)
    base, mid, dark = window.darker(140), window.darker(130), window.darker(150)
    role, group = QPalette.ColorRole, QPalette.ColorGroup
    p = QPalette(window)
    for r, colour in ((role.Window, window), (role.Button, window), (role.WindowText, text),
                      (role.Text, text), (role.ButtonText, text), (role.BrightText, text),
                      (role.Base, base), (role.AlternateBase, base.lighter(130)),
                      (role.Light, window.lighter(150)), (role.Mid, mid),
                      (role.Midlight, mid.lighter(110)), (role.Dark, dark),
                      (role.Shadow, dark.darker(135)), (role.Highlight, QColor(48, 140, 198)),
                      (role.HighlightedText, text), (role.Link, QColor(100, 170, 240)),
                      (role.LinkVisited, QColor(190, 140, 240)), (role.ToolTipBase, window),
                      (role.ToolTipText, text)):
        p.setColor(r, colour)
    placeholder = QColor(text)
    placeholder.setAlpha(128)
    p.setColor(role.PlaceholderText, placeholder)
    for r in (role.Text, role.WindowText, role.ButtonText):
        p.setColor(group.Disabled, r, QColor(130, 130, 130))
    p.setColor(group.Disabled, role.Base, window)
    p.setColor(group.Disabled, role.Shadow, dark.darker(135).lighter(150))
    return p


def lines_high(box: QPlainTextEdit, lines: float) -> int:
    """A text box's height for so many lines of its own font: fixed pixel heights cut text off
    when the font is larger (accessibility settings, a 4K screen at 150 %)."""
    margins = box.contentsMargins()
    return ceil(lines * box.fontMetrics().lineSpacing() + 2 * box.document().documentMargin()
                + margins.top() + margins.bottom())


def emphasise(widget: QWidget, point_size: float | None = None) -> None:
    """Bold (and optionally larger) text set on the widget's font, not by a style sheet: a sheet
    on the window would send every child through Qt's style-sheet style (slower to build, and it
    stops palette changes reaching the children)."""
    font = widget.font()
    font.setBold(True)
    if point_size is not None:
        font.setPointSizeF(point_size)
    widget.setFont(font)


def chars_wide(widget: QWidget, chars: int) -> int:
    """A width for so many average characters of the widget's font, for the same reason."""
    return widget.fontMetrics().averageCharWidth() * chars


def _style(tone: str | None, bold: bool) -> str:
    colour = tones().pairs().get(tone) if tone else None
    # Only while enabled: a disabled label (the gate's checklist during a call) greys out.
    parts = ([f"QLabel:enabled {{ color: {colour}; }}"] if colour else []) + (
        ["QLabel { font-weight: bold; }"] if bold else [])
    return " ".join(parts)


def tint(label: QLabel, tone: Tone | None, bold: bool = False) -> None:
    """Colour a label by meaning, not by value: `Theme` re-applies it when the theme changes.
    `None` gives the palette's own text colour back."""
    label.setProperty(_TONE, tone or "")
    label.setProperty(_BOLD, bold)
    style = _style(tone, bold)
    if label.styleSheet() != style:  # setting one re-polishes the label even when unchanged
        label.setStyleSheet(style)
    if isinstance(QApplication.instance(), QApplication):
        Theme.of()  # so that a theme change reaches this label, whoever built it


def tone_of(label: QWidget) -> str:
    """The tone a label was tinted with ("" for none): what tests and accessibility read back."""
    return str(label.property(_TONE) or "")


def retint_all() -> None:
    """Re-colour tinted labels (the only widgets Callwise gives a style sheet).

    Setting a label's sheet again also re-polishes it: Qt does not pass a new application
    palette down through a widget that has a style sheet until the sheet is set again.
    """
    for widget in QApplication.allWidgets():
        tone = widget.property(_TONE)
        if tone is not None and isinstance(widget, QLabel):
            widget.setStyleSheet(_style(str(tone) or None, bool(widget.property(_BOLD))))


class Theme(QObject):
    """Watches the system scheme and the application palette; one per application.

    Labels tinted with `tint` are re-coloured here; views that paint rich text or list rows
    connect `tones_did_change` (or `follow`) and repaint themselves.
    """

    tones_did_change = Signal(object)  # Tones

    def __init__(self, app: QApplication) -> None:
        super().__init__(app)
        self.setObjectName("callwiseTheme")
        self.current = tones()
        app.styleHints().colorSchemeChanged.connect(lambda _scheme: self.refresh())
        # Qt 6 documents ApplicationPaletteChange events as the successor of this signal, but
        # catching those needs an application-wide event filter: a Python call for every event
        # of every widget. The signal is still emitted (6.12) and costs nothing in between.
        app.paletteChanged.connect(lambda _palette: self.refresh())

    @classmethod
    def of(cls, app: QApplication | None = None) -> Theme:
        """The application's theme watcher, made on first use (never at import time): the system
        scheme is application-wide, like the palette it goes with."""
        instance = app or QApplication.instance()
        if not isinstance(instance, QApplication):
            raise RuntimeError("the theme needs a QApplication")
        found = instance.findChild(Theme, "callwiseTheme")
        return found if found is not None else Theme(instance)

    def refresh(self) -> None:
        now = tones()
        retint_all()  # cheap, and a palette change can re-polish style sheets anyway
        if now != self.current:
            self.current = now
            self.tones_did_change.emit(now)


def follow(widget: QWidget, repaint: Callable[[Tones], None]) -> None:
    """Call `repaint` whenever the tones change, for as long as `widget` lives."""
    app = QApplication.instance()
    if isinstance(app, QApplication):
        relay = _Relay(widget, repaint)
        Theme.of(app).tones_did_change.connect(relay.relay)


class _Relay(QObject):
    """A child of the widget, so the connection dies with it (no call into a deleted view)."""

    def __init__(self, parent: QWidget, repaint: Callable[[Tones], None]) -> None:
        super().__init__(parent)
        self._repaint = repaint

    def relay(self, now: object) -> None:
        if isinstance(now, Tones):
            self._repaint(now)


def clipped(root: QWidget) -> list[str]:
    """Visible text a user would see cut off under `root`: a label, button or box narrower than
    its text, a wrapped label shorter than its lines, a scroll area that scrolls sideways, tabs
    that no longer fit their bar. Used by the layout tests and the screenshot script, at
    1366×768 and at 4K."""
    problems: list[str] = []
    for w in root.findChildren(QWidget):
        if not w.isVisibleTo(root) or w.width() <= 0:
            continue
        name = w.accessibleName() or w.objectName() or type(w).__name__
        if isinstance(w, QScrollArea):
            bar = w.horizontalScrollBar()
            if bar is not None and bar.isVisible():
                problems.append(f"{name}: scrolls sideways")
        elif isinstance(w, QTabWidget):
            tabs = w.tabBar()
            if tabs is not None and tabs.sizeHint().width() > w.width():
                problems.append(f"{name}: tabs cut ({tabs.sizeHint().width()} > {w.width()})")
        elif isinstance(w, QLabel) and w.text():
            if w.wordWrap():
                need = w.heightForWidth(w.width())
                if need > w.height() + 1:
                    problems.append(f"{name}: {need - w.height()} px of text cut off below")
            elif w.minimumSizeHint().width() > w.width() + 1:
                problems.append(f"label {w.text()[:40]!r}: {w.minimumSizeHint().width()} px "
                                f"wide text in {w.width()} px")
        elif (isinstance(w, QComboBox) or (isinstance(w, QAbstractButton) and w.text())) and (
                w.minimumSizeHint().width() > w.width() + 1):  # not icon buttons: line edits
            label = w.text() if isinstance(w, QAbstractButton) else w.currentText()
            problems.append(f"{name} {label[:40]!r}: needs {w.minimumSizeHint().width()} px, "
                            f"has {w.width()}")
    return problems
