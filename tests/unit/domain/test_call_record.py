"""The call record's life: it cannot skip states, and it cannot close until its memo is complete."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from app.domain.call import CallRecord, CallState, new_record_id
from app.domain.enums import CallOrigin, CallOutcome, CallReason
from app.domain.errors import InvalidTransition, RecordIncomplete
from app.domain.memo import Memo, PaymentTopic

T0 = datetime(2026, 11, 20, 16, 0, tzinfo=UTC)


def record() -> CallRecord:
    return CallRecord(id=new_record_id(), customer_id="c1", agent_id="a1", number="+13125550142",
                      dial_string="13125550142", origin=CallOrigin.FOLLOW_UP,
                      reason=CallReason.TROUBLESHOOTING, dialed_at=T0)


def answered() -> CallRecord:
    r = record()
    r.ringing()
    r.connected(T0 + timedelta(seconds=3))
    return r


def complete_memo() -> Memo:
    return Memo(reason="Troubleshooting", summary="Reset network settings together",
                customer_response="Confirmed data works; will call if it drops again",
                payment_topic=PaymentTopic.NOT_DISCUSSED)


def test_ids_are_unique_and_made_locally() -> None:
    assert len({new_record_id() for _ in range(1000)}) == 1000


def test_answered_call_walks_dialing_ringing_connected_wrapup_closed() -> None:
    r = answered()
    r.verify_customer(T0 + timedelta(seconds=10))
    r.confirm_recording_notice(T0 + timedelta(seconds=12))
    r.ended(T0 + timedelta(minutes=5), CallOutcome.REMOTE_HANGUP, 200, "BYE")
    r.memo = complete_memo()
    r.close(T0 + timedelta(minutes=7))
    assert r.state is CallState.CLOSED
    assert r.closed_at == T0 + timedelta(minutes=7)
    assert r.recording_notice_at == T0 + timedelta(seconds=12)


def test_a_connected_call_cannot_close_before_it_ends() -> None:
    r = answered()
    r.memo = complete_memo()
    r.confirm_recording_notice(T0)
    with pytest.raises(RecordIncomplete) as e:
        r.close(T0)
    assert "call_ended" in e.value.missing
    assert r.state is CallState.CONNECTED


@pytest.mark.parametrize("blank", ["reason", "summary", "customer_response"])
def test_each_required_field_holds_the_record_open(blank: str) -> None:
    r = answered()
    r.confirm_recording_notice(T0)
    r.ended(T0, CallOutcome.LOCAL_HANGUP)
    r.memo = complete_memo().with_changes(**{blank: "   "})
    with pytest.raises(RecordIncomplete) as e:
        r.close(T0)
    assert e.value.missing == [blank]
    assert Memo.field_label(blank) in e.value.message
    assert r.is_open


def test_recording_notice_must_be_confirmed_on_a_connected_call() -> None:
    r = answered()
    r.ended(T0, CallOutcome.LOCAL_HANGUP)
    r.memo = complete_memo()
    with pytest.raises(RecordIncomplete) as e:
        r.close(T0)
    assert e.value.missing == ["OB-RECORDING"]


def test_unanswered_call_needs_voicemail_and_account_note() -> None:
    r = record()
    r.ringing()
    r.ended(T0, CallOutcome.NO_ANSWER, 480, "Temporarily Unavailable")
    r.memo = Memo(reason="Follow-up")
    with pytest.raises(RecordIncomplete) as e:
        r.close(T0)
    assert e.value.missing == ["voicemail_left", "account_note"]
    r.memo = r.memo.with_changes(voicemail_left=False, account_note="Tried at 10:00 local")
    with pytest.raises(RecordIncomplete) as e:
        r.close(T0)
    assert e.value.missing == ["no_voicemail_reason"]
    r.memo = r.memo.with_changes(no_voicemail_reason="Mailbox full")
    r.close(T0)
    assert r.state is CallState.CLOSED


def test_policy_obligations_can_hold_a_record_open() -> None:
    r = answered()
    r.confirm_recording_notice(T0)
    r.ended(T0, CallOutcome.LOCAL_HANGUP)
    r.memo = complete_memo()
    with pytest.raises(RecordIncomplete) as e:
        r.close(T0, ["SA-DOCUMENT"])
    assert e.value.missing == ["SA-DOCUMENT"]


def test_notice_and_verification_need_a_connected_call() -> None:
    r = record()
    with pytest.raises(InvalidTransition):
        r.confirm_recording_notice(T0)
    with pytest.raises(InvalidTransition):
        r.verify_customer(T0)


def test_cannot_skip_from_closed_back_to_connected() -> None:
    r = record()
    r.ended(T0, CallOutcome.BUSY, 486)
    r.memo = Memo(reason="x", voicemail_left=False, no_voicemail_reason="busy", account_note="n")
    r.close(T0)
    with pytest.raises(InvalidTransition):
        r.connected(T0)


def test_second_ending_is_ignored_so_a_race_cannot_rewrite_the_outcome() -> None:
    r = answered()
    r.ended(T0, CallOutcome.LOCAL_HANGUP)
    r.ended(T0 + timedelta(seconds=1), CallOutcome.DROPPED)
    assert r.outcome is CallOutcome.LOCAL_HANGUP
