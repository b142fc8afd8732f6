"""`callwise customers import` and `callwise audit verify` as IT runs them: the installed console
script in a real process, real files, real SQLite and PostgreSQL databases, exit codes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import text

from app.storage import open_store
from app.storage.engine import create_store_engine
from tests.integration.storage.conftest import T0

ROOT = Path(__file__).resolve().parents[3]

GOOD_AND_BAD = (
    "account_number,first_name,last_name,phone,other_phones,service_zone\n"
    "ACC-1,Ana,García,(312) 555-0142,mobile: 773 555 0119,America/Chicago\n"
    "ACC-2,Ben,Smith,555-01,,\n"
    "ACC-3,Cy,Lee,+1 212 555 0122,,Mars/Olympus\n"
    "ACC-4,Di,Ng,+1 212 555 0124,+1 212 555 0199; +1 212 555 01,\n"
    "ACC-5,Ed,Kim,+44 20 7946 0958,,Europe/London\n"
)


def callwise(*args: str, home: Path) -> subprocess.CompletedProcess[str]:
    env = {"PATH": "/usr/bin:/bin", "HOME": str(home), "XDG_CONFIG_HOME": str(home / "cfg"),
           "XDG_DATA_HOME": str(home / "data")}
    return subprocess.run([str(Path(sys.executable).with_name("callwise")), *args], cwd=ROOT,
                          capture_output=True, text=True, encoding="utf-8", timeout=120,
                          check=False, env=env)


def _customers(url: str) -> dict[str, list[str]]:
    engine = create_store_engine(url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(text(
                "SELECT c.account_number, n.number FROM customers c JOIN customer_numbers n "
                "ON n.customer_id = c.id ORDER BY c.account_number, n.position")).all()
    finally:
        engine.dispose()
    out: dict[str, list[str]] = {}
    for account, number in rows:
        out.setdefault(account, []).append(number)
    return out


def test_good_rows_are_imported_and_bad_rows_reported_by_line(
        db_url: str, tmp_path: Path) -> None:
    csv_file = tmp_path / "customers.csv"
    csv_file.write_text(GOOD_AND_BAD, encoding="utf-8")
    result = callwise("customers", "import", str(csv_file), "--database", db_url, home=tmp_path)
    assert result.returncode == 1, result.stderr
    lines = result.stderr.splitlines()
    assert [line.split(": ", 1)[0] for line in lines] == [f"{csv_file}:{n}" for n in (3, 4, 5)]
    assert "'555-01'" in lines[0] and "Mars/Olympus" in lines[1] and "'+1 212 555 01'" in lines[2]
    assert "imported 2 customer(s); 3 row(s) reported and not imported" in result.stdout
    # Row 5 had one good and one bad extra number: none of it was written.
    assert _customers(db_url) == {"ACC-1": ["+13125550142", "+17735550119"],
                                  "ACC-5": ["+442079460958"]}
    store = open_store(db_url, migrate=False)
    try:
        with store.unit_of_work(read_only=True) as uow:
            customer = uow.customers.get("acct-acc1")
            assert customer is not None and customer.service_zone == "America/Chicago"
            assert [e.payload for e in uow.audit.for_record("customers.csv")] == [
                {"file": "customers.csv", "imported": 2, "reported": 3}]
    finally:
        store.close()

    again = callwise("customers", "import", str(csv_file), "--database", db_url, home=tmp_path)
    assert again.returncode == 1
    assert "already in the records" in again.stderr  # importing twice duplicates nothing
    assert "imported 0 customer(s); 5 row(s) reported" in again.stdout
    assert len(_customers(db_url)) == 2


def test_a_batch_the_database_refuses_leaves_nothing_half_imported(
        sqlite_url: str, tmp_path: Path) -> None:
    open_store(sqlite_url).close()
    engine = create_store_engine(sqlite_url)
    with engine.begin() as conn:  # the database refuses the fourth customer of the batch
        conn.execute(text("CREATE TRIGGER refuse BEFORE INSERT ON customers "
                          "WHEN NEW.account_number = 'ACC-4' "
                          "BEGIN SELECT RAISE(ABORT, 'refused by the database'); END"))
    engine.dispose()
    csv_file = tmp_path / "batch.csv"
    csv_file.write_text("account_number,first_name,last_name,phone\n" + "".join(
        f"ACC-{i},F{i},L{i},+1 312 555 01{i:02d}\n" for i in range(1, 8)), encoding="utf-8")
    result = callwise("customers", "import", str(csv_file), "--database", sqlite_url,
                      home=tmp_path)
    assert result.returncode == 3
    assert "Nothing was imported" in result.stderr
    assert _customers(sqlite_url) == {}


def test_an_unusable_file_imports_nothing(sqlite_url: str, tmp_path: Path) -> None:
    csv_file = tmp_path / "wrong.csv"
    csv_file.write_text("account,first,last,phone\nACC-1,Ana,Lee,+13125550142\n")
    result = callwise("customers", "import", str(csv_file), "--database", sqlite_url,
                      home=tmp_path)
    assert result.returncode == 2
    assert "missing column(s) account_number" in result.stderr
    assert "Nothing was imported" in result.stderr
    latin1 = tmp_path / "latin1.csv"
    latin1.write_bytes("account_number,first_name,last_name,phone\nACC-1,José,Lee,"
                       "+13125550142\n".encode("latin-1"))
    result = callwise("customers", "import", str(latin1), "--database", sqlite_url,
                      home=tmp_path)
    assert result.returncode == 2 and "not UTF-8" in result.stderr


def _chain(url: str, count: int) -> None:
    store = open_store(url)
    try:
        with store.unit_of_work() as uow:
            for i in range(count):
                uow.audit.append("record_closed", f"rec-{i}", {"i": i}, T0)
            uow.commit()
    finally:
        store.close()


def _tamper(url: str, *statements: str) -> None:
    engine = create_store_engine(url)
    try:
        with engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                conn.execute(text("ALTER TABLE audit_log DISABLE TRIGGER USER"))
                conn.execute(text("ALTER TABLE audit_head DISABLE TRIGGER USER"))
            else:
                for trigger in ("audit_log_no_update", "audit_log_no_delete",
                                "audit_head_forward_only", "audit_head_no_delete"):
                    conn.execute(text(f"DROP TRIGGER {trigger}"))
            for statement in statements:
                conn.exec_driver_sql(statement)
    finally:
        engine.dispose()


@pytest.mark.parametrize(("statements", "seq", "words"), [
    ((), None, "intact: 6 entries, head seq 6"),
    (("UPDATE audit_log SET payload = '{\"i\":9}' WHERE seq = 2",), 2, "was changed"),
    (("DELETE FROM audit_log WHERE seq = 3",), 4, "does not link"),
    (("DELETE FROM audit_log WHERE seq >= 5",), 5, "entries 5..6 were removed"),
    (("DELETE FROM audit_log WHERE seq >= 5",
      "UPDATE audit_head SET seq = 4, hash = (SELECT hash FROM audit_log WHERE seq = 4)"),
     5, "head"),
], ids=["intact", "edited", "deleted", "tail-deleted", "tail-and-head"])
def test_audit_verify_reports_the_first_broken_link(
        db_url: str, tmp_path: Path, statements: tuple[str, ...], seq: int | None,
        words: str) -> None:
    _chain(db_url, 6)
    if statements:
        _tamper(db_url, *statements)
    result = callwise("audit", "verify", "--database", db_url, home=tmp_path)
    if seq is None:
        assert result.returncode == 0, result.stderr
        assert words in result.stdout
    elif words == "head":
        # The head was rewound too, in the same database: the chain is whole again from the
        # database's own point of view. Only a copy of the head kept elsewhere shows it, which
        # is why desktops replay into the central database and IT exports its head.
        assert result.returncode == 0 and "head seq 4" in result.stdout
    else:
        assert result.returncode == 1, result.stdout + result.stderr
        assert f"BROKEN at seq {seq}" in result.stdout and words in result.stdout


def test_audit_verify_cannot_check_what_is_not_there(tmp_path: Path) -> None:
    missing = tmp_path / "none.sqlite3"
    result = callwise("audit", "verify", "--database", f"sqlite:///{missing}", home=tmp_path)
    assert result.returncode == 2 and "no records database" in result.stderr
    assert not missing.exists()
