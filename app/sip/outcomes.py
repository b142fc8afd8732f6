"""SIP status codes turned into words an agent understands.

Pure functions, no pjsua2: the engine collects the facts about a call (final code, whether it
ever connected, who hung up) on its owner thread and asks here what they mean, so the mapping
is unit-tested without a SIP stack.
"""

from __future__ import annotations

from app.domain.enums import CallOutcome

_BUSY = frozenset({486, 600})
_NO_ANSWER = frozenset({480, 487})
_DECLINED = frozenset({603})
_NOT_FOUND = frozenset({404, 410, 484, 604})


def call_outcome(
    code: int,
    *,
    connected: bool,
    local_hangup: bool,
    inbound: bool = False,
    ringing: bool = False,
    media_timeout: bool = False,
) -> CallOutcome:
    """Map how a call ended to a `CallOutcome`.

    `code` is the last SIP status of the INVITE session (0 when none was received);
    `ringing` says the far end answered with 180/183 before the final response, which is what
    separates a callee who did not pick up (408 after ringing) from a network that never
    answered at all (408 from our own transaction timer: unreachable).
    """
    if media_timeout:
        return CallOutcome.DROPPED
    if connected:
        if local_hangup:
            return CallOutcome.LOCAL_HANGUP
        if 200 <= code < 300:
            # pjsip reports a BYE from the far end as "200 Normal call clearing".
            return CallOutcome.REMOTE_HANGUP
        # 408/481/5xx/transport error after connect: the dialog died, nobody hung up.
        return CallOutcome.DROPPED
    if inbound:
        if local_hangup:
            return CallOutcome.DECLINED
        if code == 487:
            return CallOutcome.CANCELLED  # the caller gave up before we answered
    elif local_hangup:
        return CallOutcome.CANCELLED
    if code in _BUSY:
        return CallOutcome.BUSY
    if code in _NO_ANSWER or (code == 408 and ringing):
        return CallOutcome.NO_ANSWER
    if code in _DECLINED:
        return CallOutcome.DECLINED
    if code in _NOT_FOUND:
        return CallOutcome.NOT_FOUND
    return CallOutcome.UNREACHABLE


def call_end_reason(code: int, reason: str, *, media_timeout: bool = False) -> str:
    """The reason stored on the record: the SIP code and phrase, or what we detected."""
    if media_timeout:
        return "no audio received (media timeout)"
    phrase = reason.strip() or "no response"
    return f"{code} {phrase}" if code else phrase


def registration_reason(code: int, reason: str, *, certificate_rejected: bool = False) -> str:
    """Plain words for a registration result, shown to the agent next to the status light.

    `certificate_rejected`: the TLS layer refused the registrar's certificate (wrong CA or
    wrong host name); pjsip then reports only a transport failure.
    """
    if 200 <= code < 300:
        return "registered"
    if code in (401, 407):
        return f"{code} wrong password"
    if code == 403:
        return "403 account not allowed to register"
    if code == 404:
        return "404 unknown user"
    if certificate_rejected or "certificate" in reason.lower():
        # pjsip reports a failed TLS verification as a 503 with this in the phrase; the
        # agent must not read it as "the network is down".
        return f"registrar certificate rejected ({code})"
    if code == 0 or code in (408, 502, 503, 504):
        return f"registrar unreachable ({code})"
    phrase = reason.strip() or "registration failed"
    return f"{code} {phrase}"


__all__ = ["call_end_reason", "call_outcome", "registration_reason"]
