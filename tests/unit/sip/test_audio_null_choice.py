"""The null device as a choice the agent makes (not only as a fallback), and a silent ring."""

from __future__ import annotations

from app.sip.audio import NULL_DEVICE, NULL_NAME, AudioChoice, AudioDevice, resolve_audio

HEADSET = AudioDevice(0, "Jabra Evolve2 65", "ALSA", 1, 2)
SPEAKERS = AudioDevice(2, "Speakers", "ALSA", 0, 2)
DESK = (HEADSET, SPEAKERS)


def test_choosing_the_null_microphone_silences_both_without_a_warning() -> None:
    plan = resolve_audio(AudioChoice(input="null device", output="Jabra Evolve2 65"), DESK)
    assert (plan.capture, plan.playback, plan.null) == (NULL_DEVICE, NULL_DEVICE, True)
    assert plan.warnings == ()  # chosen, not missing: nothing to warn about


def test_choosing_the_null_speaker_is_the_same_whatever_the_case() -> None:
    plan = resolve_audio(AudioChoice(output=" Null Device "), DESK)
    assert plan.null and plan.warnings == ()


def test_a_null_ring_device_mutes_the_ring_and_keeps_the_headset() -> None:
    plan = resolve_audio(AudioChoice("Jabra Evolve2 65", "Jabra Evolve2 65", NULL_NAME), DESK)
    assert (plan.capture, plan.playback, plan.ring) == (0, 0, None)
    assert plan.ring_muted and plan.ring_name == NULL_NAME and plan.warnings == ()


def test_an_ordinary_choice_rings() -> None:
    plan = resolve_audio(AudioChoice(output="Jabra Evolve2 65", ring="Speakers"), DESK)
    assert plan.ring == 2 and not plan.ring_muted


def test_a_remembered_headset_that_is_unplugged_is_said_in_words() -> None:
    """What the agent sees at the next start when the saved headset is gone."""
    plan = resolve_audio(AudioChoice("Jabra Evolve2 65", "Jabra Evolve2 65", "Speakers"),
                         (SPEAKERS,))
    assert plan.null
    assert plan.warnings == (
        "microphone 'Jabra Evolve2 65' not found",
        "speaker 'Jabra Evolve2 65' not found; using the null device (no sound in or out)",
    )
