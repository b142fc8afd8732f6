"""IT's `sip.dtmf_method` reaches the company account the phone starts with (its password is
read separately, by the phone: tests/integration/sip/test_pending_password.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from app.bootstrap import company_line
from app.ports.phone import DtmfMethod
from app.settings import load_settings


def account(tmp_path: Path, machine: str) -> Any:
    path = tmp_path / "machine.toml"
    path.write_text('[sip]\nregistrar = "sip:pbx.example.com"\n' + machine)
    user = tmp_path / "user.toml"
    user.write_text('[sip]\nusername = "agent7"\n')
    return company_line(load_settings(user, path))


def test_rfc4733_unless_it_says_otherwise(tmp_path: Path) -> None:
    assert account(tmp_path, "").dtmf_method is DtmfMethod.RFC4733


def test_sip_info_when_the_pbx_needs_it(tmp_path: Path) -> None:
    assert account(tmp_path, 'dtmf_method = "sip_info"\n').dtmf_method is DtmfMethod.SIP_INFO
