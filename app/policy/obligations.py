"""What a call record still owes before it may close, and what the call unlocks on the way.

These are verdicts in the same shape as the dial gate's, so the memo form shows them as the
same kind of checklist. `CallRecord.close` takes `closure_blockers(...)` as its extra missing
items: the domain knows its own fields, the pack adds what the policy owes. Pure functions;
safe from any thread.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from app.domain.call import CallRecord
from app.domain.enums import CallOrigin, Team
from app.domain.memo import Memo, PaymentTopic
from app.policy.engine import Action, Outcome, RuleVerdict
from app.policy.pack import (
    DocumentParams,
    MemoParams,
    PolicyPack,
    ProofParams,
    RecordingParams,
    ReminderParams,
    RuleSpec,
    ScriptParams,
    ScriptStep,
    Stage,
    VerifyParams,
)
from app.policy.sensitive import find_sensitive


@dataclass(frozen=True, kw_only=True)
class RecordFacts:
    team: Team
    origin: CallOrigin
    connected: bool  # the customer was reached
    recording_notice_confirmed: bool = False
    verified: bool = False
    memo: Memo = field(default_factory=Memo)
    sa_steps_done: frozenset[str] = frozenset()  # ScriptStep ids the agent confirmed

    @classmethod
    def from_record(cls, record: CallRecord, team: Team,
                    sa_steps_done: frozenset[str] = frozenset()) -> RecordFacts:
        return cls(team=team, origin=record.origin, connected=record.reached_customer,
                   recording_notice_confirmed=record.recording_notice_at is not None,
                   verified=record.verified_at is not None, memo=record.memo,
                   sa_steps_done=sa_steps_done)


def _v(spec: RuleSpec, outcome: Outcome, reason: str, action: Action | None = None) -> RuleVerdict:
    return RuleVerdict(spec.id, spec.title, outcome, reason, action, spec.source_text)


def _missing(memo: Memo, names: tuple[str, ...]) -> list[str]:
    out = []
    for name in names:
        value = getattr(memo, name)
        if value is None or (isinstance(value, str) and not value.strip()):
            out.append(name)
    return out


def _still_needed(names: list[str]) -> str:
    return "; ".join(Memo.field_label(n) for n in names)


def _recording(spec: RuleSpec, f: RecordFacts) -> RuleVerdict:
    assert isinstance(spec.params, RecordingParams)
    if not f.connected:
        return _v(spec, Outcome.NOT_APPLICABLE, "The customer was not reached")
    if f.recording_notice_confirmed:
        return _v(spec, Outcome.PASS, "The recording notice was read")
    return _v(spec, Outcome.BLOCK,
              f"Confirm that you read the recording notice: “{spec.params.notice}”",
              Action.CONFIRM_RECORDING_NOTICE)


def _verify(spec: RuleSpec, f: RecordFacts) -> RuleVerdict:
    assert isinstance(spec.params, VerifyParams)
    if not f.connected:
        return _v(spec, Outcome.NOT_APPLICABLE, "The customer was not reached")
    if f.verified:
        return _v(spec, Outcome.PASS,
                  f"The customer was verified by {' and '.join(spec.params.fields)} only")
    # Deliberately not a blocker: a customer who hangs up before verification must not hold
    # the record open. Nothing account-specific was shown (see proof_available / otp_available).
    return _v(spec, Outcome.PASS,
              "The customer was not verified, so no account details, proof facts or One Time PIN "
              "were given")


def _nossn(spec: RuleSpec, f: RecordFacts) -> RuleVerdict:
    assert isinstance(spec.params, ReminderParams)
    if f.team not in spec.params.teams:
        return _v(spec, Outcome.NOT_APPLICABLE, "This team is not covered by the rule")
    problems = []
    for name, text in f.memo.texts().items():
        for finding in find_sensitive(text):
            problems.append(f"{Memo.field_label(name)} has what looks like {finding.kind.label}")
    if problems:
        return _v(spec, Outcome.BLOCK,
                  "; ".join(dict.fromkeys(problems))
                  + ". Social Security numbers, PINs/passcodes and card numbers are never stored:"
                    " remove it", Action.REMOVE_SENSITIVE_TEXT)
    return _v(spec, Outcome.PASS,
              "The memo holds no Social Security number, PIN/passcode or card number")


def _payment(spec: RuleSpec, f: RecordFacts) -> RuleVerdict:
    assert isinstance(spec.params, ReminderParams)
    if f.team not in spec.params.teams:
        return _v(spec, Outcome.NOT_APPLICABLE, "This team is not covered by the rule")
    if not f.connected:
        return _v(spec, Outcome.NOT_APPLICABLE, "The customer was not reached")
    topic = f.memo.payment_topic
    if topic is None:
        return _v(spec, Outcome.BLOCK,
                  "Say in the memo whether a payment came up; it is never raised by us, only by "
                  "the customer", Action.COMPLETE_MEMO)
    if topic is PaymentTopic.CUSTOMER_RAISED:
        return _v(spec, Outcome.PASS, "The customer raised a payment topic and was helped")
    return _v(spec, Outcome.PASS, "No payment topic was discussed")


def _noanswer(spec: RuleSpec, f: RecordFacts) -> RuleVerdict:
    if f.connected:
        return _v(spec, Outcome.NOT_APPLICABLE, "The customer was reached")
    memo = f.memo
    missing: list[str] = []
    if memo.voicemail_left is None:
        missing.append("voicemail_left")
    elif not memo.voicemail_left and not memo.no_voicemail_reason.strip():
        missing.append("no_voicemail_reason")
    if not memo.account_note.strip():
        missing.append("account_note")
    if missing:
        return _v(spec, Outcome.BLOCK,
                  f"The customer did not answer; still needed: {_still_needed(missing)}",
                  Action.COMPLETE_MEMO)
    said = ("a voicemail was left" if memo.voicemail_left
            else f"no voicemail was left ({memo.no_voicemail_reason.strip()})")
    return _v(spec, Outcome.PASS, f"The customer did not answer; {said} and the account is noted")


def _memo(spec: RuleSpec, f: RecordFacts) -> RuleVerdict:
    assert isinstance(spec.params, MemoParams)
    names = spec.params.required_fields + (
        spec.params.required_when_connected if f.connected else ())
    missing = _missing(f.memo, names)
    if missing:
        return _v(spec, Outcome.BLOCK, f"Still needed in the memo: {_still_needed(missing)}",
                  Action.COMPLETE_MEMO)
    return _v(spec, Outcome.PASS, "The memo is complete")


def _document(spec: RuleSpec, f: RecordFacts) -> RuleVerdict:
    p = spec.params
    assert isinstance(p, DocumentParams)
    if f.team not in p.teams and f.origin not in p.origins:
        return _v(spec, Outcome.NOT_APPLICABLE,
                  "Only Service Assurance calls and ticket calls update a ticket")
    names = p.required_fields + (p.required_when_connected if f.connected else ())
    missing = _missing(f.memo, names)
    if missing:
        return _v(spec, Outcome.BLOCK, f"Still needed for the ticket: {_still_needed(missing)}",
                  Action.COMPLETE_MEMO)
    return _v(spec, Outcome.PASS, "The ticket number(s) and the ticket update are recorded")


def _script(spec: RuleSpec, f: RecordFacts) -> RuleVerdict:
    p = spec.params
    assert isinstance(p, ScriptParams)
    if f.team not in p.teams:
        return _v(spec, Outcome.NOT_APPLICABLE, "Only Service Assurance reads this script")
    if not f.connected:
        return _v(spec, Outcome.NOT_APPLICABLE,
                  "The customer was not reached; the steps are said on the next call")
    todo = [s for s in p.steps if s.id not in f.sa_steps_done]
    if todo:
        return _v(spec, Outcome.BLOCK,
                  f"Confirm {'this script step' if len(todo) == 1 else 'these script steps'}: "
                  + " / ".join(s.text for s in todo), Action.CONFIRM_SCRIPT_STEPS)
    return _v(spec, Outcome.PASS, "The script steps were said and confirmed")


_RECORD_CHECKS = {
    "OB-RECORDING": _recording,
    "OB-VERIFY": _verify,
    "OB-NOSSN": _nossn,
    "OB-PAYMENT": _payment,
    "OB-NOANSWER": _noanswer,
    "OB-MEMO": _memo,
    "SA-DOCUMENT": _document,
    "SA-PREPARE": _script,
    "SA-ALTERNATIVE": _script,
}


def evaluate_record(pack: PolicyPack, facts: RecordFacts) -> list[RuleVerdict]:
    """A verdict for every "record" rule of the pack, in pack order."""
    return [_RECORD_CHECKS[spec.id](spec, facts) for spec in pack.stage(Stage.RECORD)]


def closure_blockers(pack: PolicyPack, facts: RecordFacts) -> list[str]:
    """Rule ids that still hold the record open (pass them to `CallRecord.close`)."""
    return [v.id for v in evaluate_record(pack, facts) if v.outcome is Outcome.BLOCK]


def _gated_on_verification(pack: PolicyPack, rule_id: str, verified: bool,
                           what: str) -> RuleVerdict:
    if not pack.has(rule_id):
        return RuleVerdict(rule_id, rule_id, Outcome.NOT_APPLICABLE,
                           "The policy pack has no such rule", None, "")
    spec = pack.rule(rule_id)
    if verified:
        return _v(spec, Outcome.PASS, f"The customer is verified: {what} may be used")
    return _v(spec, Outcome.BLOCK,
              f"Verify the customer's first and last name before {what} can be used",
              Action.VERIFY_CUSTOMER)


def proof_available(pack: PolicyPack, verified: bool) -> RuleVerdict:
    """OB-PROOF: the three proof facts unlock only after verification."""
    return _gated_on_verification(pack, "OB-PROOF", verified, "the proof facts")


def otp_available(pack: PolicyPack, verified: bool) -> RuleVerdict:
    """OB-OTP: One Time PIN processes unlock only after verification."""
    return _gated_on_verification(pack, "OB-OTP", verified, "One Time PIN")


def proof_facts(pack: PolicyPack) -> tuple[str, ...]:
    p = pack.params("OB-PROOF", ProofParams)
    return p.facts if p is not None else ()


def recording_notice(pack: PolicyPack) -> str | None:
    p = pack.params("OB-RECORDING", RecordingParams)
    return p.notice if p is not None else None


def reminders(pack: PolicyPack, team: Team) -> tuple[tuple[str, str], ...]:
    """(rule id, reminder text) shown during the call for this team (OB-PAYMENT, OB-NOSSN)."""
    out = []
    for spec in pack.stage(Stage.RECORD):
        if isinstance(spec.params, ReminderParams) and team in spec.params.teams:
            out.append((spec.id, spec.params.reminder))
    return tuple(out)


def script_steps(pack: PolicyPack, team: Team, *, company: str,
                 support_number: str) -> tuple[tuple[str, ScriptStep], ...]:
    """(rule id, step with placeholders filled) for every script rule covering `team`."""
    out = []
    for spec in pack.stage(Stage.RECORD):
        if isinstance(spec.params, ScriptParams) and team in spec.params.teams:
            for step in spec.params.steps:
                out.append((spec.id, ScriptStep(step.id, step.render(
                    company=company, support_number=support_number))))
    return tuple(out)


__all__ = [
    "RecordFacts",
    "closure_blockers",
    "evaluate_record",
    "otp_available",
    "proof_available",
    "proof_facts",
    "recording_notice",
    "reminders",
    "script_steps",
]
