"""Sound devices and tones on the real engine, with the null device (this wheel has no sound
devices compiled in, so the fallback and null paths are the ones a test can reach here).

Tones are observed through `SipPhone.audio_state`, which the owner thread derives from what
pjmedia's conference bridge is actually doing (generator busy and connected to the speaker).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

import pytest

from app.domain.enums import CallOutcome
from app.ports.phone import CallPhase, IncomingCall, SipAccountConfig
from app.sip.audio import NULL_NAME, AudioChoice, AudioState
from app.sip.engine import SipPhone
from app.sip.probe import probe_stack
from tests.integration.sip.events import EventLog
from tests.peers.kamailio import Kamailio
from tests.peers.procs import LOOPBACK, wait_until
from tests.peers.sipp import Sipp

pytestmark = [pytest.mark.peers, pytest.mark.timeout(30)]

Agent = tuple[SipPhone, EventLog]
MakePhone = Callable[..., Agent]
StartSipp = Callable[..., Sipp]
SCENARIOS = Path(__file__).resolve().parent / "scenarios"
NOWHERE = SipAccountConfig(registrar=f"sip:{LOOPBACK}:9", username="agent", domain="d")


def wait_audio(phone: SipPhone, test: Callable[[AudioState], bool], timeout_s: float = 3.0
               ) -> AudioState:
    assert wait_until(lambda: test(phone.audio_state), timeout_s), phone.audio_state
    return phone.audio_state


def test_ringback_plays_while_it_rings_and_stops_on_answer(agent: Agent, sipp: StartSipp) -> None:
    phone, log = agent
    uas = sipp("uas.xml", pause_ms=1500)  # 180 without SDP, then 200
    assert phone.audio_state.ringback is False
    phone.dial("c1", uas.uri)
    log.phase("c1", CallPhase.RINGING)
    wait_audio(phone, lambda s: s.ringback)
    log.phase("c1", CallPhase.CONNECTED)
    state = wait_audio(phone, lambda s: not s.ringback)
    assert state.ringing is False
    phone.hangup("c1")
    assert log.ended("c1").outcome is CallOutcome.LOCAL_HANGUP


def test_ringback_stops_when_the_call_is_refused(agent: Agent, sipp: StartSipp) -> None:
    phone, log = agent
    uas = sipp("uas_reject.xml", pause_ms=1000, fill={"code": "486", "reason": "Busy Here"})
    phone.dial("c1", uas.uri)
    log.phase("c1", CallPhase.RINGING)
    wait_audio(phone, lambda s: s.ringback)
    assert log.ended("c1").outcome is CallOutcome.BUSY
    wait_audio(phone, lambda s: not s.ringback)


def test_ringback_stops_when_the_agent_gives_up(agent: Agent, sipp: StartSipp) -> None:
    phone, log = agent
    uas = sipp("uas_cancel.xml", pause_ms=5000)
    phone.dial("c1", uas.uri)
    log.phase("c1", CallPhase.RINGING)
    wait_audio(phone, lambda s: s.ringback)
    phone.hangup("c1")
    assert log.ended("c1").outcome is CallOutcome.CANCELLED
    wait_audio(phone, lambda s: not s.ringback)


def test_no_ringback_over_early_media(agent: Agent, sipp: StartSipp) -> None:
    """183 with SDP: the network plays its own ringing, ours would talk over it."""
    phone, log = agent
    uas = sipp(str(SCENARIOS / "uas_early_media.xml"), pause_ms=800)
    phone.dial("c1", uas.uri)
    log.phase("c1", CallPhase.RINGING)
    assert not wait_until(lambda: phone.audio_state.ringback, 0.5)  # the whole early phase
    log.phase("c1", CallPhase.CONNECTED)
    phone.hangup("c1")
    assert log.ended("c1").connected
    assert uas.wait(5) == 0, uas.report()


def test_incoming_call_rings_until_answered(agent: Agent, kamailio: Kamailio,
                                            sipp: StartSipp) -> None:
    phone, log = agent
    sipp("uac_inbound.xml", remote=(kamailio.host, kamailio.port), service=kamailio.user,
         pause_ms=300)
    incoming = log.wait_for(IncomingCall)
    state = wait_audio(phone, lambda s: s.ringing)
    assert state.ringback is False and state.ring == NULL_NAME
    phone.answer(incoming.ref)
    log.phase(incoming.ref, CallPhase.CONNECTED)
    wait_audio(phone, lambda s: not s.ringing)
    assert log.ended(incoming.ref).outcome is CallOutcome.REMOTE_HANGUP


def test_incoming_call_stops_ringing_when_the_caller_gives_up(agent: Agent, kamailio: Kamailio,
                                                              sipp: StartSipp) -> None:
    phone, log = agent
    sipp("uac_inbound_cancel.xml", remote=(kamailio.host, kamailio.port),
         service=kamailio.user, pause_ms=800)
    incoming = log.wait_for(IncomingCall)
    wait_audio(phone, lambda s: s.ringing)
    assert log.ended(incoming.ref).outcome is CallOutcome.CANCELLED
    wait_audio(phone, lambda s: not s.ringing)


def test_named_devices_that_do_not_exist_fall_back_to_null_with_a_warning(
    make_phone: MakePhone, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="app.sip.engine")
    account = SipAccountConfig(registrar=f"sip:{LOOPBACK}:9", username="agent", domain="d",
                               null_audio=False)
    choice = AudioChoice(input="Jabra Evolve2 65", output="Jabra Evolve2 65", ring="Speakers")
    phone, _log = make_phone(account, audio=choice)
    state = wait_audio(phone, lambda s: bool(s.warnings))
    assert (state.capture, state.playback, state.null) == (NULL_NAME, NULL_NAME, True)
    assert state.warnings == (
        "microphone 'Jabra Evolve2 65' not found",
        "speaker 'Jabra Evolve2 65' not found; using the null device (no sound in or out)",
    )
    logged = [r.getMessage() for r in caplog.records if r.name == "app.sip.engine"]
    assert "audio: microphone 'Jabra Evolve2 65' not found" in logged


def test_default_devices_on_a_machine_without_sound_fall_back_to_null(
    make_phone: MakePhone
) -> None:
    account = SipAccountConfig(registrar=f"sip:{LOOPBACK}:9", username="agent", domain="d",
                               null_audio=False)
    phone, _log = make_phone(account)
    state = wait_audio(phone, lambda s: bool(s.warnings))
    assert state.null and state.warnings[0] == "no microphone found"
    assert phone.audio_devices().result(3) == ()


def test_devices_can_be_listed_and_chosen_while_running(make_phone: MakePhone) -> None:
    phone, _log = make_phone(NOWHERE)
    assert phone.audio_devices().result(3) == ()  # this wheel: no sound devices at all
    state = phone.select_audio(AudioChoice(input="USB Headset")).result(3)
    # The account asked for null audio: a choice is remembered but null wins, no warning.
    assert state == AudioState()
    assert phone.audio_state == AudioState()


def test_choosing_devices_before_start_is_remembered(make_phone: MakePhone) -> None:
    phone, _log = make_phone()
    assert phone.select_audio(AudioChoice(input="USB Headset")).result(1) == AudioState()
    with pytest.raises(RuntimeError, match="not running"):
        phone.audio_devices().result(1)
    phone.start(SipAccountConfig(registrar=f"sip:{LOOPBACK}:9", username="a", domain="d",
                                 null_audio=False))
    state = wait_audio(phone, lambda s: bool(s.warnings))
    assert state.warnings[0] == "microphone 'USB Headset' not found"


def test_questions_to_a_stopped_phone_fail_instead_of_hanging(make_phone: MakePhone) -> None:
    phone, _log = make_phone(NOWHERE)
    phone.shutdown(2.0)
    with pytest.raises(RuntimeError, match="not running"):
        phone.audio_devices().result(1)


def test_doctor_probe_refuses_while_a_phone_runs(make_phone: MakePhone) -> None:
    probe_stack.cache_clear()
    phone, _log = make_phone(NOWHERE)
    with pytest.raises(RuntimeError, match="another SipPhone is running"):
        probe_stack()
    phone.shutdown(2.0)
    info = probe_stack()  # the slot is free again: the probe runs, and a phone after it
    assert info.version.startswith("2.15") and info.audio_devices == ()
    again, _log = make_phone(NOWHERE)
    again.shutdown(2.0)
