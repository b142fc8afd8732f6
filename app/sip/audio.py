"""Which sound devices the softphone uses, decided without a SIP stack.

The agent names a microphone, a speaker and a ring device (settings `audio.input`,
`audio.output`, `audio.ring`; empty means the system default, and for the ring device "the
speaker"). Device indices change when a headset is plugged in, so names are what is remembered;
the engine turns them into indices on its owner thread with `resolve_audio`, a pure function
unit-tested here without pjsua2.

pjsua drives one sound port (capture and playback together), and it can only be the null device
as a whole: a null microphone with a real speaker is not something it can open. So when a named
microphone or speaker is missing, both fall back to the null device and the warning says which
name was not found; calls still connect, silently, instead of failing. A missing ring device
falls back to the speaker, since hearing the ring somewhere beats not hearing it.

Everything here is immutable plain data: it crosses from the SIP owner thread to any other.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

# pjmedia's device ids: the defaults and pjsua's null device (PJSUA_SND_NULL_DEV).
DEFAULT_CAPTURE = -1
DEFAULT_PLAYBACK = -2
NULL_DEVICE = -99
NULL_NAME = "null device"


@dataclass(frozen=True)
class AudioChoice:
    """The agent's remembered choice, by name; "" means the system default (ring: the speaker)."""

    input: str = ""
    output: str = ""
    ring: str = ""


@dataclass(frozen=True)
class AudioDevice:
    """One sound device as pjmedia lists it; `index` is only valid until devices change."""

    index: int
    name: str
    driver: str
    inputs: int
    outputs: int

    @property
    def label(self) -> str:
        kinds = [kind for kind, count in (("in", self.inputs), ("out", self.outputs)) if count]
        return f"{self.name} ({'/'.join(kinds) or 'no channels'})"


@dataclass(frozen=True)
class AudioPlan:
    """What the engine opens: device indices (or the null device) and why it fell back."""

    capture: int
    playback: int
    ring: int | None  # a separate ring device; None: ring on the playback device
    capture_name: str
    playback_name: str
    ring_name: str
    warnings: tuple[str, ...] = ()

    @property
    def null(self) -> bool:
        return self.capture == NULL_DEVICE


@dataclass(frozen=True)
class AudioState:
    """The phone's audio as it is now; `SipPhone.audio_state` replaces it as a whole.

    `ringback`: the ringback tone is playing to the speaker (an outbound call rings without early
    media). `ringing`: the ring tone is playing to the ring device (an inbound call waits).
    """

    capture: str = NULL_NAME
    playback: str = NULL_NAME
    ring: str = NULL_NAME
    null: bool = True
    warnings: tuple[str, ...] = ()
    ringback: bool = False
    ringing: bool = False


def _find(devices: Sequence[AudioDevice], name: str, *, output: bool) -> AudioDevice | None:
    usable = [d for d in devices if (d.outputs if output else d.inputs) > 0]
    for device in usable:
        if device.name == name:
            return device
    wanted = name.strip().casefold()
    for device in usable:
        if device.name.strip().casefold() == wanted:
            return device
    return None


def _null_plan(warnings: list[str]) -> AudioPlan:
    return AudioPlan(NULL_DEVICE, NULL_DEVICE, None, NULL_NAME, NULL_NAME, NULL_NAME,
                     tuple(warnings))


def resolve_audio(choice: AudioChoice, devices: Sequence[AudioDevice], *,
                  null_requested: bool = False) -> AudioPlan:
    """Turn names into device indices; never fails, falls back to the null device instead."""
    if null_requested:
        return _null_plan([])
    warnings: list[str] = []
    capture_name = playback_name = ""
    capture = playback = NULL_DEVICE
    if choice.input:
        found = _find(devices, choice.input, output=False)
        if found is None:
            warnings.append(f"microphone {choice.input!r} not found")
        else:
            capture, capture_name = found.index, found.name
    elif any(d.inputs for d in devices):
        capture, capture_name = DEFAULT_CAPTURE, "system default microphone"
    else:
        warnings.append("no microphone found")
    if choice.output:
        found = _find(devices, choice.output, output=True)
        if found is None:
            warnings.append(f"speaker {choice.output!r} not found")
        else:
            playback, playback_name = found.index, found.name
    elif any(d.outputs for d in devices):
        playback, playback_name = DEFAULT_PLAYBACK, "system default speaker"
    else:
        warnings.append("no speaker found")
    if warnings:
        warnings[-1] += "; using the null device (no sound in or out)"
        return _null_plan(warnings)
    ring: int | None = None
    ring_name = playback_name
    if choice.ring:
        found = _find(devices, choice.ring, output=True)
        if found is None:
            warnings.append(f"ring device {choice.ring!r} not found; ringing on the speaker")
        elif found.index != playback:
            ring, ring_name = found.index, found.name
    return AudioPlan(capture, playback, ring, capture_name, playback_name, ring_name,
                     tuple(warnings))


__all__ = [
    "DEFAULT_CAPTURE",
    "DEFAULT_PLAYBACK",
    "NULL_DEVICE",
    "NULL_NAME",
    "AudioChoice",
    "AudioDevice",
    "AudioPlan",
    "AudioState",
    "resolve_audio",
]
