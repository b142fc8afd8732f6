"""Policy scenario files (JSON Lines): how IT and the test suite try a pack before rollout.

The format is fixed by the acceptance README (`tests/data/policy/examples.jsonl` is its worked
example). Reading is strict — an unknown key is a typo that would silently default, so it is an
error with its line number — and a file is used whole or not at all.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, time
from enum import Enum
from typing import Any, TypeVar

from app.domain.enums import AgentState, CallOrigin, CallReason, NotificationTemplate, Team
from app.domain.errors import CallwiseError
from app.policy.engine import Verdict
from app.policy.facts import ConsentWindow, DialFacts

E = TypeVar("E", bound=Enum)


class ScenarioError(CallwiseError):
    """One unusable line of a scenario file; `str()` reads "FILE:LINE: problem"."""

    def __init__(self, path: str, line: int, problem: str) -> None:
        super().__init__(f"{path}:{line}: {problem}")
        self.path = path
        self.line = line
        self.problem = problem


@dataclass(frozen=True)
class Expectation:
    allowed: bool | None = None
    blocked_by: frozenset[str] | None = None
    dial_string: str | None = None
    checks_dial_string: bool = False


@dataclass(frozen=True)
class Scenario:
    line: int
    name: str
    now: datetime
    facts: DialFacts
    expect: Expectation | None


class _Bad(Exception):
    pass


def _obj(value: Any, where: str, required: frozenset[str], optional: frozenset[str]) \
        -> Mapping[str, Any]:
    if not isinstance(value, dict):
        raise _Bad(f"{where} must be a JSON object")
    unknown = sorted(set(value) - required - optional)
    if unknown:
        raise _Bad(f"unknown key “{unknown[0]}” in {where}")
    missing = sorted(required - set(value))
    if missing:
        raise _Bad(f"missing key “{missing[0]}” in {where}")
    return value


def _bool(obj: Mapping[str, Any], key: str, where: str, default: bool = False) -> bool:
    value = obj.get(key, default)
    if not isinstance(value, bool):
        raise _Bad(f"{where}.{key} must be true or false, not {json.dumps(value)}")
    return value


def _choice(obj: Mapping[str, Any], key: str, where: str, cls: type[E]) -> E:
    value = obj.get(key)
    try:
        return cls(value)
    except ValueError:
        allowed = " | ".join(m.value for m in cls)
        raise _Bad(f"{where}.{key} is {json.dumps(value)}; expected {allowed}") from None


def _clock(value: Any, where: str) -> time:
    if isinstance(value, str):
        m = re.fullmatch(r"(\d{2}):(\d{2})", value)
        if m and int(m.group(1)) < 24 and int(m.group(2)) < 60:
            return time(int(m.group(1)), int(m.group(2)))
    raise _Bad(f"{where} must be a time like \"09:00\", not {json.dumps(value)}")


_TOP = frozenset({"now", "agent", "customer", "call"})
_AGENT = frozenset({"team", "state"})
_CUSTOMER = frozenset({"number", "spoke_before"})
_CALL = frozenset({"origin", "reason"})


def parse_scenario(value: Any, line: int) -> Scenario:
    """One decoded JSON object as a scenario; raises ValueError with the problem in words."""
    try:
        return _parse(value, line)
    except _Bad as exc:
        raise ValueError(str(exc)) from None


def _parse(value: Any, line: int) -> Scenario:
    top = _obj(value, "the scenario", _TOP, frozenset({"name", "expect"}))
    name = top.get("name", f"line {line}")
    if not isinstance(name, str):
        raise _Bad("name must be text")
    now_raw = top["now"]
    if not isinstance(now_raw, str):
        raise _Bad("now must be text like \"2026-11-20T16:00:00Z\"")
    try:
        now = datetime.fromisoformat(now_raw.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise _Bad(f"now {json.dumps(now_raw)} is not a date and time like "
                   "\"2026-11-20T16:00:00Z\"") from None
    if now.tzinfo is None:
        raise _Bad(f"now {json.dumps(now_raw)} has no offset; write it as UTC (…Z) or with "
                   "its offset (…-06:00)")

    agent = _obj(top["agent"], "agent", _AGENT, frozenset({"international_calling"}))
    customer = _obj(top["customer"], "customer", _CUSTOMER,
                    frozenset({"service_zone", "consent", "unanswered_attempts",
                               "history_complete"}))
    call = _obj(top["call"], "call", _CALL,
                frozenset({"directed_by_policy", "notification_sent", "email_sent"}))

    number = customer["number"]
    if not isinstance(number, str):
        raise _Bad("customer.number must be text (in quotes)")
    zone = customer.get("service_zone")
    if zone is not None and not isinstance(zone, str):
        raise _Bad("customer.service_zone must be an IANA zone like \"America/Chicago\" or null")
    consent_raw = customer.get("consent")
    consent = None
    if consent_raw is not None:
        c = _obj(consent_raw, "customer.consent", frozenset({"from", "to"}), frozenset())
        consent = ConsentWindow(_clock(c["from"], "customer.consent.from"),
                                _clock(c["to"], "customer.consent.to"))
    attempts = customer.get("unanswered_attempts", 0)
    if isinstance(attempts, bool) or not isinstance(attempts, int) or attempts < 0:
        raise _Bad("customer.unanswered_attempts must be a whole number, 0 or more")
    sent_raw = call.get("notification_sent")
    sent = (None if sent_raw is None
            else _choice(call, "notification_sent", "call", NotificationTemplate))

    facts = DialFacts(
        team=_choice(agent, "team", "agent", Team),
        state=_choice(agent, "state", "agent", AgentState),
        international_calling=_bool(agent, "international_calling", "agent"),
        number=number,
        service_zone=zone,
        consent_from=consent.start if consent is not None else None,
        consent_to=consent.end if consent is not None else None,
        spoke_before=_bool(customer, "spoke_before", "customer"),
        unanswered_attempts=attempts,
        origin=_choice(call, "origin", "call", CallOrigin),
        reason=_choice(call, "reason", "call", CallReason),
        directed_by_policy=_bool(call, "directed_by_policy", "call"),
        notification_sent=sent,
        email_sent=_bool(call, "email_sent", "call"),
        history_complete=_bool(customer, "history_complete", "customer", default=True),
    )
    expect = None
    if "expect" in top:
        e = _obj(top["expect"], "expect", frozenset(),
                 frozenset({"allowed", "blocked_by", "dial_string"}))
        allowed = None if "allowed" not in e else _bool(e, "allowed", "expect")
        blocked = None
        if "blocked_by" in e:
            raw = e["blocked_by"]
            if not isinstance(raw, list) or not all(isinstance(i, str) for i in raw):
                raise _Bad("expect.blocked_by must be a list of rule ids")
            blocked = frozenset(raw)
        dial = e.get("dial_string")
        if dial is not None and not isinstance(dial, str):
            raise _Bad("expect.dial_string must be text or null")
        expect = Expectation(allowed, blocked, dial, "dial_string" in e)
    return Scenario(line, name, now, facts, expect)


def read_scenarios(text: str, label: str) -> tuple[list[Scenario], list[ScenarioError]]:
    """All scenarios of a file, and every line that could not be read. Blank lines are skipped."""
    scenarios: list[Scenario] = []
    errors: list[ScenarioError] = []
    for no, raw in enumerate(text.splitlines(), 1):
        if not raw.strip():
            continue
        try:
            value = json.loads(raw)
        except json.JSONDecodeError as exc:
            errors.append(ScenarioError(label, no, f"not valid JSON: {exc.msg} (column "
                                                   f"{exc.colno})"))
            continue
        try:
            scenarios.append(parse_scenario(value, no))
        except ValueError as exc:
            errors.append(ScenarioError(label, no, str(exc)))
    return scenarios, errors


def verdict_json(name: str, verdict: Verdict) -> dict[str, Any]:
    """One output line; the first four keys are the acceptance README's, the rest are extras."""
    return {
        "name": name,
        "allowed": verdict.allowed,
        "rules": [{"id": r.id, "title": r.title, "outcome": r.outcome.value, "reason": r.reason,
                   "action": r.action.value if r.action is not None else None}
                  for r in verdict.rules],
        "dial_string": verdict.dial_string,
        "blocked_by": list(verdict.blocked_by),
        "zones": list(verdict.zones.zones),
        "zone_source": verdict.zones.source,
        "pack_version": verdict.pack_version,
        "pack_checksum": verdict.pack_checksum,
    }


def _ids(ids: frozenset[str] | tuple[str, ...]) -> str:
    return "[" + ", ".join(sorted(ids)) + "]"


def mismatches(scenario: Scenario, verdict: Verdict) -> list[str]:
    """How the verdict differs from the scenario's expectation, in words; empty when it matches."""
    exp = scenario.expect
    if exp is None:
        return []
    out = []
    if exp.allowed is not None and exp.allowed != verdict.allowed:
        out.append(f"expected allowed={str(exp.allowed).lower()}, got "
                   f"{str(verdict.allowed).lower()}")
    if exp.blocked_by is not None and exp.blocked_by != frozenset(verdict.blocked_by):
        out.append(f"expected blocked_by {_ids(exp.blocked_by)}, got "
                   f"{_ids(verdict.blocked_by)}")
    if exp.checks_dial_string and exp.dial_string != verdict.dial_string:
        out.append(f"expected dial_string {json.dumps(exp.dial_string)}, got "
                   f"{json.dumps(verdict.dial_string)}")
    return out
