"""Audio device choice through the phone port's events, and a saved choice used at the next start.

This pjsua2 wheel has no sound devices compiled in: the lists are empty, so a named device can
only be shown missing (the fallback to the null device with its warning). Matching a name to a
real device is proven on `resolve_audio` in tests/unit/sip.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from app import bootstrap
from app.domain.enums import CallOutcome
from app.ports.phone import (
    AudioChanged,
    AudioChoice,
    AudioDevicesListed,
    AudioState,
    CallPhase,
    IncomingCall,
    RegistrationChanged,
    SipAccountConfig,
)
from app.settings import load_settings, save_user_settings
from app.sip.engine import SipPhone
from tests.integration.sip.events import EventLog
from tests.peers.kamailio import Kamailio
from tests.peers.procs import LOOPBACK, wait_until
from tests.peers.sipp import Sipp

pytestmark = [pytest.mark.peers, pytest.mark.timeout(30)]

MakePhone = Callable[..., tuple[SipPhone, EventLog]]
NOWHERE = SipAccountConfig(registrar=f"sip:{LOOPBACK}:9", username="agent", domain="d")
HEADSET = AudioChoice("Jabra Evolve2 65", "Jabra Evolve2 65", "Speakers")


def test_devices_are_listed_and_chosen_as_events(make_phone: MakePhone) -> None:
    phone, log = make_phone(NOWHERE)  # null audio, as in the demo and in tests
    log.wait_for(AudioChanged)  # at start: what the phone opened
    phone.list_audio_devices()
    listed = log.wait_for(AudioDevicesListed)
    assert (listed.devices, listed.null_only, listed.error) == ((), True, "")
    phone.choose_audio(HEADSET)
    changed = log.wait_for(AudioChanged, lambda e: e.choice == HEADSET)
    assert changed.state == AudioState()  # the null line wins, silently
    phone.list_audio_devices()
    again = log.wait_for(AudioDevicesListed, lambda e: e.choice == HEADSET)
    assert again.state == AudioState()


def test_a_phone_that_is_not_running_answers_at_once(make_phone: MakePhone) -> None:
    phone, log = make_phone()
    phone.list_audio_devices()
    assert log.wait_for(AudioDevicesListed, timeout_s=0.1).error == "the phone is not running"
    phone.choose_audio(HEADSET)
    assert log.wait_for(AudioChanged, timeout_s=0.1) == AudioChanged(AudioState(), HEADSET)


def test_a_saved_choice_is_what_the_next_start_uses(tmp_path: Path) -> None:
    """Save (as the dialog does), load the settings the way the app starts, build the graph."""
    user = tmp_path / "callwise.toml"
    save_user_settings(user, {"audio.input": HEADSET.input, "audio.output": HEADSET.output,
                              "audio.ring": HEADSET.ring})
    settings = load_settings(user, tmp_path / "no-machine.toml")
    graph = bootstrap.prepare(demo=True, settings=settings, data_dir_override=str(tmp_path))
    log = EventLog()
    graph.phone.subscribe(log)
    try:
        graph.start_phone()
        log.wait_for(RegistrationChanged, lambda e: e.registered)
        graph.phone.list_audio_devices()
        listed = log.wait_for(AudioDevicesListed)
        assert listed.choice == HEADSET
        assert listed.null_only  # the demo line has no sound; the company line would use it
    finally:
        graph.close()


def test_a_saved_headset_that_is_missing_at_start_is_announced(tmp_path: Path,
                                                               make_phone: MakePhone) -> None:
    user = tmp_path / "callwise.toml"
    save_user_settings(user, {"audio.input": HEADSET.input, "audio.output": HEADSET.output})
    s = load_settings(user, tmp_path / "no-machine.toml")
    choice = AudioChoice(s["audio.input"], s["audio.output"], s["audio.ring"])
    company_line = SipAccountConfig(registrar=f"sip:{LOOPBACK}:9", username="agent", domain="d",
                                    null_audio=False)
    _phone, log = make_phone(company_line, audio=choice)
    changed = log.wait_for(AudioChanged)
    assert changed.choice == choice
    assert changed.state.null and changed.state.warnings == (
        "microphone 'Jabra Evolve2 65' not found",
        "speaker 'Jabra Evolve2 65' not found; using the null device (no sound in or out)",
    )


def test_a_silent_ring_device_shows_the_call_without_ringing(
        agent: tuple[SipPhone, EventLog], kamailio: Kamailio, sipp: Callable[..., Sipp]) -> None:
    phone, log = agent
    phone.choose_audio(AudioChoice(ring="null device"))
    log.wait_for(AudioChanged, lambda e: e.choice.ring == "null device")
    sipp("uac_inbound.xml", remote=(kamailio.host, kamailio.port), service=kamailio.user,
         pause_ms=600)
    incoming = log.wait_for(IncomingCall)  # the agent still sees the call
    assert not wait_until(lambda: phone.audio_state.ringing, 0.4)  # but nothing rings
    phone.answer(incoming.ref)
    log.phase(incoming.ref, CallPhase.CONNECTED)
    assert log.ended(incoming.ref).outcome is CallOutcome.REMOTE_HANGUP
