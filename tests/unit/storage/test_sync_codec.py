"""The outbox's JSON brings back exactly the domain objects a write was given."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest

from app.domain.agent import Agent
from app.domain.call import CallRecord, CallState
from app.domain.customer import Consent, Customer, PhoneNumber
from app.domain.enums import AgentState, CallOrigin, CallOutcome, CallReason, Team
from app.domain.memo import Memo, PaymentTopic
from app.ports.store import Callback, CallbackStatus, Notification, Shift
from app.storage.sync import WRITE_OPS
from app.storage.sync_codec import dumps, loads

T0 = datetime(2025, 3, 3, 15, 0, tzinfo=UTC)

SAMPLES: list[object] = [
    CallRecord("r1", "c1", "ann", "+13125550142", "13125550142", CallOrigin.TICKET,
               CallReason.TICKET_UPDATE, T0, "2025.1", "sha256:x", {"OB-WINDOW": "pass"},
               CallState.CLOSED, CallOutcome.REMOTE_HANGUP, 200, "BYE", T0, T0, T0, T0, T0,
               Memo("why", "TKT-1", "said", "ok", PaymentTopic.CUSTOMER_RAISED, False, "busy",
                    "note", "found"), "TKT-1"),
    Customer("c1", "José", "O'Neil", "ACC-1", (PhoneNumber("+13125550142"),
                                             PhoneNumber("+13125550143", "mobile")),
             service_zone="America/Chicago",
             consent=Consent(time(20, 0), time(21, 30), "ann", T0, "evenings"),
             last_bill_amount="$12.00", device="Pixel", last_care_call=date(2025, 2, 1),
             extra={"k": "v"}),
    Agent("ann", "Ann", Team.SERVICE_ASSURANCE, AgentState.TALKING, True),
    Notification("n1", "c1", "ann", "email", "sa_email", "a@b.c", "body", T0, False, "550"),
    Callback("cb", "c1", "ann", T0 + timedelta(hours=1), "promised", T0,
             CallbackStatus.DONE, "leaders", "r1", T0),
    Shift("s1", "ann", T0, T0 + timedelta(hours=8)),
    Consent(time(8, 0), time(9, 0), "ann", T0),
]


@pytest.mark.parametrize("value", SAMPLES, ids=lambda v: type(v).__name__)
def test_every_written_type_round_trips(value: object) -> None:
    back = loads(dumps({"value": value, "at": T0, "tags": ("a", "b"), "n": None}))
    assert back == {"value": value, "at": T0, "tags": ("a", "b"), "n": None}
    assert type(back["value"]) is type(value)


def test_times_keep_their_zone_and_enums_their_type() -> None:
    back = loads(dumps({"at": T0, "state": AgentState.READY}))
    assert back["at"].utcoffset() == timedelta(0)
    assert back["state"] is AgentState.READY


def test_values_the_outbox_cannot_rebuild_are_refused_before_anything_is_written() -> None:
    class Other:
        pass

    with pytest.raises(TypeError):
        dumps({"x": Other()})
    with pytest.raises(TypeError):
        dumps({"x": {1: "non-string key"}})
    with pytest.raises(KeyError):
        loads('{"$dict":{"x":{"$dc":"os.system","f":{}}}}')


def test_only_repository_writes_are_replayable() -> None:
    assert all(op.count(".") == 1 for op in WRITE_OPS)
    assert not any(op.split(".")[1] in {"get", "search", "verify", "check"} for op in WRITE_OPS)
