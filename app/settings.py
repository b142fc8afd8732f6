"""One declarative settings schema, with machine-wide values set by IT above user values.

Sources, lowest first: the schema defaults, the user's file, the machine file. A setting whose scope
is MACHINE can only come from the defaults or the machine file: a user value for it is ignored and
reported, so IT's lock cannot be undone from a desktop. The policy pack is versioned data, not a
setting; only its path is.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from app.domain.errors import CallwiseError


class Scope(StrEnum):
    USER = "user"
    MACHINE = "machine"  # locked by IT


@dataclass(frozen=True)
class Setting:
    name: str
    type: type
    default: Any
    scope: Scope
    description: str


SCHEMA: tuple[Setting, ...] = (
    Setting("database.url", str, "", Scope.MACHINE,
            "SQLAlchemy URL of the record store; empty means SQLite in the user's data folder"),
    Setting("policy.pack", str, "", Scope.MACHINE,
            "Path of the policy pack (TOML); empty means the pack shipped with Callwise"),
    Setting("sip.registrar", str, "", Scope.MACHINE, "Registrar URI, e.g. sip:pbx.example.com"),
    Setting("sip.domain", str, "", Scope.MACHINE, "SIP domain of the company account"),
    Setting("sip.transport", str, "tls", Scope.MACHINE, "udp, tcp or tls"),
    Setting("sip.proxy", str, "", Scope.MACHINE, "Outbound proxy URI; empty means the registrar"),
    Setting("sip.bind_address", str, "0.0.0.0", Scope.MACHINE,
            "Local address the SIP transport listens on (0.0.0.0: every interface)"),
    Setting("sip.tls_ca_file", str, "", Scope.MACHINE, "CA bundle for TLS; empty means the system store"),
    Setting("sip.username", str, "", Scope.USER,
            "The agent's SIP user name (its password is in the OS keyring)"),
    Setting("agent.id", str, "", Scope.USER, "The agent's id in the record store"),
    Setting("agent.name", str, "", Scope.USER, "The agent's display name"),
    Setting("agent.team", str, "care", Scope.MACHINE, "care, global_care, service_assurance or leader"),
    Setting("agent.international_calling", bool, False, Scope.MACHINE,
            "Whether this line of business may call outside country code 1 (OB-INTL)"),
    Setting("company.name", str, "Callwise Demo Telecom", Scope.MACHINE, "Company name used in scripts"),
    Setting("company.support_number", str, "1-800-555-0100", Scope.MACHINE,
            "The 800 support number offered to customers (SA-ALTERNATIVE)"),
    Setting("smtp.host", str, "", Scope.MACHINE,
            "Mail server for the Service Assurance email (SA-EMAILFIRST); empty means email is off"),
    Setting("smtp.port", int, 587, Scope.MACHINE, "Mail server port: 587 for starttls, 465 for tls"),
    Setting("smtp.security", str, "starttls", Scope.MACHINE,
            "starttls, tls or none (none: a trusted relay, no login allowed)"),
    Setting("smtp.username", str, "", Scope.MACHINE,
            "Mail account user name (its password is in the OS keyring); empty means no login"),
    Setting("smtp.from_address", str, "", Scope.MACHINE, "Sender address of customer emails"),
    Setting("smtp.ca_file", str, "", Scope.MACHINE,
            "CA bundle for the mail server's TLS; empty means the system store"),
    Setting("audio.input", str, "", Scope.USER, "Microphone; empty means the system default"),
    Setting("audio.output", str, "", Scope.USER, "Speaker; empty means the system default"),
    Setting("audio.ring", str, "", Scope.USER, "Ring device; empty means the speaker"),
)

_BY_NAME = {s.name: s for s in SCHEMA}
MACHINE_CONFIG_ENV = "CALLWISE_MACHINE_CONFIG"
DEFAULT_MACHINE_CONFIG = Path("/etc/callwise/callwise.toml")


class SettingsError(CallwiseError):
    pass


@dataclass(frozen=True)
class Settings:
    values: Mapping[str, Any]
    ignored: tuple[str, ...] = field(default=())  # user values that tried to override a lock

    def __getitem__(self, name: str) -> Any:
        return self.values[name]

    def with_values(self, **overrides: Any) -> Settings:
        """Overrides by dotted name written with '__' (database__url=...), for the demo and tests."""
        merged = dict(self.values)
        for key, value in overrides.items():
            merged[key.replace("__", ".")] = value
        return Settings(merged, self.ignored)


def _flatten(data: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in data.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            out.update(_flatten(value, f"{name}."))
        else:
            out[name] = value
    return out


def _read(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as f:
            raw = tomllib.load(f)
    except FileNotFoundError:
        return {}
    except tomllib.TOMLDecodeError as e:
        raise SettingsError(f"The settings file {path} is not valid TOML: {e}",
                            action=f"Fix or remove {path}.") from e
    flat = _flatten(raw)
    for name, value in flat.items():
        setting = _BY_NAME.get(name)
        if setting is None:
            raise SettingsError(f"{path}: unknown setting '{name}'.",
                                action="Check the name against `callwise settings`.")
        if not isinstance(value, setting.type):
            raise SettingsError(
                f"{path}: '{name}' must be a {setting.type.__name__}, not {value!r}.")
    return flat


def load_settings(user_file: Path | None, machine_file: Path | None = None) -> Settings:
    if machine_file is None:
        machine_file = Path(os.environ.get(MACHINE_CONFIG_ENV, DEFAULT_MACHINE_CONFIG))
    values = {s.name: s.default for s in SCHEMA}
    ignored: list[str] = []
    if user_file is not None:
        for name, value in _read(user_file).items():
            if _BY_NAME[name].scope is Scope.MACHINE:
                ignored.append(name)
            else:
                values[name] = value
    values.update(_read(machine_file))
    return Settings(values, tuple(ignored))
