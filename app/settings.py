"""One declarative settings schema, with machine-wide values set by IT above user values.

Sources, lowest first: the schema defaults, the user's file, the machine file. A setting whose scope
is MACHINE can only come from the defaults or the machine file: a user value for it is ignored and
reported, so IT's lock cannot be undone from a desktop. The policy pack is versioned data, not a
setting; only its path is.

The app writes only the user's file, and only USER settings (`save_user_settings`, e.g. the audio
devices the agent picks); the machine file belongs to IT and is never written here.
"""

from __future__ import annotations

import contextlib
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

from app.domain.errors import CallwiseError

if TYPE_CHECKING:
    from app.ports.phone import AudioChoice


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
    choices: tuple[str, ...] = ()  # the only values allowed, when not empty


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
    Setting("sip.dtmf_method", str, "rfc4733", Scope.MACHINE,
            "How key presses are sent: rfc4733 (telephone-events in the RTP stream) or sip_info "
            "(SIP INFO, application/dtmf-relay), for a PBX that ignores telephone-events",
            choices=("rfc4733", "sip_info")),
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
    Setting("audio.input", str, "", Scope.USER,
            "Microphone; empty means the system default, 'null device' no sound"),
    Setting("audio.output", str, "", Scope.USER,
            "Speaker; empty means the system default, 'null device' no sound"),
    Setting("audio.ring", str, "", Scope.USER,
            "Ring device; empty means the speaker, 'null device' a ring on screen only"),
)

_BY_NAME = {s.name: s for s in SCHEMA}
APP_NAME = "Callwise"
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
        _check(name, value, str(path))
    return flat


def _check(name: str, value: Any, where: str) -> Setting:
    setting = _BY_NAME.get(name)
    if setting is None:
        raise SettingsError(f"{where}: unknown setting '{name}'.",
                            action="Check the name against `callwise settings`.")
    # bool is an int in Python, not in TOML: refuse True for a number and 1 for a switch.
    if not isinstance(value, setting.type) or (setting.type is int and isinstance(value, bool)):
        raise SettingsError(
            f"{where}: '{name}' must be a {setting.type.__name__}, not {value!r}.")
    if setting.choices and value not in setting.choices:
        raise SettingsError(f"{where}: '{name}' must be one of {', '.join(setting.choices)}, "
                            f"not {value!r}.")
    return setting


def user_config_file() -> Path:
    import platformdirs

    return Path(platformdirs.user_config_dir(APP_NAME, appauthor=False)) / "callwise.toml"


def load_app_settings() -> Settings:
    """This user's settings on this machine: what the desktop and every subcommand read."""
    return load_settings(user_config_file())


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


def audio_choice(settings: Settings) -> AudioChoice:
    """The sound devices the agent chose, as remembered (`audio.*`)."""
    from app.ports.phone import AudioChoice  # the phone port: not needed to read the settings

    return AudioChoice(str(settings["audio.input"]), str(settings["audio.output"]),
                       str(settings["audio.ring"]))


def audio_values(choice: AudioChoice) -> dict[str, str]:
    """What `save_user_settings` writes to remember `choice`: `audio_choice` reads it back."""
    return {"audio.input": choice.input, "audio.output": choice.output, "audio.ring": choice.ring}


def save_user_settings(path: Path, values: Mapping[str, Any]) -> None:
    """Write `values` into the user's settings file, keeping the user's other values.

    Runs off the GUI thread (it touches the disk). Only USER settings may be written: a MACHINE
    name is refused, since IT's lock is not the desktop's to change. The file is replaced
    atomically (a temporary file in the same folder, fsync, rename, fsync of the folder), so a
    crash or a full disk leaves the old file whole; a file that is not valid TOML is refused
    rather than overwritten. Comments in the file are not kept (the format is flat and small).
    """
    for name, value in values.items():
        setting = _check(name, value, "Saving settings")
        if setting.scope is not Scope.USER:
            raise SettingsError(
                f"'{name}' is set by IT for the whole machine and cannot be saved per user.",
                action="Ask IT to change it in the machine configuration.")
    merged = _read(path)
    merged.update(values)
    text = _to_toml(merged)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        mode = path.stat().st_mode & 0o777
    except FileNotFoundError:
        mode = 0o644
    import tempfile

    fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(temp, mode)
        os.replace(temp, path)
    except BaseException as e:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        if isinstance(e, OSError):
            raise SettingsError(f"Your settings could not be saved to {path}: {e.strerror or e}.",
                                action="Check the disk space and the folder's permissions; "
                                       "your previous settings are unchanged.") from e
        raise
    _fsync_dir(path.parent)


def _fsync_dir(folder: Path) -> None:
    """Make the rename itself durable (POSIX); Windows has no directory handles to sync."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        with contextlib.suppress(OSError):
            os.fsync(fd)
    finally:
        os.close(fd)


def _to_toml(flat: Mapping[str, Any]) -> str:
    """The schema's names are "table.key": one TOML table per first part, keys sorted."""
    import tomli_w  # only when saving: the desktop's start never writes settings

    tables: dict[str, dict[str, Any]] = {}
    for name in sorted(flat):
        table, _, key = name.partition(".")
        tables.setdefault(table, {})[key] = flat[name]
    return ("# Callwise user settings (written by Callwise; see `callwise settings`).\n\n"
            + tomli_w.dumps(tables))
