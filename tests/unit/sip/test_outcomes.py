"""How a call ended, in the words the agent reads: the SIP-to-outcome mapping."""

from __future__ import annotations

import pytest

from app.domain.enums import CallOutcome
from app.sip.outcomes import call_end_reason, call_outcome, registration_reason


@pytest.mark.parametrize(
    ("code", "ringing", "expected"),
    [
        (486, True, CallOutcome.BUSY),
        (600, False, CallOutcome.BUSY),
        (480, True, CallOutcome.NO_ANSWER),
        (487, True, CallOutcome.NO_ANSWER),  # the proxy gave up ringing for us
        (408, True, CallOutcome.NO_ANSWER),  # rang, then the proxy's timer fired
        (408, False, CallOutcome.UNREACHABLE),  # nobody ever answered: our own timer
        (603, True, CallOutcome.DECLINED),
        (404, False, CallOutcome.NOT_FOUND),
        (484, False, CallOutcome.NOT_FOUND),
        (604, False, CallOutcome.NOT_FOUND),
        (503, False, CallOutcome.UNREACHABLE),
        (500, False, CallOutcome.UNREACHABLE),
        (0, False, CallOutcome.UNREACHABLE),
        (302, False, CallOutcome.UNREACHABLE),  # redirects are not followed
        (403, False, CallOutcome.UNREACHABLE),
    ],
)
def test_outbound_call_that_never_connected(
    code: int, ringing: bool, expected: CallOutcome
) -> None:
    assert call_outcome(code, connected=False, local_hangup=False, ringing=ringing) is expected


def test_hanging_up_before_the_answer_is_a_cancel_whatever_the_code() -> None:
    assert call_outcome(487, connected=False, local_hangup=True) is CallOutcome.CANCELLED
    assert call_outcome(0, connected=False, local_hangup=True) is CallOutcome.CANCELLED


def test_connected_call_ended_by_either_side() -> None:
    assert call_outcome(200, connected=True, local_hangup=True) is CallOutcome.LOCAL_HANGUP
    assert call_outcome(200, connected=True, local_hangup=False) is CallOutcome.REMOTE_HANGUP


@pytest.mark.parametrize("code", [408, 481, 500, 503, 0])
def test_connected_call_whose_dialog_died_is_dropped(code: int) -> None:
    assert call_outcome(code, connected=True, local_hangup=False) is CallOutcome.DROPPED


def test_media_timeout_is_dropped_even_though_we_sent_the_bye() -> None:
    outcome = call_outcome(200, connected=True, local_hangup=False, media_timeout=True)
    assert outcome is CallOutcome.DROPPED


def test_inbound_calls() -> None:
    assert call_outcome(603, connected=False, local_hangup=True, inbound=True) is (
        CallOutcome.DECLINED
    )
    assert call_outcome(487, connected=False, local_hangup=False, inbound=True) is (
        CallOutcome.CANCELLED
    )
    assert call_outcome(480, connected=False, local_hangup=False, inbound=True) is (
        CallOutcome.NO_ANSWER
    )
    assert call_outcome(200, connected=True, local_hangup=False, inbound=True) is (
        CallOutcome.REMOTE_HANGUP
    )


def test_end_reason_keeps_the_sip_code_for_the_record() -> None:
    assert call_end_reason(486, "Busy Here") == "486 Busy Here"
    assert call_end_reason(0, "") == "no response"
    assert call_end_reason(200, "OK", media_timeout=True) == "no audio received (media timeout)"


@pytest.mark.parametrize(
    ("code", "phrase", "expected"),
    [
        (200, "OK", "registered"),
        (401, "Unauthorized", "401 wrong password"),
        (407, "Proxy Authentication Required", "407 wrong password"),
        (403, "Forbidden", "403 account not allowed to register"),
        (404, "Not Found", "404 unknown user"),
        (408, "Request Timeout", "registrar unreachable (408)"),
        (503, "Service Unavailable", "registrar unreachable (503)"),
        (0, "", "registrar unreachable (0)"),
        (
            503,
            "SSL certificate verification error (PJSIP_TLS_ECERTVERIF)",
            "registrar certificate rejected (503)",
        ),
        (423, "Interval Too Brief", "423 Interval Too Brief"),
    ],
)
def test_registration_reasons_in_plain_words(code: int, phrase: str, expected: str) -> None:
    assert registration_reason(code, phrase) == expected


def test_a_rejected_certificate_is_not_called_a_network_failure() -> None:
    reason = registration_reason(503, "End of file (PJ_EEOF)", certificate_rejected=True)
    assert reason == "registrar certificate rejected (503)"
