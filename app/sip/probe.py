"""A short-lived look at the SIP stack for `callwise doctor`: version and audio devices.

Runs in the calling thread with its own Endpoint and destroys it before returning. pjsua is a
process-wide singleton, so the probe takes the same slot a running SipPhone holds: while a phone
runs in this process it refuses (RuntimeError) instead of constructing a second Endpoint, which
would terminate the process from C++.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from functools import cache

import pjsua2 as pj

from app.sip.audio import AudioDevice
from app.sip.engine import _EndpointSlot, _error_text, _silence_pjlib_console


@dataclass(frozen=True)
class StackInfo:
    version: str
    audio_devices: tuple[str, ...]
    devices: tuple[AudioDevice, ...] = ()


class ProbeFailed(RuntimeError):
    """pjsua2 refused to start for the probe; the message is pjsip's reason."""


@cache
def probe_stack() -> StackInfo:
    """The stack's version and sound devices (cached: the answer cannot change in a process)."""
    _EndpointSlot.take()
    try:
        return _probe()
    finally:
        _EndpointSlot.release()


def _probe() -> StackInfo:
    # Every pjsua2 object here is a local deleted before returning: an Endpoint that outlived
    # this frame (in a traceback, say) would break the next SipPhone's start.
    _silence_pjlib_console()
    ep = pj.Endpoint()
    try:
        ep.libCreate()
        cfg = pj.EpConfig()
        cfg.logConfig.level = 0
        cfg.logConfig.consoleLevel = 0
        cfg.uaConfig.threadCnt = 0
        cfg.medConfig.threadCnt = 0
        ep.libInit(cfg)
        version = str(ep.libVersion().full)
        manager = ep.audDevManager()
        devices = []
        for index in range(manager.getDevCount()):
            info = manager.getDevInfo(index)
            devices.append(AudioDevice(index, str(info.name), str(info.driver),
                                       int(info.inputCount), int(info.outputCount)))
        return StackInfo(version, tuple(d.label for d in devices), tuple(devices))
    except pj.Error as exc:
        raise ProbeFailed(_error_text(exc)) from None
    finally:
        with contextlib.suppress(Exception):
            ep.libDestroy()
        del ep
