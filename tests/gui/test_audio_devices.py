"""The "Audio devices…" dialog: choose, apply to the running phone, remember for the next start.

The phone is the GUI tests' fake (it resolves names as the engine does); the settings file is a
real file in the test's folder, read back with the same loader the app uses at start.
"""

from __future__ import annotations

import threading
from collections import Counter
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QShortcut
from PySide6.QtWidgets import QAbstractButton, QComboBox, QDialog, QLabel
from pytestqt.qtbot import QtBot

from app.ports.phone import AudioChanged, AudioChoice, AudioDevice, AudioState
from app.settings import load_settings, save_user_settings
from tests.gui.conftest import Harness
from ui.widgets.audio import AudioDevicesDialog

HEADSET = AudioDevice(0, "Jabra Evolve2 65", "ALSA", 1, 2)
LAPTOP_MIC = AudioDevice(1, "Built-in Microphone", "ALSA", 2, 0)
SPEAKERS = AudioDevice(2, "Speakers", "ALSA", 0, 2)


def settings_file(h: Harness) -> Path:
    path = h.graph.user_settings_file
    assert path is not None
    return path


def open_dialog(h: Harness) -> AudioDevicesDialog:
    h.phone.audio_devices = (HEADSET, LAPTOP_MIC, SPEAKERS)
    h.window.audio_action.trigger()
    audio = h.desktop.audio
    assert audio is not None and audio.dialog is not None
    dialog = audio.dialog
    h.qtbot.waitUntil(dialog.save_button.isEnabled, timeout=5000)
    return dialog


def items(combo: QComboBox) -> list[str]:
    return [combo.itemText(i) for i in range(combo.count())]


def test_the_dialog_lists_what_the_phone_reports(harness: Harness) -> None:
    dialog = open_dialog(harness)
    assert dialog.isVisible() and dialog.isModal()
    assert items(dialog.microphone) == ["System default microphone", "No sound (null device)",
                                        "Jabra Evolve2 65", "Built-in Microphone"]
    assert items(dialog.speaker) == ["System default speaker", "No sound (null device)",
                                     "Jabra Evolve2 65", "Speakers"]
    assert items(dialog.ring)[:2] == ["Same as the speaker",
                                      "Silent: show the call on screen only (null device)"]
    assert dialog.microphone.currentIndex() == 0  # nothing saved yet: the system default
    assert dialog.focusWidget() is dialog.microphone  # keyboard-first: the first list
    for combo in dialog.findChildren(QComboBox):
        assert combo.accessibleName()
    for label in dialog.findChildren(QLabel):
        assert label.accessibleName() or label.buddy() is not None or label.text()


def test_save_applies_to_the_phone_and_the_next_start_reads_it(harness: Harness) -> None:
    dialog = open_dialog(harness)
    dialog.microphone.setCurrentIndex(dialog.microphone.findData("Jabra Evolve2 65"))
    dialog.speaker.setCurrentIndex(dialog.speaker.findData("Jabra Evolve2 65"))
    dialog.ring.setCurrentIndex(dialog.ring.findData("Speakers"))
    audio = harness.desktop.audio
    assert audio is not None
    with harness.qtbot.waitSignal(audio.choice_did_save, timeout=5000):
        harness.qtbot.keyClick(dialog, Qt.Key.Key_Return)  # Enter saves
    chosen = AudioChoice("Jabra Evolve2 65", "Jabra Evolve2 65", "Speakers")
    assert harness.phone.audio_choice == chosen  # in use now
    harness.qtbot.waitUntil(lambda: dialog.result() == QDialog.DialogCode.Accepted, timeout=5000)
    assert audio.dialog is None
    after = load_settings(settings_file(harness), settings_file(harness).parent / "none.toml")
    assert AudioChoice(after["audio.input"], after["audio.output"], after["audio.ring"]) == chosen


def test_the_disk_is_written_off_the_gui_thread(harness: Harness,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    threads: list[threading.Thread] = []

    def watched(path: Path, values: dict[str, str]) -> None:
        threads.append(threading.current_thread())
        save_user_settings(path, values)

    monkeypatch.setattr("ui.widgets.audio.save_user_settings", watched)
    dialog = open_dialog(harness)
    dialog.microphone.setCurrentIndex(1)  # the null device
    audio = harness.desktop.audio
    assert audio is not None
    with harness.qtbot.waitSignal(audio.choice_did_save, timeout=5000):
        dialog.save_button.click()
    assert threads and threads[0] is not threading.main_thread()
    assert 'input = "null device"' in settings_file(harness).read_text()


def test_a_remembered_headset_that_is_missing_is_said_in_words(harness: Harness) -> None:
    harness.phone.choose_audio(AudioChoice(input="Old USB headset", output="Old USB headset"))
    dialog = open_dialog(harness)
    assert dialog.microphone.currentText() == "Old USB headset — not connected"
    assert dialog.microphone.currentData() == "Old USB headset"
    text = dialog.warnings.text()
    assert "Microphone 'Old USB headset' not found" in text
    assert "using the null device (no sound in or out)" in text
    assert "No sound in or out" in dialog.now.text()
    # Choosing a connected headset and saving clears the warnings.
    dialog.microphone.setCurrentIndex(dialog.microphone.findData("Jabra Evolve2 65"))
    dialog.speaker.setCurrentIndex(dialog.speaker.findData("Jabra Evolve2 65"))
    audio = harness.desktop.audio
    assert audio is not None
    with harness.qtbot.waitSignal(audio.choice_did_save, timeout=5000):
        dialog.save_button.click()
    assert dialog.warnings.text() == ""
    assert "Microphone: Jabra Evolve2 65" in dialog.now.text()


def test_a_save_that_fails_keeps_the_dialog_open_and_says_why(harness: Harness) -> None:
    path = settings_file(harness)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("[audio\n")  # hand-edited and broken: never overwritten
    dialog = open_dialog(harness)
    dialog.speaker.setCurrentIndex(dialog.speaker.findData("Speakers"))
    audio = harness.desktop.audio
    assert audio is not None
    with harness.qtbot.waitSignal(audio.choice_was_not_saved, timeout=5000):
        dialog.save_button.click()
    assert harness.phone.audio_choice.output == "Speakers"  # applied all the same
    assert dialog.isVisible() and dialog.save_button.isEnabled()
    assert "not remembered for the next start" in dialog.status.text()
    assert "not valid TOML" in dialog.status.text()
    assert path.read_text() == "[audio\n"


def test_warnings_at_start_reach_the_status_line(harness: Harness, qtbot: QtBot) -> None:
    state = AudioState(warnings=("microphone 'Jabra Evolve2 65' not found",
                                 "speaker 'Jabra Evolve2 65' not found; using the null device "
                                 "(no sound in or out)"))
    harness.phone.emit(AudioChanged(state, AudioChoice("Jabra Evolve2 65", "Jabra Evolve2 65")))
    qtbot.waitUntil(lambda: harness.window.statusBar().currentMessage().startswith(
        "Sound: microphone 'Jabra Evolve2 65' not found;"))


def test_the_audio_shortcut_is_unique_and_named(harness: Harness) -> None:
    w = harness.window
    assert w.audio_action.shortcut().toString() == "Ctrl+Shift+O"
    keys = [b.shortcut().toString() for b in w.findChildren(QAbstractButton)
            if not b.shortcut().isEmpty()]
    keys += [s.key().toString() for s in w.findChildren(QShortcut)]
    keys += [a.shortcut().toString() for a in w.findChildren(QAction) if not a.shortcut().isEmpty()]
    assert Counter(keys)["Ctrl+Shift+O"] == 1
    buttons = [b for b in w.findChildren(QAbstractButton) if b.accessibleName() == "Audio devices"]
    assert len(buttons) == 1 and buttons[0].isVisible()
    buttons[0].click()
    audio = harness.desktop.audio
    assert audio is not None and audio.dialog is not None and audio.dialog.isVisible()
    audio.dialog.reject()
