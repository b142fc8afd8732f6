"""Child process for the SIGKILL durability test: writes records and acknowledges each commit.

Prints "ready", then forever: "R <id>" once a call record and its audit entry are committed, and
"D <id> <n>" once that record's memo draft n is committed. Every printed line is a promise that
the write is on disk; the test kills this process at random and checks every promise was kept.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime, timedelta

from app.domain.call import CallRecord
from app.domain.enums import CallOrigin, CallReason
from app.domain.memo import Memo
from app.storage import open_store

START = datetime(2025, 3, 3, 15, 0, tzinfo=UTC)


def main(url: str, prefix: str) -> None:
    store = open_store(url)
    print("ready", flush=True)
    i = 0
    while True:
        record_id = f"{prefix}-{i}"
        at = START + timedelta(seconds=i)
        record = CallRecord(record_id, "c-1", "a-1", "+13125550142", "13125550142",
                            CallOrigin.FOLLOW_UP, CallReason.TROUBLESHOOTING, at)
        with store.unit_of_work() as uow:
            uow.calls.add(record)
            uow.audit.append("call_attempt", record_id, {"i": i}, at)
            uow.commit()
        print(f"R {record_id}", flush=True)
        with store.unit_of_work() as uow:
            uow.calls.save_draft(record_id, Memo(reason=f"draft {i}", summary="x" * 400), at)
            uow.commit()
        print(f"D {record_id} {i}", flush=True)
        i += 1


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
