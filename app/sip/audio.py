"""Which sound devices the softphone uses, decided without a SIP stack.

The agent names a microphone, a speaker and a ring device (settings `audio.input`,
`audio.output`, `audio.ring`; empty means the system default, and for the ring device "the
speaker"; "null device" asks for no sound, or for the ring device a ring shown on screen only).
Device indices change when a headset is plugged in, so names are what is remembered; the engine
turns them into indices on its owner thread with `resolve_audio`, a pure function unit-tested
without pjsua2. The plain data types live in the phone port (`app.ports.phone`), so the UI can
use them without this package; they are re-exported here.

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

from app.ports.phone import NULL_AUDIO, AudioChoice, AudioDevice, AudioState

# pjmedia's device ids: the defaults and pjsua's null device (PJSUA_SND_NULL_DEV).
DEFAULT_CAPTURE = -1
DEFAULT_PLAYBACK = -2
NULL_DEVICE = -99
NULL_NAME = NULL_AUDIO


@dataclass(frozen=True)
class AudioPlan:
    """What the engine opens: device indices (or the null device) and why it fell back.

    `ring_muted`: the agent chose the null device as ring device, so an incoming call rings on
    screen only (no ring tone anywhere)."""

    capture: int
    playback: int
    ring: int | None  # a separate ring device; None: ring on the playback device
    capture_name: str
    playback_name: str
    ring_name: str
    warnings: tuple[str, ...] = ()
    ring_muted: bool = False

    @property
    def null(self) -> bool:
        return self.capture == NULL_DEVICE


def _is_null(name: str) -> bool:
    return name.strip().casefold() == NULL_NAME


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


def _null_plan(warnings: list[str], *, ring_muted: bool = False) -> AudioPlan:
    return AudioPlan(NULL_DEVICE, NULL_DEVICE, None, NULL_NAME, NULL_NAME, NULL_NAME,
                     tuple(warnings), ring_muted)


def resolve_audio(choice: AudioChoice, devices: Sequence[AudioDevice], *,
                  null_requested: bool = False) -> AudioPlan:
    """Turn names into device indices; never fails, falls back to the null device instead."""
    muted = _is_null(choice.ring)
    if null_requested or _is_null(choice.input) or _is_null(choice.output):
        # pjsua opens capture and playback as one port: no sound in means no sound out too.
        return _null_plan([], ring_muted=muted)
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
        return _null_plan(warnings, ring_muted=muted)
    ring: int | None = None
    ring_name = playback_name
    if muted:
        ring_name = NULL_NAME
    elif choice.ring:
        found = _find(devices, choice.ring, output=True)
        if found is None:
            warnings.append(f"ring device {choice.ring!r} not found; ringing on the speaker")
        elif found.index != playback:
            ring, ring_name = found.index, found.name
    return AudioPlan(capture, playback, ring, capture_name, playback_name, ring_name,
                     tuple(warnings), muted)


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
