"""A short-lived look at the SIP stack for `callwise doctor`: version and audio devices.

Runs in the calling thread with its own Endpoint and destroys it before returning; never use it
while a SipPhone is running in the same process (pjsua is a process-wide singleton).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import pjsua2 as pj

from app.sip.engine import _silence_pjlib_console


@dataclass(frozen=True)
class StackInfo:
    version: str
    audio_devices: tuple[str, ...]


@cache
def probe_stack() -> StackInfo:
    _silence_pjlib_console()
    ep = pj.Endpoint()
    ep.libCreate()
    try:
        cfg = pj.EpConfig()
        cfg.logConfig.level = 0
        cfg.logConfig.consoleLevel = 0
        cfg.uaConfig.threadCnt = 0
        ep.libInit(cfg)
        version = ep.libVersion().full
        devices = []
        manager = ep.audDevManager()
        for i in range(manager.getDevCount()):
            info = manager.getDevInfo(i)
            kinds = []
            if info.inputCount:
                kinds.append("in")
            if info.outputCount:
                kinds.append("out")
            devices.append(f"{info.name} ({'/'.join(kinds)})")
        return StackInfo(version, tuple(devices))
    finally:
        ep.libDestroy()
