"""The policy pack: the outbound-call policy as versioned TOML data, read into frozen objects.

A pack is loaded whole or not at all: any problem raises `PackError` naming the file, the line
and the problem, so a desktop never runs half a policy. A machine-wide pack set by IT replaces
the shipped default entirely (no merging): what IT tested with `policy evaluate --check` is
exactly what runs. Packs are immutable and may be shared between threads.
"""

from __future__ import annotations

import difflib
import hashlib
import importlib.resources
import os
import re
import string
import tomllib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, fields
from datetime import time
from enum import Enum, StrEnum
from functools import cached_property
from pathlib import Path
from types import MappingProxyType
from typing import Any, NoReturn, TypeVar

from app.domain.enums import AgentState, CallOrigin, CallReason, NotificationTemplate, Team
from app.domain.errors import CallwiseError
from app.domain.memo import Memo

SCHEMA = 1
DEFAULT_PACK_NAME = "default.toml"
PLACEHOLDERS = frozenset({"company", "support_number"})

E = TypeVar("E", bound=Enum)
P = TypeVar("P")


class PackError(CallwiseError):
    """A pack that cannot be used; `str()` reads "FILE:LINE: problem" for IT."""

    def __init__(self, path: str, line: int | None, problem: str) -> None:
        where = f"{path}:{line}" if line is not None else path
        super().__init__(f"{where}: {problem}",
                         action="Fix the pack, then check it with `callwise policy validate`.")
        self.path = path
        self.line = line
        self.problem = problem


class Stage(StrEnum):
    DIAL = "dial"  # checked by the dial gate
    CALL = "call"  # gates something during the call
    RECORD = "record"  # owed before the record closes
    GUIDANCE = "guidance"  # enforced by how the app is built; documented only

    @property
    def label(self) -> str:
        return _STAGE_LABELS[self]


_STAGE_LABELS = {
    Stage.DIAL: "dial gate",
    Stage.CALL: "during the call",
    Stage.RECORD: "before the record closes",
    Stage.GUIDANCE: "built into the app",
}


# -- rule parameters ----------------------------------------------------------------------------

@dataclass(frozen=True)
class NoParams:
    pass


@dataclass(frozen=True)
class WindowParams:
    start: time
    end: time


@dataclass(frozen=True)
class AttemptsParams:
    caps: Mapping[Team, int]
    exempt_origins: frozenset[CallOrigin]
    incomplete_history_cap: int


@dataclass(frozen=True)
class SpokeParams:
    exempt_origins: frozenset[CallOrigin]
    team_exceptions: Mapping[Team, frozenset[CallOrigin]]


@dataclass(frozen=True)
class NoCallbackParams:
    excluded_reasons: frozenset[CallReason]
    lifted_by_policy: frozenset[CallReason]


@dataclass(frozen=True)
class NotifyParams:
    templates: Mapping[CallOrigin, NotificationTemplate]
    template_names: Mapping[NotificationTemplate, str]


@dataclass(frozen=True)
class StateParams:
    states: Mapping[CallOrigin, tuple[AgentState, ...]]


@dataclass(frozen=True)
class IntlParams:
    home_country_codes: frozenset[int]


@dataclass(frozen=True)
class EmailFirstParams:
    origins: frozenset[CallOrigin]
    email_contents: tuple[str, ...]


@dataclass(frozen=True)
class ProofParams:
    facts: tuple[str, ...]


@dataclass(frozen=True)
class RecordingParams:
    notice: str


@dataclass(frozen=True)
class VerifyParams:
    prompt: str
    fields: tuple[str, ...]


@dataclass(frozen=True)
class ReminderParams:
    reminder: str
    teams: frozenset[Team]


@dataclass(frozen=True)
class MemoParams:
    required_fields: tuple[str, ...]
    required_when_connected: tuple[str, ...]


@dataclass(frozen=True)
class DocumentParams:
    teams: frozenset[Team]
    origins: frozenset[CallOrigin]
    required_fields: tuple[str, ...]
    required_when_connected: tuple[str, ...]


@dataclass(frozen=True)
class ScriptStep:
    id: str
    text: str  # may hold {company} and {support_number}

    def render(self, *, company: str, support_number: str) -> str:
        return self.text.format(company=company, support_number=support_number)


@dataclass(frozen=True)
class ScriptParams:
    teams: frozenset[Team]
    steps: tuple[ScriptStep, ...]

    @property
    def step_ids(self) -> frozenset[str]:
        return frozenset(s.id for s in self.steps)


RuleParams = (NoParams | WindowParams | AttemptsParams | SpokeParams | NoCallbackParams
              | NotifyParams | StateParams | IntlParams | EmailFirstParams | ProofParams
              | RecordingParams | VerifyParams | ReminderParams | MemoParams | DocumentParams
              | ScriptParams)


@dataclass(frozen=True)
class RuleSpec:
    """One rule as the pack states it: its words, its source, its parameters."""

    id: str
    stage: Stage
    title: str
    source: tuple[str, ...]  # the policy sentence(s), quoted word for word
    description: str
    decision: str | None  # what was decided where the policy is silent
    source_document: str
    params: RuleParams
    line: int  # where the rule starts in the pack file

    @property
    def source_text(self) -> str:
        return " ".join(self.source)


@dataclass(frozen=True)
class DialPlan:
    default_region: str
    home_country_code: int
    national_prefix: str
    international_prefix: str
    decision: str | None


@dataclass(frozen=True)
class PolicyPack:
    version: str
    name: str
    source_document: str
    checksum: str  # sha256 of the file's bytes: what a call record says it was judged by
    path: str
    dial_plan: DialPlan
    rules: tuple[RuleSpec, ...]

    def __iter__(self) -> Iterator[RuleSpec]:
        return iter(self.rules)

    def has(self, rule_id: str) -> bool:
        return any(r.id == rule_id for r in self.rules)

    def rule(self, rule_id: str) -> RuleSpec:
        for r in self.rules:
            if r.id == rule_id:
                return r
        raise KeyError(rule_id)

    def params(self, rule_id: str, kind: type[P]) -> P | None:
        """The rule's parameters, or None when the pack does not have the rule."""
        for r in self.rules:
            if r.id == rule_id:
                if not isinstance(r.params, kind):  # pragma: no cover - guarded by the loader
                    raise TypeError(f"{rule_id} has {type(r.params).__name__}, not {kind.__name__}")
                return r.params
        return None

    def stage(self, stage: Stage) -> tuple[RuleSpec, ...]:
        return tuple(r for r in self.rules if r.stage is stage)

    @cached_property
    def dial_rules(self) -> tuple[RuleSpec, ...]:
        """The dial gate's rules in pack order (cached: the gate asks on every tick)."""
        return self.stage(Stage.DIAL)


# -- reading ------------------------------------------------------------------------------------

PathPart = str | int


class _SchemaError(Exception):
    def __init__(self, path: tuple[PathPart, ...], problem: str) -> None:
        super().__init__(problem)
        self.key_path = path
        self.problem = problem


def _dotted(path: tuple[PathPart, ...]) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out


class _Table:
    """A TOML table read key by key, so every problem knows its key path and leftovers are typos."""

    def __init__(self, data: Mapping[str, Any], path: tuple[PathPart, ...]) -> None:
        self.data = data
        self.path = path
        self.used: set[str] = set()

    def fail(self, key: PathPart | None, problem: str) -> NoReturn:
        raise _SchemaError((*self.path, key) if key is not None else self.path, problem)

    def _get(self, key: str, required: bool) -> Any:
        self.used.add(key)
        if key not in self.data:
            if required:
                where = f" in [{_dotted(self.path)}]" if self.path else ""
                # A missing key is most often a typo of it: point at the typo.
                typo = difflib.get_close_matches(key, [k for k in self.data if k not in self.used],
                                                 n=1, cutoff=0.75)
                if typo:
                    self.fail(typo[0], f"unknown key “{typo[0]}”{where}: did you mean “{key}”?")
                self.fail(None, f"missing key “{key}”{where}")
            return None
        return self.data[key]

    def has(self, key: str) -> bool:
        return key in self.data

    def text(self, key: str, *, required: bool = True, empty_ok: bool = False) -> str | None:
        value = self._get(key, required)
        if value is None:
            return None
        if not isinstance(value, str):
            self.fail(key, f"“{key}” must be text in quotes, not {_kind(value)}")
        if not empty_ok and not value.strip():
            self.fail(key, f"“{key}” must not be empty")
        return value

    def req_text(self, key: str) -> str:
        value = self.text(key)
        assert value is not None
        return value

    def texts(self, key: str, *, one_ok: bool = False, required: bool = True) -> tuple[str, ...]:
        value = self._get(key, required)
        if value is None:
            return ()
        if one_ok and isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not value:
            self.fail(key, f"“{key}” must be a non-empty list of texts")
        for i, item in enumerate(value):
            if not isinstance(item, str) or not item.strip():
                raise _SchemaError((*self.path, key, i), f"item {i + 1} of “{key}” must be text")
        return tuple(value)

    def integer(self, key: str, *, minimum: int = 0) -> int:
        value = self._get(key, True)
        if isinstance(value, bool) or not isinstance(value, int):
            self.fail(key, f"“{key}” must be a whole number, not {_kind(value)}")
        if value < minimum:
            self.fail(key, f"“{key}” must be at least {minimum}, not {value}")
        return value

    def clock_time(self, key: str) -> time:
        value = self._get(key, True)
        if isinstance(value, time):
            return value.replace(tzinfo=None)
        if isinstance(value, str):
            m = re.fullmatch(r"(\d{1,2}):(\d{2})", value.strip())
            if m and int(m.group(1)) < 24 and int(m.group(2)) < 60:
                return time(int(m.group(1)), int(m.group(2)))
        self.fail(key, f"“{key}” must be a time of day like \"09:00\", not {value!r}")

    def enum_value(self, key: PathPart, value: Any, cls: type[E], what: str) -> E:
        try:
            return cls(value)
        except ValueError:
            allowed = ", ".join(m.value for m in cls)
            self.fail(key, f"unknown {what} {value!r}; expected one of: {allowed}")

    def enum_set(self, key: str, cls: type[E], what: str, *,
                 required: bool = True) -> frozenset[E]:
        value = self._get(key, required)
        if value is None:
            return frozenset()
        if not isinstance(value, list):
            self.fail(key, f"“{key}” must be a list of {what}s")
        return frozenset(self.enum_value(key, v, cls, what) for v in value)

    def table(self, key: str) -> _Table:
        value = self._get(key, True)
        if not isinstance(value, dict):
            self.fail(key, f"“{key}” must be a table, not {_kind(value)}")
        return _Table(value, (*self.path, key))

    def keys_used(self) -> list[str]:
        """Every key of the table, all marked as read (the caller checks each one)."""
        self.used.update(self.data)
        return list(self.data)

    def finish(self) -> None:
        for key in self.data:
            if key not in self.used:
                self.fail(key, f"unknown key “{key}” in [{_dotted(self.path)}]")


def _kind(value: Any) -> str:
    return {bool: "true/false", int: "a number", float: "a number", str: "text", list: "a list",
            dict: "a table"}.get(type(value), type(value).__name__)


_MEMO_FIELDS = frozenset(f.name for f in fields(Memo))


def _memo_fields(t: _Table, key: str) -> tuple[str, ...]:
    names = t.texts(key, required=False) if t.has(key) else ()
    for name in names:
        if name not in _MEMO_FIELDS:
            t.fail(key, f"unknown memo field {name!r}; expected one of: "
                        f"{', '.join(sorted(_MEMO_FIELDS))}")
    return names


def _check_placeholders(t: _Table, key: PathPart, text: str) -> None:
    try:
        names = {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}
    except ValueError as exc:
        t.fail(key, f"bad placeholder in {text!r}: {exc}")
    unknown = names - PLACEHOLDERS
    if unknown:
        t.fail(key, f"unknown placeholder {{{sorted(unknown)[0]}}}; allowed: "
                    f"{', '.join('{' + p + '}' for p in sorted(PLACEHOLDERS))}")


# One reader per rule id this version of Callwise can enforce.

def _p_none(t: _Table) -> NoParams:
    return NoParams()


def _p_window(t: _Table) -> WindowParams:
    start, end = t.clock_time("start"), t.clock_time("end")
    if start == end:
        t.fail("end", "“start” and “end” are the same time: no call could ever be placed")
    return WindowParams(start, end)


def _p_attempts(t: _Table) -> AttemptsParams:
    caps_t = t.table("caps")
    caps: dict[Team, int] = {}
    for key in caps_t.keys_used():
        team = caps_t.enum_value(key, key, Team, "team")
        caps[team] = caps_t.integer(key)
    missing = [team.value for team in Team if team not in caps]
    if missing:
        t.fail("caps", f"no attempt limit for team(s): {', '.join(missing)}")
    exempt = t.enum_set("exempt_origins", CallOrigin, "call origin", required=False)
    cap = t.integer("incomplete_history_cap") if t.has("incomplete_history_cap") else min(
        caps.values())
    return AttemptsParams(MappingProxyType(caps), exempt, cap)


def _p_spoke(t: _Table) -> SpokeParams:
    exempt = t.enum_set("exempt_origins", CallOrigin, "call origin", required=False)
    exceptions: dict[Team, frozenset[CallOrigin]] = {}
    if t.has("team_exceptions"):
        ex_t = t.table("team_exceptions")
        for key in ex_t.keys_used():
            team = ex_t.enum_value(key, key, Team, "team")
            exceptions[team] = ex_t.enum_set(key, CallOrigin, "call origin")
    return SpokeParams(exempt, MappingProxyType(exceptions))


def _p_nocallback(t: _Table) -> NoCallbackParams:
    excluded = t.enum_set("excluded_reasons", CallReason, "call reason")
    lifted = t.enum_set("lifted_by_policy", CallReason, "call reason", required=False)
    if not lifted <= excluded:
        extra = sorted(r.value for r in lifted - excluded)
        t.fail("lifted_by_policy", f"{', '.join(extra)} cannot be lifted: not excluded")
    return NoCallbackParams(excluded, lifted)


def _p_notify(t: _Table) -> NotifyParams:
    tpl_t = t.table("templates")
    templates: dict[CallOrigin, NotificationTemplate] = {}
    for key in tpl_t.keys_used():
        origin = tpl_t.enum_value(key, key, CallOrigin, "call origin")
        templates[origin] = tpl_t.enum_value(key, tpl_t.data[key], NotificationTemplate,
                                             "template")
    names_t = t.table("template_names")
    names: dict[NotificationTemplate, str] = {}
    for key in names_t.keys_used():
        template = names_t.enum_value(key, key, NotificationTemplate, "template")
        names[template] = names_t.req_text(key)
    for template in set(templates.values()):
        if template not in names:
            t.fail("template_names", f"no display name for template {template.value!r}")
    return NotifyParams(MappingProxyType(templates), MappingProxyType(names))


def _p_state(t: _Table) -> StateParams:
    st = t.table("states")
    states: dict[CallOrigin, tuple[AgentState, ...]] = {}
    for key in st.keys_used():
        origin = st.enum_value(key, key, CallOrigin, "call origin")
        value = st.data[key]
        if not isinstance(value, list) or not value:
            st.fail(key, f"“{key}” must be a non-empty list of agent states")
        states[origin] = tuple(st.enum_value(key, v, AgentState, "agent state") for v in value)
    missing = [o.value for o in CallOrigin if o not in states]
    if missing:
        t.fail("states", f"no agent state for call origin(s): {', '.join(missing)}")
    return StateParams(MappingProxyType(states))


def _p_intl(t: _Table) -> IntlParams:
    value = t._get("home_country_codes", True)
    if (not isinstance(value, list) or not value
            or not all(isinstance(v, int) and not isinstance(v, bool) and 0 < v < 1000
                       for v in value)):
        t.fail("home_country_codes", "“home_country_codes” must be a list of country codes "
                                     "like [1]")
    return IntlParams(frozenset(value))


def _p_emailfirst(t: _Table) -> EmailFirstParams:
    return EmailFirstParams(t.enum_set("origins", CallOrigin, "call origin"),
                            t.texts("email_contents", required=False))


def _p_proof(t: _Table) -> ProofParams:
    return ProofParams(t.texts("facts"))


def _p_recording(t: _Table) -> RecordingParams:
    return RecordingParams(t.req_text("notice"))


def _p_verify(t: _Table) -> VerifyParams:
    return VerifyParams(t.req_text("prompt"), t.texts("fields"))


def _p_reminder(t: _Table) -> ReminderParams:
    teams = (t.enum_set("teams", Team, "team") if t.has("teams") else frozenset(Team))
    return ReminderParams(t.req_text("reminder"), teams)


def _p_memo(t: _Table) -> MemoParams:
    return MemoParams(_memo_fields(t, "required_fields"),
                      _memo_fields(t, "required_when_connected"))


def _p_document(t: _Table) -> DocumentParams:
    return DocumentParams(t.enum_set("teams", Team, "team", required=False),
                          t.enum_set("origins", CallOrigin, "call origin", required=False),
                          _memo_fields(t, "required_fields"),
                          _memo_fields(t, "required_when_connected"))


def _p_script(t: _Table) -> ScriptParams:
    teams = t.enum_set("teams", Team, "team")
    raw = t._get("steps", True)
    if not isinstance(raw, list) or not raw:
        t.fail("steps", "“steps” must be a non-empty list of { id = ..., text = ... }")
    steps: list[ScriptStep] = []
    for i, item in enumerate(raw):
        if not isinstance(item, dict):
            t.fail("steps", f"step {i + 1} must be {{ id = \"...\", text = \"...\" }}")
        st = _Table(item, (*t.path, "steps", i))
        step = ScriptStep(st.req_text("id"), st.req_text("text"))
        _check_placeholders(st, "text", step.text)
        st.finish()
        if any(s.id == step.id for s in steps):
            t.fail("steps", f"step id {step.id!r} is used twice")
        steps.append(step)
    return ScriptParams(teams, tuple(steps))


_KNOWN: dict[str, tuple[Stage, Callable[[_Table], RuleParams]]] = {
    "NUMBER": (Stage.DIAL, _p_none),
    "OB-WINDOW": (Stage.DIAL, _p_window),
    "OB-ATTEMPTS": (Stage.DIAL, _p_attempts),
    "OB-SPOKE": (Stage.DIAL, _p_spoke),
    "OB-NOCALLBACK": (Stage.DIAL, _p_nocallback),
    "OB-NOTIFY": (Stage.DIAL, _p_notify),
    "OB-STATE": (Stage.DIAL, _p_state),
    "OB-INTL": (Stage.DIAL, _p_intl),
    "SA-EMAILFIRST": (Stage.DIAL, _p_emailfirst),
    "OB-PROOF": (Stage.CALL, _p_proof),
    "OB-OTP": (Stage.CALL, _p_none),
    "OB-RECORDING": (Stage.RECORD, _p_recording),
    "OB-VERIFY": (Stage.RECORD, _p_verify),
    "OB-NOSSN": (Stage.RECORD, _p_reminder),
    "OB-PAYMENT": (Stage.RECORD, _p_reminder),
    "OB-NOANSWER": (Stage.RECORD, _p_none),
    "OB-MEMO": (Stage.RECORD, _p_memo),
    "SA-DOCUMENT": (Stage.RECORD, _p_document),
    "SA-PREPARE": (Stage.RECORD, _p_script),
    "SA-ALTERNATIVE": (Stage.RECORD, _p_script),
}

KNOWN_RULES: Mapping[str, Stage] = MappingProxyType({k: v[0] for k, v in _KNOWN.items()})

_RULE_ID = re.compile(r"[A-Z][A-Z0-9]*(?:-[A-Z0-9]+)*")
_COMMON_KEYS = ("stage", "title", "source", "description", "decision", "source_document")


def _read_rule(rule_id: str, t: _Table, document: str) -> tuple[Stage, RuleSpec]:
    if not _RULE_ID.fullmatch(rule_id):
        t.fail(None, f"rule id {rule_id!r} must look like OB-WINDOW (capitals, digits, dashes)")
    stage = t.enum_value("stage", t._get("stage", True), Stage, "stage")
    title = t.req_text("title")
    source = t.texts("source", one_ok=True)
    description = t.req_text("description")
    decision = t.text("decision", required=False)
    doc = t.text("source_document", required=False) or document
    if stage is Stage.GUIDANCE:
        params: RuleParams = NoParams()
    else:
        known = _KNOWN.get(rule_id)
        if known is None:
            t.fail("stage", f"this version of Callwise has no check for rule {rule_id!r}; "
                            f"a rule it cannot enforce must have stage = \"guidance\"")
        if known[0] is not stage:
            t.fail("stage", f"rule {rule_id} is checked at stage \"{known[0].value}\", "
                            f"not \"{stage.value}\"")
        params = known[1](t)
    t.finish()
    return stage, RuleSpec(rule_id, stage, title, source, description, decision, doc, params, 0)


def _read_pack(data: Mapping[str, Any], checksum: str, label: str,
               rule_lines: Mapping[str, int]) -> PolicyPack:
    top = _Table(data, ())
    schema = top.integer("schema", minimum=1)
    if schema != SCHEMA:
        top.fail("schema", f"schema {schema} is not supported by this version (expected "
                           f"{SCHEMA})")
    version = top.req_text("version")
    name = top.req_text("name")
    document = top.req_text("source_document")
    dp = top.table("dial_plan")
    region = dp.req_text("default_region")
    if not re.fullmatch(r"[A-Z]{2}", region):
        dp.fail("default_region", f"“default_region” must be a two-letter region like \"US\", "
                                  f"not {region!r}")
    plan = DialPlan(
        default_region=region,
        home_country_code=dp.integer("home_country_code", minimum=1),
        national_prefix=_digits(dp, "national_prefix"),
        international_prefix=_digits(dp, "international_prefix"),
        decision=dp.text("decision", required=False),
    )
    dp.finish()
    rules_t = top.table("rules")
    rules: list[RuleSpec] = []
    for rule_id in rules_t.keys_used():
        _, spec = _read_rule(rule_id, rules_t.table(rule_id), document)
        rules.append(RuleSpec(spec.id, spec.stage, spec.title, spec.source, spec.description,
                              spec.decision, spec.source_document, spec.params,
                              rule_lines.get(rule_id, 0)))
    if not any(r.id == "NUMBER" for r in rules):
        # Without it an invalid number could pass the gate with nothing to dial.
        top.fail("rules", "the pack must keep rule NUMBER: Callwise never dials a number it "
                          "cannot read")
    top.finish()
    return PolicyPack(version=version, name=name, source_document=document, checksum=checksum,
                      path=label, dial_plan=plan, rules=tuple(rules))


def _digits(t: _Table, key: str) -> str:
    value = t.text(key, empty_ok=True)
    assert value is not None
    if not re.fullmatch(r"\d*", value):
        t.fail(key, f"“{key}” must be digits only, not {value!r}")
    return value


# -- locating a key in the text -----------------------------------------------------------------

_BARE_OR_QUOTED = r'(?:[A-Za-z0-9_-]+|"[^"]*"|\'[^\']*\')'
_KEY_RE = re.compile(rf"^({_BARE_OR_QUOTED}(?:\s*\.\s*{_BARE_OR_QUOTED})*)\s*=")
_HEADER_RE = re.compile(rf"^\[\[?\s*({_BARE_OR_QUOTED}(?:\s*\.\s*{_BARE_OR_QUOTED})*)\s*\]\]?")


def _split_key(dotted: str) -> tuple[str, ...]:
    parts = re.findall(_BARE_OR_QUOTED, dotted)
    return tuple(p[1:-1] if p[:1] in "\"'" else p for p in parts)


def _key_lines(text: str) -> Iterator[tuple[int, tuple[str, ...]]]:
    """(line, full key path) for every table header and `key =` line, in order."""
    table: tuple[str, ...] = ()
    in_multiline: str | None = None
    for no, line in enumerate(text.splitlines(), 1):
        s = line.strip()
        if in_multiline:
            if s.count(in_multiline) % 2 == 1:
                in_multiline = None
            continue
        if not s or s.startswith("#"):
            continue
        header = _HEADER_RE.match(s)
        if header:
            table = _split_key(header.group(1))
            yield no, table
            continue
        key = _KEY_RE.match(s)
        if key:
            yield no, table + _split_key(key.group(1))
            for quote in ('"""', "'''"):
                if s.count(quote) == 1:
                    in_multiline = quote


def line_of(text: str, key_path: tuple[PathPart, ...]) -> int | None:
    """The line that best names `key_path`: the key itself, else its nearest written parent.

    An index right after a key (`steps[2]`) moves to that item's line when the array is
    written one item per line.
    """
    names: list[str] = []
    index: int | None = None
    for part in key_path:
        if isinstance(part, int):
            index = part
            break
        names.append(part)
    wanted = tuple(names)
    best: int | None = None
    best_len = 0
    for no, found in _key_lines(text):
        if len(found) <= len(wanted) and wanted[:len(found)] == found and len(found) > best_len:
            best, best_len = no, len(found)
            if best_len == len(wanted):
                break
    if best is not None and index is not None and best_len == len(wanted):
        best = _array_item_line(text, best, index)
    return best


def _array_item_line(text: str, key_line: int, index: int) -> int:
    lines = text.splitlines()
    if not lines[key_line - 1].rstrip().endswith("["):
        return key_line  # written on one line
    seen = -1
    for no in range(key_line, len(lines)):
        s = lines[no].strip()
        if s.startswith("]"):
            break
        if s[:1] in ("{", '"', "'", "[") or s[:1].isdigit():
            seen += 1
            if seen == index:
                return no + 1
    return key_line


# -- loading ------------------------------------------------------------------------------------

def default_pack_bytes() -> tuple[bytes, str]:
    res = importlib.resources.files("resources.policy").joinpath(DEFAULT_PACK_NAME)
    return res.read_bytes(), str(res)


def parse_pack(raw: bytes, label: str) -> PolicyPack:
    """Read a pack from its bytes; `label` names it in error messages."""
    checksum = hashlib.sha256(raw).hexdigest()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[:exc.start].count(b"\n") + 1
        raise PackError(label, line, "the file is not UTF-8 text") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        msg = str(exc)
        m = re.search(r"\s*\(at line (\d+), column (\d+)\)", msg)
        if m:
            problem = f"invalid TOML: {msg[:m.start()]} (column {m.group(2)})"
            raise PackError(label, int(m.group(1)), problem) from None
        end = len(text.splitlines()) or 1
        raise PackError(label, end, f"invalid TOML: {msg}") from None
    rule_lines = {path[1]: no for no, path in _key_lines(text)
                  if len(path) == 2 and path[0] == "rules"}
    try:
        return _read_pack(data, checksum, label, rule_lines)
    except _SchemaError as exc:
        raise PackError(label, line_of(text, exc.key_path) or 1, exc.problem) from None


def load_pack(path: str | os.PathLike[str] | None = None) -> PolicyPack:
    """The pack at `path`, or the shipped default when None. Raises PackError, never half-loads."""
    if path is None:
        raw, label = default_pack_bytes()
        return parse_pack(raw, label)
    p = Path(path)
    try:
        raw = p.read_bytes()
    except FileNotFoundError:
        raise PackError(str(p), None, "no such file") from None
    except IsADirectoryError:
        raise PackError(str(p), None, "is a folder, not a pack file") from None
    except OSError as exc:
        raise PackError(str(p), None, f"cannot be read: {exc.strerror or exc}") from None
    return parse_pack(raw, str(p))
