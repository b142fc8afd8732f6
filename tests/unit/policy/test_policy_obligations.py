"""What a call record owes before it closes, and what verification unlocks during the call."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import pytest

from app.domain.call import CallRecord
from app.domain.enums import CallOrigin, CallOutcome, CallReason, Team
from app.domain.errors import RecordIncomplete
from app.domain.memo import Memo, PaymentTopic
from app.policy.engine import Action, Outcome, RuleVerdict
from app.policy.obligations import (
    RecordFacts,
    closure_blockers,
    evaluate_record,
    otp_available,
    proof_available,
    proof_facts,
    recording_notice,
    reminders,
    script_steps,
)
from app.policy.pack import PolicyPack

T0 = datetime(2026, 11, 20, 16, 0, tzinfo=UTC)

CONNECTED_MEMO = Memo(reason="Troubleshooting follow-up", summary="Reset network settings",
                      customer_response="Confirmed data works",
                      payment_topic=PaymentTopic.NOT_DISCUSSED)
UNANSWERED_MEMO = Memo(reason="Troubleshooting follow-up", voicemail_left=True,
                       account_note="Called, left voicemail with callback window")
SA_STEPS = frozenset({"troubleshoot_on_call", "changes_need_auth", "pin_ready", "offer_inbound"})


def record_facts(**changes: object) -> RecordFacts:
    base = RecordFacts(team=Team.CARE, origin=CallOrigin.FOLLOW_UP, connected=True,
                       recording_notice_confirmed=True, verified=True, memo=CONNECTED_MEMO)
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def by_id(verdicts: list[RuleVerdict]) -> dict[str, RuleVerdict]:
    return {v.id: v for v in verdicts}


def test_complete_connected_record_owes_nothing(pack: PolicyPack) -> None:
    verdicts = evaluate_record(pack, record_facts())
    assert [v.id for v in verdicts] == ["OB-RECORDING", "OB-VERIFY", "OB-NOSSN", "OB-PAYMENT",
                                        "OB-NOANSWER", "OB-MEMO", "SA-DOCUMENT", "SA-PREPARE",
                                        "SA-ALTERNATIVE"]
    assert closure_blockers(pack, record_facts()) == []
    outcomes = {v.id: v.outcome for v in verdicts}
    assert outcomes["OB-NOANSWER"] is Outcome.NOT_APPLICABLE
    assert outcomes["SA-DOCUMENT"] is Outcome.NOT_APPLICABLE
    assert outcomes["SA-PREPARE"] is Outcome.NOT_APPLICABLE


def test_recording_notice_must_be_confirmed_when_connected(pack: PolicyPack) -> None:
    v = by_id(evaluate_record(pack, record_facts(recording_notice_confirmed=False)))
    assert v["OB-RECORDING"].outcome is Outcome.BLOCK
    assert v["OB-RECORDING"].action is Action.CONFIRM_RECORDING_NOTICE
    assert "This call may be recorded for quality and training purposes." in v[
        "OB-RECORDING"].reason
    unanswered = record_facts(connected=False, recording_notice_confirmed=False,
                              memo=UNANSWERED_MEMO)
    assert by_id(evaluate_record(pack, unanswered))["OB-RECORDING"].outcome \
        is Outcome.NOT_APPLICABLE


def test_unverified_customer_does_not_hold_the_record_open(pack: PolicyPack) -> None:
    v = by_id(evaluate_record(pack, record_facts(verified=False)))
    assert v["OB-VERIFY"].outcome is Outcome.PASS
    assert "not verified" in v["OB-VERIFY"].reason
    assert closure_blockers(pack, record_facts(verified=False)) == []


@pytest.mark.parametrize(("memo_changes", "missing"), [
    ({"voicemail_left": None}, "Voicemail left"),
    ({"voicemail_left": False}, "Why no voicemail was left"),
    ({"account_note": ""}, "Account note"),
])
def test_unanswered_call_needs_voicemail_or_why_and_a_note(pack: PolicyPack,
                                                           memo_changes: dict[str, object],
                                                           missing: str) -> None:
    memo = UNANSWERED_MEMO.with_changes(**memo_changes)
    facts = record_facts(connected=False, recording_notice_confirmed=False, verified=False,
                         memo=memo)
    v = by_id(evaluate_record(pack, facts))["OB-NOANSWER"]
    assert v.outcome is Outcome.BLOCK
    assert missing in v.reason
    assert closure_blockers(pack, facts) == ["OB-NOANSWER"]


def test_no_voicemail_with_a_reason_is_fine(pack: PolicyPack) -> None:
    memo = UNANSWERED_MEMO.with_changes(voicemail_left=False,
                                        no_voicemail_reason="Mailbox full")
    facts = record_facts(connected=False, recording_notice_confirmed=False, memo=memo)
    v = by_id(evaluate_record(pack, facts))["OB-NOANSWER"]
    assert v.outcome is Outcome.PASS and "Mailbox full" in v.reason
    assert closure_blockers(pack, facts) == []


def test_memo_fields(pack: PolicyPack) -> None:
    v = by_id(evaluate_record(pack, record_facts(memo=CONNECTED_MEMO.with_changes(
        reason=" ", customer_response=""))))["OB-MEMO"]
    assert v.outcome is Outcome.BLOCK
    assert "Reason for the call" in v.reason and "Customer's response" in v.reason
    assert v.action is Action.COMPLETE_MEMO
    # An unanswered call owes no summary or response.
    facts = record_facts(connected=False, memo=UNANSWERED_MEMO)
    assert by_id(evaluate_record(pack, facts))["OB-MEMO"].outcome is Outcome.PASS


def test_payment_topic_must_be_recorded_when_connected(pack: PolicyPack) -> None:
    facts = record_facts(memo=CONNECTED_MEMO.with_changes(payment_topic=None))
    assert closure_blockers(pack, facts) == ["OB-PAYMENT"]
    raised = record_facts(memo=CONNECTED_MEMO.with_changes(
        payment_topic=PaymentTopic.CUSTOMER_RAISED))
    assert "customer raised" in by_id(evaluate_record(pack, raised))["OB-PAYMENT"].reason


def test_sensitive_text_in_any_memo_field_blocks(pack: PolicyPack) -> None:
    facts = record_facts(memo=CONNECTED_MEMO.with_changes(
        summary="Verified with SSN 123-45-6789", customer_response="PIN 1234 confirmed"))
    v = by_id(evaluate_record(pack, facts))["OB-NOSSN"]
    assert v.outcome is Outcome.BLOCK
    assert v.action is Action.REMOVE_SENSITIVE_TEXT
    assert "Summary of what was communicated has what looks like a Social Security number" \
        in v.reason
    assert "PIN or passcode" in v.reason
    assert "OB-NOSSN" in closure_blockers(pack, facts)


def test_ticket_numbers_do_not_trip_the_sensitive_check(pack: PolicyPack) -> None:
    facts = record_facts(team=Team.SERVICE_ASSURANCE, origin=CallOrigin.TICKET,
                         sa_steps_done=SA_STEPS,
                         memo=CONNECTED_MEMO.with_changes(
                             ticket_numbers="TKT-12345678, INC1234567",
                             ticket_findings="Tower fix confirmed; closed INC1234567"))
    assert closure_blockers(pack, facts) == []


@pytest.mark.parametrize(("team", "origin", "applies"), [
    (Team.SERVICE_ASSURANCE, CallOrigin.EMAIL_REQUEST, True),
    (Team.SERVICE_ASSURANCE, CallOrigin.FOLLOW_UP, True),
    (Team.LEADER, CallOrigin.TICKET, True),
    (Team.CARE, CallOrigin.TICKET, True),
    (Team.CARE, CallOrigin.FOLLOW_UP, False),
    (Team.GLOBAL_CARE, CallOrigin.DROPPED_CALL, False),
])
def test_sa_document_needs_ticket_numbers_and_findings(pack: PolicyPack, team: Team,
                                                       origin: CallOrigin,
                                                       applies: bool) -> None:
    facts = record_facts(team=team, origin=origin, sa_steps_done=SA_STEPS)
    v = by_id(evaluate_record(pack, facts))["SA-DOCUMENT"]
    if not applies:
        assert v.outcome is Outcome.NOT_APPLICABLE
        return
    assert v.outcome is Outcome.BLOCK
    assert "Ticket number(s)" in v.reason and "findings" in v.reason
    done = dataclasses.replace(facts, memo=CONNECTED_MEMO.with_changes(
        ticket_numbers="TKT-12345678", ticket_findings="Replaced SIM; signal restored"))
    assert by_id(evaluate_record(pack, done))["SA-DOCUMENT"].outcome is Outcome.PASS


def test_sa_script_steps_must_be_confirmed(pack: PolicyPack) -> None:
    memo = CONNECTED_MEMO.with_changes(ticket_numbers="TKT-12345678", ticket_findings="Fixed")
    facts = record_facts(team=Team.SERVICE_ASSURANCE, origin=CallOrigin.TICKET, memo=memo)
    assert closure_blockers(pack, facts) == ["SA-PREPARE", "SA-ALTERNATIVE"]
    partial = dataclasses.replace(facts, sa_steps_done=frozenset({"troubleshoot_on_call"}))
    v = by_id(evaluate_record(pack, partial))["SA-PREPARE"]
    assert v.outcome is Outcome.BLOCK and v.action is Action.CONFIRM_SCRIPT_STEPS
    assert "authentication" in v.reason
    done = dataclasses.replace(facts, sa_steps_done=SA_STEPS)
    assert closure_blockers(pack, done) == []
    # Not reached: the steps are said on the next call, they do not hold this record.
    unanswered = dataclasses.replace(facts, connected=False, memo=memo.with_changes(
        voicemail_left=True, account_note="VM left"))
    assert closure_blockers(pack, unanswered) == []


def test_proof_and_otp_unlock_only_after_verification(pack: PolicyPack) -> None:
    locked = proof_available(pack, verified=False)
    assert locked.id == "OB-PROOF" and locked.outcome is Outcome.BLOCK
    assert locked.action is Action.VERIFY_CUSTOMER
    assert proof_available(pack, verified=True).outcome is Outcome.PASS
    assert otp_available(pack, verified=False).outcome is Outcome.BLOCK
    assert otp_available(pack, verified=True).outcome is Outcome.PASS
    assert proof_facts(pack) == ("Amount of their last bill", "Device they are using",
                                 "Date of last call to Care in their account memos")


def test_scripted_read_outs(pack: PolicyPack) -> None:
    assert recording_notice(pack) == "This call may be recorded for quality and training purposes."
    care = dict(reminders(pack, Team.CARE))
    assert set(care) == {"OB-NOSSN", "OB-PAYMENT"}
    assert "Social Security" in care["OB-NOSSN"]
    assert script_steps(pack, Team.CARE, company="Acme", support_number="1-800-555-0100") == ()
    steps = script_steps(pack, Team.SERVICE_ASSURANCE, company="Acme Mobile",
                         support_number="1-800-555-0100")
    assert [rule for rule, _ in steps] == ["SA-PREPARE"] * 3 + ["SA-ALTERNATIVE"]
    texts = " ".join(step.text for _, step in steps)
    assert "1-800-555-0100" in texts and "Acme Mobile" in texts
    assert "{" not in texts


def test_call_record_closes_only_when_the_policy_owes_nothing(pack: PolicyPack) -> None:
    """The lead's CallRecord.close takes closure_blockers as its extra missing items."""
    record = CallRecord(id="r1", customer_id="c1", agent_id="a1", number="+13125550142",
                        dial_string="13125550142", origin=CallOrigin.FOLLOW_UP,
                        reason=CallReason.TROUBLESHOOTING, dialed_at=T0)
    record.connected(T0)
    record.confirm_recording_notice(T0)
    record.verify_customer(T0)
    record.ended(T0, CallOutcome.ANSWERED)
    record.memo = CONNECTED_MEMO.with_changes(summary="Customer read SSN 123-45-6789 aloud")
    blockers = closure_blockers(pack, RecordFacts.from_record(record, Team.CARE))
    assert blockers == ["OB-NOSSN"]
    with pytest.raises(RecordIncomplete) as info:
        record.close(T0, extra_missing=blockers)
    assert "OB-NOSSN" in info.value.missing
    record.memo = CONNECTED_MEMO
    record.close(T0, extra_missing=closure_blockers(pack, RecordFacts.from_record(
        record, Team.CARE)))
    assert not record.is_open
