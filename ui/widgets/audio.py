"""Choosing the microphone, speaker and ring device: the "Audio devices…" dialog.

`AudioDevices` lives on the GUI thread and never waits: it asks the phone (`list_audio_devices`,
`choose_audio`; the answers come back as phone events through the PhoneBridge) and writes the
user's settings file on the TaskRunner's worker (`save_user_settings`). The dialog only shows
what it is told and says what the agent asked for; it knows neither the phone nor the disk.

Names are what is saved (`audio.input`, `audio.output`, `audio.ring`): device numbers change when
a headset is plugged in. "" is the system default (ring: the speaker), "null device" no sound.
"""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.domain.errors import CallwiseError
from app.ports.phone import (
    NULL_AUDIO,
    AudioChanged,
    AudioChoice,
    AudioDevice,
    AudioDevicesListed,
    AudioState,
    Phone,
    PhoneEvent,
)
from app.settings import audio_values, save_user_settings
from ui.tasks import TaskRunner
from ui.theme import tint

log = logging.getLogger(__name__)

def describe(state: AudioState) -> str:
    """The devices in use, in words."""
    if state.null:
        return "No sound in or out (null device)."
    ring = ("on screen only" if state.ring == NULL_AUDIO else
            "on the speaker" if state.ring == state.playback else f"on {state.ring}")
    return f"Microphone: {state.capture}. Speaker: {state.playback}. Ring: {ring}."


def _combo(name: str) -> QComboBox:
    combo = QComboBox()
    combo.setAccessibleName(name)
    combo.setEnabled(False)  # until the phone says what there is
    combo.addItem("Looking for sound devices…", None)
    return combo


class AudioDevicesDialog(QDialog):
    """Window-modal, opened with `open()`: the phone keeps running while the agent chooses.

    Keyboard: Alt+M, Alt+S, Alt+R jump to the lists, Enter saves, Escape closes."""

    save_was_requested = Signal(object)  # AudioChoice

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Audio devices")
        self.setAccessibleName("Audio devices")
        self.microphone = _combo("Microphone")
        self.speaker = _combo("Speaker")
        self.ring = _combo("Ring device")
        form = QFormLayout()
        form.addRow("&Microphone", self.microphone)
        form.addRow("&Speaker", self.speaker)
        form.addRow("&Ring device", self.ring)
        self.note = QLabel("")  # null-only lines, listing errors
        self.note.setWordWrap(True)
        self.note.setAccessibleName("About this line's sound")
        tint(self.note, "muted")
        self.now = QLabel("")
        self.now.setWordWrap(True)
        self.now.setAccessibleName("Devices in use")
        self.warnings = QLabel("")
        self.warnings.setWordWrap(True)
        self.warnings.setAccessibleName("Audio warnings")
        tint(self.warnings, "warn")
        self.status = QLabel("")
        self.status.setWordWrap(True)
        self.status.setAccessibleName("Save status")
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save
                                        | QDialogButtonBox.StandardButton.Close)
        save = self.buttons.button(QDialogButtonBox.StandardButton.Save)
        assert isinstance(save, QPushButton)
        self.save_button = save
        save.setEnabled(False)
        save.setDefault(True)
        save.setAccessibleName("Save audio devices")
        self.buttons.accepted.connect(self._save)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("Calls use these devices from now on, and at every start."))
        layout.addLayout(form)
        layout.addWidget(self.note)
        layout.addWidget(self.now)
        layout.addWidget(self.warnings)
        layout.addWidget(self.status)
        layout.addWidget(self.buttons)
        self._saving: dict[str, object] = {}  # "applied": AudioState, "saved": True | error
        self.setMinimumWidth(480)

    # -- what the dialog is told ---------------------------------------------------------------

    def show_devices(self, listed: AudioDevicesListed) -> None:
        devices = listed.devices
        choice = listed.choice
        self._fill(self.microphone, [d for d in devices if d.inputs],
                   ("System default microphone", ""), ("No sound (null device)", NULL_AUDIO),
                   choice.input, "microphone")
        self._fill(self.speaker, [d for d in devices if d.outputs],
                   ("System default speaker", ""), ("No sound (null device)", NULL_AUDIO),
                   choice.output, "speaker")
        self._fill(self.ring, [d for d in devices if d.outputs],
                   ("Same as the speaker", ""),
                   ("Silent: show the call on screen only (null device)", NULL_AUDIO),
                   choice.ring, "ring device")
        notes = []
        if listed.error:
            notes.append(f"The sound devices could not be listed ({listed.error}); your saved "
                         "choice is kept.")
        elif not devices:
            notes.append("This computer reports no sound devices.")
        if listed.null_only:
            notes.append("This line runs without sound (a demo or test line); your choice is "
                         "saved and used on the company line.")
        self.note.setText(" ".join(notes))
        self.show_state(listed.state)
        for combo in (self.microphone, self.speaker, self.ring):
            combo.setEnabled(True)
        self.save_button.setEnabled(True)
        self.microphone.setFocus()

    def show_state(self, state: AudioState) -> None:
        self.now.setText("In use now — " + describe(state))
        self.warnings.setText("\n".join(f"⚠ {w[:1].upper()}{w[1:]}." for w in state.warnings))

    def show_applied(self, changed: AudioChanged) -> None:
        self.show_state(changed.state)
        if self._saving and "applied" not in self._saving:  # the answer to our Save
            self._saving["applied"] = changed.state
            self._settle()

    def show_saved(self) -> None:
        if self._saving:
            self._saving["saved"] = True
            self._settle()

    def show_save_failed(self, error: CallwiseError) -> None:
        if self._saving:
            self._saving["saved"] = error
            self._settle()

    def choice(self) -> AudioChoice:
        return AudioChoice(self._value(self.microphone), self._value(self.speaker),
                           self._value(self.ring))

    # -- inside --------------------------------------------------------------------------------

    @staticmethod
    def _value(combo: QComboBox) -> str:
        data = combo.currentData()
        return data if isinstance(data, str) else ""

    @staticmethod
    def _fill(combo: QComboBox, devices: list[AudioDevice], default: tuple[str, str],
              null: tuple[str, str], chosen: str, kind: str) -> None:
        combo.clear()
        combo.addItem(*default)
        combo.addItem(*null)
        names = []
        for device in devices:
            if device.name not in names:
                names.append(device.name)
                combo.addItem(device.name, device.name)
        if chosen and chosen.strip().casefold() != NULL_AUDIO:
            index = combo.findData(chosen)
            if index < 0:
                folded = [n.strip().casefold() for n in names]
                wanted = chosen.strip().casefold()
                index = folded.index(wanted) + 2 if wanted in folded else -1
            if index < 0:  # remembered, but not connected now: kept visible, said so
                combo.addItem(f"{chosen} — not connected", chosen)
                index = combo.count() - 1
                combo.setItemData(index, f"The saved {kind} “{chosen}” is not connected now.",
                                  Qt.ItemDataRole.ToolTipRole)
        elif chosen:
            index = 1
        else:
            index = 0
        combo.setCurrentIndex(index)

    def _save(self) -> None:
        self._saving = {"started": True}
        self.save_button.setEnabled(False)
        self.status.setText("Applying and saving…")
        tint(self.status, None)
        self.save_was_requested.emit(self.choice())

    def _settle(self) -> None:
        """Both answers in (the phone's and the disk's): close, or say what went wrong."""
        if "applied" not in self._saving or "saved" not in self._saving:
            return
        state, saved = self._saving["applied"], self._saving["saved"]
        self._saving = {}
        self.save_button.setEnabled(True)
        assert isinstance(state, AudioState)
        if isinstance(saved, CallwiseError):
            self.status.setText("In use now, but not remembered for the next start: "
                                + saved.said())
            tint(self.status, "error")
            return
        if state.warnings:
            self.status.setText("Saved. Some devices were not found: see above.")
            tint(self.status, "warn")
            return
        self.status.setText("Saved.")
        tint(self.status, "ok")
        self.accept()


class AudioDevices(QObject):
    """The agent's sound devices: asks the phone, remembers in the user's settings file.

    Owned by the GUI thread; `on_phone_event` is connected to the PhoneBridge's signal.
    `settings_file` None: choices apply to the running phone but cannot be remembered."""

    devices_did_list = Signal(object)  # AudioDevicesListed
    audio_did_change = Signal(object)  # AudioChanged
    choice_did_save = Signal(object)  # AudioChoice
    choice_was_not_saved = Signal(object)  # CallwiseError
    warnings_did_arrive = Signal(str)  # a sentence for the status line (e.g. at start)

    def __init__(self, phone: Phone, runner: TaskRunner, settings_file: Path | None,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._phone = phone
        self._runner = runner
        self._settings_file = settings_file
        self.dialog: AudioDevicesDialog | None = None
        self._saving = False

    def on_phone_event(self, event: PhoneEvent) -> None:
        if isinstance(event, AudioDevicesListed):
            self.devices_did_list.emit(event)
        elif isinstance(event, AudioChanged):
            self.audio_did_change.emit(event)
            if event.state.warnings and not self._saving:
                self.warnings_did_arrive.emit("Sound: " + "; ".join(event.state.warnings) + ".")
            self._saving = False

    def open_dialog(self, parent: QWidget | None = None) -> AudioDevicesDialog:
        if self.dialog is not None:
            self.dialog.raise_()
            self.dialog.activateWindow()
            return self.dialog
        dialog = AudioDevicesDialog(parent)
        self.dialog = dialog
        self.devices_did_list.connect(dialog.show_devices)
        self.audio_did_change.connect(dialog.show_applied)
        self.choice_did_save.connect(dialog.show_saved)
        self.choice_was_not_saved.connect(dialog.show_save_failed)
        dialog.save_was_requested.connect(self.save)
        dialog.finished.connect(self._closed)
        dialog.open()
        self._phone.list_audio_devices()  # the answer fills the dialog
        return dialog

    def _closed(self, _result: int) -> None:
        dialog, self.dialog = self.dialog, None
        if dialog is not None:
            self.devices_did_list.disconnect(dialog.show_devices)
            self.audio_did_change.disconnect(dialog.show_applied)
            self.choice_did_save.disconnect(dialog.show_saved)
            self.choice_was_not_saved.disconnect(dialog.show_save_failed)
            dialog.deleteLater()

    def save(self, choice: AudioChoice) -> None:
        """Apply to the running phone and remember it; both answers arrive as signals."""
        self._saving = True
        self._phone.choose_audio(choice)
        path = self._settings_file
        if path is None:
            self.choice_was_not_saved.emit(CallwiseError(
                "this desktop has no user settings file.",
                action="Ask IT how Callwise is set up on this workstation."))
            return
        values = audio_values(choice)

        def write() -> AudioChoice:
            save_user_settings(path, values)
            return choice

        self._runner.submit(write, self._saved, self.choice_was_not_saved.emit)

    def _saved(self, choice: AudioChoice) -> None:
        log.info("audio devices saved: %s", choice)
        self.choice_did_save.emit(choice)
