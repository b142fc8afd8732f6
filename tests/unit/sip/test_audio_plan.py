"""Which devices the phone opens for the agent's remembered choice (no SIP stack started)."""

from __future__ import annotations

from app.sip.audio import (
    DEFAULT_CAPTURE,
    DEFAULT_PLAYBACK,
    NULL_DEVICE,
    NULL_NAME,
    AudioChoice,
    AudioDevice,
    resolve_audio,
)

HEADSET = AudioDevice(0, "Jabra Evolve2 65", "ALSA", 1, 2)
LAPTOP_MIC = AudioDevice(1, "Built-in Microphone", "ALSA", 2, 0)
SPEAKERS = AudioDevice(2, "Speakers", "ALSA", 0, 2)
DESK = (HEADSET, LAPTOP_MIC, SPEAKERS)


def test_empty_choice_means_the_system_defaults() -> None:
    plan = resolve_audio(AudioChoice(), DESK)
    assert (plan.capture, plan.playback, plan.ring) == (DEFAULT_CAPTURE, DEFAULT_PLAYBACK, None)
    assert plan.ring_name == plan.playback_name == "system default speaker"
    assert plan.warnings == () and not plan.null


def test_named_devices_are_found_by_name_even_if_their_index_moved() -> None:
    plan = resolve_audio(AudioChoice(input="jabra evolve2 65 ", output="Jabra Evolve2 65",
                                     ring="Speakers"), DESK)
    assert (plan.capture, plan.playback, plan.ring) == (0, 0, 2)
    assert (plan.capture_name, plan.ring_name) == ("Jabra Evolve2 65", "Speakers")


def test_a_speaker_is_not_a_microphone() -> None:
    plan = resolve_audio(AudioChoice(input="Speakers"), DESK)
    assert plan.null and plan.capture == plan.playback == NULL_DEVICE
    assert plan.warnings == ("microphone 'Speakers' not found; using the null device "
                             "(no sound in or out)",)


def test_a_missing_headset_falls_back_to_null_for_both_directions() -> None:
    # pjsua opens capture and playback as one port, and can only make all of it null.
    plan = resolve_audio(AudioChoice(input="Jabra Evolve2 65", output="Jabra Evolve2 65"),
                         (LAPTOP_MIC, SPEAKERS))
    assert plan.null
    assert (plan.capture_name, plan.playback_name, plan.ring_name) == (NULL_NAME,) * 3
    assert plan.warnings == (
        "microphone 'Jabra Evolve2 65' not found",
        "speaker 'Jabra Evolve2 65' not found; using the null device (no sound in or out)",
    )


def test_a_missing_ring_device_rings_on_the_speaker() -> None:
    plan = resolve_audio(AudioChoice(output="Jabra Evolve2 65", ring="Desk bell"), DESK)
    assert (plan.playback, plan.ring, plan.ring_name) == (0, None, "Jabra Evolve2 65")
    assert plan.warnings == ("ring device 'Desk bell' not found; ringing on the speaker",)
    assert not plan.null


def test_ringing_on_the_speaker_itself_needs_no_second_device() -> None:
    plan = resolve_audio(AudioChoice(output="Speakers", ring="speakers"), DESK)
    assert plan.ring is None and plan.ring_name == "Speakers"


def test_a_machine_without_sound_devices_uses_null_and_says_so() -> None:
    plan = resolve_audio(AudioChoice(), ())
    assert plan.null
    assert plan.warnings == ("no microphone found",
                             "no speaker found; using the null device (no sound in or out)")


def test_null_requested_wins_silently() -> None:
    plan = resolve_audio(AudioChoice(input="Jabra Evolve2 65"), DESK, null_requested=True)
    assert plan.null and plan.warnings == ()


def test_device_labels_say_what_they_can_do() -> None:
    assert [d.label for d in DESK] == ["Jabra Evolve2 65 (in/out)", "Built-in Microphone (in)",
                                       "Speakers (out)"]
