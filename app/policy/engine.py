"""The dial gate: for one moment and one intended call, a verdict for every rule of the pack.

`evaluate` is pure: it reads neither the wall clock nor the machine's time zone, only the pack,
the facts and the `now` it is given, so every desktop (and every test) reaches the same verdict.
It is cheap enough (well under a millisecond) to re-run on every tick of the customer card and
again at the point of action, right before the INVITE. Safe to call from any thread.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, time
from enum import Enum, StrEnum
from zoneinfo import ZoneInfo

from app.domain.enums import AgentState, CallOrigin, CallReason, NotificationTemplate, Team
from app.policy.facts import DialFacts
from app.policy.numbers import ParsedNumber, ZoneDecision, dial_string, parse_number, zone_city
from app.policy.numbers import zones_for as _zones_for
from app.policy.pack import (
    AttemptsParams,
    DocumentParams,
    EmailFirstParams,
    IntlParams,
    MemoParams,
    NoCallbackParams,
    NotifyParams,
    PolicyPack,
    ProofParams,
    RecordingParams,
    ReminderParams,
    RuleParams,
    RuleSpec,
    ScriptParams,
    SpokeParams,
    Stage,
    StateParams,
    VerifyParams,
    WindowParams,
)


class Outcome(StrEnum):
    PASS = "pass"
    BLOCK = "block"
    NOT_APPLICABLE = "not_applicable"


class Action(StrEnum):
    """One-click fixes the dial gate and the record offer next to a blocking rule."""

    SEND_CUSTOMER_CALLBACK = "send_customer_callback"
    SEND_DROPPED_CALL = "send_dropped_call"
    SWITCH_TO_FOLLOW_UP = "switch_to_follow_up"
    SWITCH_TO_AFTER_CALL_WORK = "switch_to_after_call_work"
    RECORD_CONSENT = "record_consent"
    RECORD_SERVICE_ZONE = "record_service_zone"
    SEND_SA_EMAIL = "send_sa_email"
    EDIT_NUMBER = "edit_number"
    RECORD_POLICY_DIRECTION = "record_policy_direction"
    CONFIRM_RECORDING_NOTICE = "confirm_recording_notice"
    VERIFY_CUSTOMER = "verify_customer"
    REMOVE_SENSITIVE_TEXT = "remove_sensitive_text"
    COMPLETE_MEMO = "complete_memo"
    CONFIRM_SCRIPT_STEPS = "confirm_script_steps"

    @property
    def label(self) -> str:
        return _ACTION_LABELS[self]


_ACTION_LABELS = {
    Action.SEND_CUSTOMER_CALLBACK: "Send the “Customer Callback” message",
    Action.SEND_DROPPED_CALL: "Send the “Dropped Call” message",
    Action.SWITCH_TO_FOLLOW_UP: "Switch to Not Ready – Follow-Up",
    Action.SWITCH_TO_AFTER_CALL_WORK: "Switch to After-Call Work",
    Action.RECORD_CONSENT: "Record calling hours the customer agreed to",
    Action.RECORD_SERVICE_ZONE: "Record the service address time zone",
    Action.SEND_SA_EMAIL: "Send the scheduling email",
    Action.EDIT_NUMBER: "Correct the number",
    Action.RECORD_POLICY_DIRECTION: "Record the policy that directs this call",
    Action.CONFIRM_RECORDING_NOTICE: "Confirm the recording notice was read",
    Action.VERIFY_CUSTOMER: "Verify first and last name",
    Action.REMOVE_SENSITIVE_TEXT: "Remove the sensitive text",
    Action.COMPLETE_MEMO: "Complete the memo",
    Action.CONFIRM_SCRIPT_STEPS: "Confirm the script steps",
}


@dataclass(frozen=True)
class RuleVerdict:
    id: str
    title: str
    outcome: Outcome
    reason: str  # a sentence the agent reads
    action: Action | None  # the one-click fix, None when nothing the agent does clears it
    source: str  # the policy sentence(s) the rule comes from

    @property
    def blocks(self) -> bool:
        return self.outcome is Outcome.BLOCK


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    rules: tuple[RuleVerdict, ...]
    dial_string: str | None
    zones: ZoneDecision
    pack_version: str
    pack_checksum: str

    @property
    def blocked_by(self) -> tuple[str, ...]:
        return tuple(r.id for r in self.rules if r.outcome is Outcome.BLOCK)

    @property
    def outcomes(self) -> dict[str, str]:
        """rule id → outcome, as stored on the call record at dial time."""
        return {r.id: r.outcome.value for r in self.rules}

    def rule(self, rule_id: str) -> RuleVerdict:
        for r in self.rules:
            if r.id == rule_id:
                return r
        raise KeyError(rule_id)


# -- words --------------------------------------------------------------------------------------


_ORIGIN_WORDS = {
    CallOrigin.FOLLOW_UP: "a follow-up call",
    CallOrigin.DROPPED_CALL: "a dropped-call callback",
    CallOrigin.TICKET: "a ticket call",
    CallOrigin.EMAIL_REQUEST: "a call answering an email request",
    CallOrigin.ALTERNATE_NUMBER: "a call to an alternate number",
}

_NO_CALLBACK_WORDS = {
    CallReason.CUSTOMER_DISCONNECTED: "when the customer clearly ended the last call themselves",
    CallReason.TIME_RESTRICTION: "when the customer could not finish the call for lack of time "
                                 "or other priorities",
    CallReason.ACTIVATION: "to complete a feature, plan or add-on activation",
    CallReason.SALES: "for a sales follow-up",
}

_TEMPLATE_ACTIONS = {
    NotificationTemplate.CUSTOMER_CALLBACK: Action.SEND_CUSTOMER_CALLBACK,
    NotificationTemplate.DROPPED_CALL: Action.SEND_DROPPED_CALL,
}

_STATE_ACTIONS = {
    AgentState.NOT_READY_FOLLOW_UP: Action.SWITCH_TO_FOLLOW_UP,
    AgentState.AFTER_CALL_WORK: Action.SWITCH_TO_AFTER_CALL_WORK,
}


def clock_words(t: time) -> str:
    """"9:00 AM", "12:30 PM": fixed English wording, independent of the machine's locale."""
    hour = t.hour % 12 or 12
    return f"{hour}:{t.minute:02d} {'AM' if t.hour < 12 else 'PM'}"


def window_words(start: time, end: time) -> str:
    return f"{clock_words(start)}–{clock_words(end)}"


def _times(n: int) -> str:
    return "once" if n == 1 else f"{n} times"


def _calls(n: int) -> str:
    return "1 call" if n == 1 else f"{n} calls"


def _join(items: list[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def in_window(start: time, end: time, local: time) -> bool:
    """[start, end) of a day; start > end wraps past midnight; start == end is empty."""
    if start < end:
        return start <= local < end
    if start > end:
        return local >= start or local < end
    return False


# -- the checks ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class _Context:
    facts: DialFacts
    now: datetime
    number: ParsedNumber
    zones: ZoneDecision


def _verdict(spec: RuleSpec, outcome: Outcome, reason: str,
             action: Action | None = None) -> RuleVerdict:
    return RuleVerdict(spec.id, spec.title, outcome, reason, action, spec.source_text)


def _params(spec: RuleSpec, kind: type[RuleParams]) -> RuleParams:
    if not isinstance(spec.params, kind):  # pragma: no cover - guarded by the pack loader
        raise TypeError(f"{spec.id} carries {type(spec.params).__name__}")
    return spec.params


def _check_number(spec: RuleSpec, c: _Context) -> RuleVerdict:
    n = c.number
    if not n.valid:
        shown = n.raw.strip()
        if not shown:
            return _verdict(spec, Outcome.BLOCK, "No number was entered", Action.EDIT_NUMBER)
        return _verdict(spec, Outcome.BLOCK,
                        f"“{shown}” is not a valid phone number: {n.problem}",
                        Action.EDIT_NUMBER)
    reason = f"The number {n.international_format} is valid and can be dialed"
    if n.extension:
        reason += f"; key in extension {n.extension} after the call connects"
    return _verdict(spec, Outcome.PASS, reason)


def _check_window(spec: RuleSpec, c: _Context) -> RuleVerdict:
    p = _params(spec, WindowParams)
    assert isinstance(p, WindowParams)
    zones = c.zones
    if not zones.zones:
        return _verdict(spec, Outcome.BLOCK,
                        f"The customer's time zone is unknown: {zones.explanation}; record the "
                        "time zone of the customer's service address", Action.RECORD_SERVICE_ZONE)
    consent = c.facts.consent
    start, end = (consent.start, consent.end) if consent is not None else (p.start, p.end)
    locals_ = [(zone, c.now.astimezone(ZoneInfo(zone))) for zone in zones.zones]
    inside = all(in_window(start, end, lt.time()) for _, lt in locals_)
    said = _join([f"{clock_words(lt.time())} in {zone_city(zone)}" for zone, lt in locals_])
    if len(locals_) == 1:
        where = ("customer's local time, from the service address"
                 if zones.source == "service address" else "customer's local time")
        it_is = f"It is {said} ({where})"
    else:
        it_is = (f"It is {said} (the number's area spans several time zones; the call must fit "
                 "all of them)")
    if consent is not None:
        if start == end:
            return _verdict(spec, Outcome.BLOCK,
                            f"The recorded consent window {window_words(start, end)} is empty; "
                            "record the hours the customer agreed to again",
                            Action.RECORD_CONSENT)
        if inside:
            return _verdict(spec, Outcome.PASS,
                            f"{it_is}; the customer agreed to calls {window_words(start, end)}")
        return _verdict(spec, Outcome.BLOCK,
                        f"{it_is}; the customer agreed to calls only "
                        f"{window_words(start, end)}", Action.RECORD_CONSENT)
    if inside:
        return _verdict(spec, Outcome.PASS,
                        f"{it_is}; calls are allowed {window_words(start, end)}")
    return _verdict(spec, Outcome.BLOCK,
                    f"{it_is}; calls are allowed {window_words(start, end)} unless the customer "
                    "agreed otherwise", Action.RECORD_CONSENT)


def _check_attempts(spec: RuleSpec, c: _Context) -> RuleVerdict:
    p = _params(spec, AttemptsParams)
    assert isinstance(p, AttemptsParams)
    f = c.facts
    if f.origin in p.exempt_origins:
        return _verdict(spec, Outcome.NOT_APPLICABLE,
                        f"{_ORIGIN_WORDS[f.origin].capitalize()} the customer gave is not a "
                        "callback attempt")
    team = f.team.label
    cap = p.caps[f.team]
    limited = not f.history_complete and p.incomplete_history_cap < cap
    if limited:
        cap = p.incomplete_history_cap
    since = ("since the company last spoke with this customer" if f.spoke_before
             else "to this customer so far")
    n = f.unanswered_attempts
    count = f"No unanswered calls {since}" if n == 0 else f"{_calls(n)} went unanswered {since}"
    note = ""
    if not f.history_complete:
        note = ("; the shared call history cannot be reached, so other agents' calls may be "
                "missing from this count")
        if limited:
            note += f", and until it is back only {_times(cap)} is allowed"
    if n >= cap:
        return _verdict(spec, Outcome.BLOCK,
                        f"{count}; {team} may not call more than {_times(p.caps[f.team])} "
                        f"without speaking to the customer{note}")
    return _verdict(spec, Outcome.PASS,
                    f"{count}; {team} may call up to {_times(p.caps[f.team])} without speaking "
                    f"to the customer{note}")


def _check_spoke(spec: RuleSpec, c: _Context) -> RuleVerdict:
    p = _params(spec, SpokeParams)
    assert isinstance(p, SpokeParams)
    f = c.facts
    if f.origin in p.exempt_origins:
        return _verdict(spec, Outcome.NOT_APPLICABLE,
                        f"{_ORIGIN_WORDS[f.origin].capitalize()} is made while the customer is on "
                        "the line")
    if f.origin in p.team_exceptions.get(f.team, frozenset()):
        return _verdict(spec, Outcome.NOT_APPLICABLE,
                        f"{f.team.label} may make {_ORIGIN_WORDS[f.origin]} to a customer "
                        "nobody has spoken with (SA-ORIGIN)")
    if f.spoke_before:
        return _verdict(spec, Outcome.PASS, "The company has spoken with this customer before")
    if f.team is Team.LEADER and f.origin is CallOrigin.TICKET:
        return _verdict(spec, Outcome.BLOCK,
                        "Leaders do not make a ticket follow-up call when nobody has spoken "
                        "with the customer")
    return _verdict(spec, Outcome.BLOCK,
                    "Nobody at the company has spoken with this customer yet; a callback needs an "
                    "earlier conversation")


def _check_nocallback(spec: RuleSpec, c: _Context) -> RuleVerdict:
    p = _params(spec, NoCallbackParams)
    assert isinstance(p, NoCallbackParams)
    f = c.facts
    label = f.reason.label
    if f.reason not in p.excluded_reasons:
        return _verdict(spec, Outcome.PASS,
                        f"A callback may be made for this reason ({label.lower()})")
    words = _NO_CALLBACK_WORDS.get(f.reason, f"for “{label}”")
    if f.reason in p.lifted_by_policy:
        if f.directed_by_policy:
            return _verdict(spec, Outcome.PASS,
                            f"No callback is made {words} unless a policy directs it, and one "
                            "does")
        return _verdict(spec, Outcome.BLOCK,
                        f"No callback is made {words} unless a policy specifically directs it",
                        Action.RECORD_POLICY_DIRECTION)
    return _verdict(spec, Outcome.BLOCK, f"No callback is made {words}")


def _check_notify(spec: RuleSpec, c: _Context) -> RuleVerdict:
    p = _params(spec, NotifyParams)
    assert isinstance(p, NotifyParams)
    f = c.facts
    needed = p.templates.get(f.origin)
    if needed is None:
        return _verdict(spec, Outcome.NOT_APPLICABLE,
                        f"{_ORIGIN_WORDS[f.origin].capitalize()} needs no pre-call message")
    name = p.template_names[needed]
    action = _TEMPLATE_ACTIONS.get(needed)
    if f.notification_sent is needed:
        return _verdict(spec, Outcome.PASS, f"The “{name}” message was sent")
    if f.notification_sent is None:
        return _verdict(spec, Outcome.BLOCK,
                        f"Send the “{name}” message first so the customer knows the call is "
                        "coming", action)
    sent = p.template_names.get(f.notification_sent, f.notification_sent.value)
    return _verdict(spec, Outcome.BLOCK,
                    f"The “{sent}” message was sent, but {_ORIGIN_WORDS[f.origin]} needs the "
                    f"“{name}” message", action)


def _check_state(spec: RuleSpec, c: _Context) -> RuleVerdict:
    p = _params(spec, StateParams)
    assert isinstance(p, StateParams)
    f = c.facts
    allowed = p.states[f.origin]
    if f.state in allowed:
        return _verdict(spec, Outcome.PASS, f"You are in {f.state.label}")
    action = next((_STATE_ACTIONS[s] for s in allowed if s in _STATE_ACTIONS), None)
    states = " or ".join(s.label for s in allowed)
    return _verdict(spec, Outcome.BLOCK,
                    f"You are in {f.state.label}; {_ORIGIN_WORDS[f.origin]} is placed from "
                    f"{states}", action)


def _check_intl(spec: RuleSpec, c: _Context) -> RuleVerdict:
    p = _params(spec, IntlParams)
    assert isinstance(p, IntlParams)
    n = c.number
    if not n.valid or n.country_code is None:
        return _verdict(spec, Outcome.NOT_APPLICABLE,
                        "The number is not valid, so where it would ring is unknown")
    country = n.country_name or n.region or "unknown country"
    if n.country_code in p.home_country_codes:
        return _verdict(spec, Outcome.PASS,
                        f"{country} number (+{n.country_code}): no international permission "
                        "needed")
    if c.facts.international_calling:
        return _verdict(spec, Outcome.PASS,
                        f"International number ({country}, +{n.country_code}); your line of "
                        "business may call abroad")
    return _verdict(spec, Outcome.BLOCK,
                    f"International number ({country}, +{n.country_code}) and your line of "
                    "business has no international calling permission; talk to your local "
                    "leadership if you need to make international calls")


def _check_emailfirst(spec: RuleSpec, c: _Context) -> RuleVerdict:
    p = _params(spec, EmailFirstParams)
    assert isinstance(p, EmailFirstParams)
    f = c.facts
    if f.origin not in p.origins:
        return _verdict(spec, Outcome.NOT_APPLICABLE,
                        f"{_ORIGIN_WORDS[f.origin].capitalize()} needs no email first")
    if f.email_sent:
        return _verdict(spec, Outcome.PASS, "The scheduling email was sent before the call")
    return _verdict(spec, Outcome.BLOCK,
                    "Email the customer before calling: the purpose of the callback, availability "
                    "windows, expected next steps, and the best date and time",
                    Action.SEND_SA_EMAIL)


_CHECKS: dict[str, Callable[[RuleSpec, _Context], RuleVerdict]] = {
    "NUMBER": _check_number,
    "OB-WINDOW": _check_window,
    "OB-ATTEMPTS": _check_attempts,
    "OB-SPOKE": _check_spoke,
    "OB-NOCALLBACK": _check_nocallback,
    "OB-NOTIFY": _check_notify,
    "OB-STATE": _check_state,
    "OB-INTL": _check_intl,
    "SA-EMAILFIRST": _check_emailfirst,
}


def zones_for_facts(pack: PolicyPack, facts: DialFacts) -> ZoneDecision:
    """The customer's zones as the gate reads them (the customer card's clock uses the same)."""
    return _zones_for(facts.number, facts.service_zone, pack.dial_plan.default_region)


def evaluate(pack: PolicyPack, facts: DialFacts, now: datetime) -> Verdict:
    """Every dial-gate rule of `pack` for `facts` at the instant `now` (aware, any offset)."""
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("evaluate needs an aware `now`; the policy never guesses a time zone")
    plan = pack.dial_plan
    number = parse_number(facts.number, plan.default_region)
    context = _Context(facts, now, number, zones_for_facts(pack, facts))
    rules = tuple(_CHECKS[spec.id](spec, context) for spec in pack.dial_rules)
    return Verdict(
        allowed=not any(r.outcome is Outcome.BLOCK for r in rules),
        rules=rules,
        dial_string=dial_string(number, home_country_code=plan.home_country_code,
                                national_prefix=plan.national_prefix,
                                international_prefix=plan.international_prefix),
        zones=context.zones,
        pack_version=pack.version,
        pack_checksum=pack.checksum,
    )


# -- the pack in plain words --------------------------------------------------------------------

@dataclass(frozen=True)
class RuleText:
    id: str
    title: str
    stage: Stage
    source: tuple[str, ...]
    source_document: str
    description: str
    settings: tuple[str, ...]  # the pack's parameters, in plain words
    decision: str | None


def _values(items: frozenset[Enum] | tuple[Enum, ...]) -> str:
    return ", ".join(sorted(str(i.value) for i in items)) or "none"


def _settings(params: RuleParams) -> tuple[str, ...]:
    if isinstance(params, WindowParams):
        return (f"Calls allowed {window_words(params.start, params.end)} in the customer's local "
                "time, in every zone the customer may be in.",)
    if isinstance(params, AttemptsParams):
        caps = "; ".join(f"{t.label}: {n}" for t, n in params.caps.items())
        return (f"Unanswered attempts allowed: {caps}.",
                f"Not counted for: {_values(params.exempt_origins)}.",
                f"When the shared call history cannot be reached: at most "
                f"{params.incomplete_history_cap}.")
    if isinstance(params, SpokeParams):
        lines = [f"Not applicable to: {_values(params.exempt_origins)}."]
        lines += [f"{t.label} exempt for: {_values(o)}."
                  for t, o in params.team_exceptions.items()]
        return tuple(lines)
    if isinstance(params, NoCallbackParams):
        return (f"No callback for: {_values(params.excluded_reasons)}.",
                f"Unless directed by policy: {_values(params.lifted_by_policy)}.")
    if isinstance(params, NotifyParams):
        return tuple(f"{o.value}: “{params.template_names[t]}” template."
                     for o, t in params.templates.items())
    if isinstance(params, StateParams):
        return tuple(f"{o.value}: from {' or '.join(s.label for s in states)}."
                     for o, states in params.states.items())
    if isinstance(params, IntlParams):
        codes = ", ".join(f"+{c}" for c in sorted(params.home_country_codes))
        return (f"Home country codes (no permission needed): {codes}.",)
    if isinstance(params, EmailFirstParams):
        return (f"Applies to: {_values(params.origins)}.",
                *(f"Email includes: {item}." for item in params.email_contents))
    if isinstance(params, ProofParams):
        return tuple(f"Fact: {fact}." for fact in params.facts)
    if isinstance(params, RecordingParams):
        return (f"Notice: “{params.notice}”",)
    if isinstance(params, VerifyParams):
        return (f"Prompt: “{params.prompt}”", f"Asks for: {', '.join(params.fields)}.")
    if isinstance(params, ReminderParams):
        return (f"Reminder: “{params.reminder}”", f"Teams: {_values(params.teams)}.")
    if isinstance(params, MemoParams | DocumentParams):
        lines = [f"Always required: {', '.join(params.required_fields) or 'nothing'}.",
                 f"Required when the customer was reached: "
                 f"{', '.join(params.required_when_connected) or 'nothing'}."]
        if isinstance(params, DocumentParams):
            lines.insert(0, f"Applies to teams {_values(params.teams)} and to calls from "
                            f"{_values(params.origins)}.")
        return tuple(lines)
    if isinstance(params, ScriptParams):
        return (f"Teams: {_values(params.teams)}.",
                *(f"Step {s.id}: “{s.text}”" for s in params.steps))
    return ()


def rule_texts(pack: PolicyPack) -> tuple[RuleText, ...]:
    """Every rule of the pack in plain words, with its source and settings (for `explain`)."""
    return tuple(RuleText(r.id, r.title, r.stage, r.source, r.source_document, r.description,
                          _settings(r.params), r.decision) for r in pack.rules)
