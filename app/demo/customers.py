"""Demo customers across time zones, and the demo agent. Pure data; `seed_demo` is the only I/O.

The LAST DIGIT of a number picks what the demo line (`app.demo.line`) does when it is dialled:

    1 answers   2 busy   3 no answer   4 voicemail   5 declines   6 drops   7 not found
    0, 8, 9 answer

so the customers below cover every outcome:

    customer             number             zone(s) from the number          demo line
    Ana García           +1 312 555 0141    America/Chicago                   answers (1)
    Marcus Johnson       +1 212 555 0122    America/New_York                  busy (2)
    Priya Patel          +1 602 555 0183    America/Phoenix (no DST)          no answer (3)
    Keoni Kahananui      +1 808 555 0154    Pacific/Honolulu                  voicemail (4)
    Emily Carter         +1 208 555 0135    America/Boise + Los_Angeles       declines (5)
    Oliver Bennett       +44 20 7946 0956   Europe/London (international)     drops (6)
    Northwind Freight    +1 800 555 0197    toll-free: every NANP zone        not found (7)
    Daniel Kim           +1 312 555 0168    Chicago, but lives in Los Angeles answers (8)
    Sofia Rossi          +1 212 555 0190    New York, consent 20:00-21:30     answers (0)
    Liam O'Connor        +1 773 555 0119    America/Chicago                   answers (9)
                         +1 312 555 0133    (mobile)                          no answer (3)
    Mateo Hernández      +1 303 555 0144    America/Denver                    voicemail (4)
    Hannah Schmidt       +1 907 555 0112    America/Anchorage + Adak          busy (2)
    Aisha Bello          +1 404 555 0126    America/New_York                  drops (6)
    Grace Lee            +1 415 555 0101    America/Los_Angeles               answers (1)

Numbers are in the ranges reserved for fiction (555-01xx in North America, 020 7946 0xxx in
London), so the demo can never ring a real person.

`demo_history()` gives them a past, so the dial gate has something to say: every customer but
Northwind Freight had a conversation with care on their `last_care_call` date (so OB-SPOKE passes
for a follow-up, and fails for Northwind); since then Marcus Johnson was tried twice without an
answer (OB-ATTEMPTS blocks a Care agent) and Priya Patel once (one attempt left).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from app.domain.agent import Agent
from app.domain.call import CallRecord
from app.domain.customer import Consent, Customer, PhoneNumber
from app.domain.enums import AgentState, CallOrigin, CallOutcome, CallReason, Team
from app.domain.memo import Memo, PaymentTopic
from app.ports.store import Store

DEMO_AGENT_ID = "demo-agent"
_CONSENT_RECORDED = datetime(2025, 3, 14, 17, 5, tzinfo=UTC)


def demo_agent() -> Agent:
    return Agent(id=DEMO_AGENT_ID, name="Dana Whitfield", team=Team.CARE,
                 state=AgentState.NOT_READY_OTHER, international_calling=False)


def _one(number: str) -> tuple[PhoneNumber, ...]:
    return (PhoneNumber(number, "primary"),)


def demo_customers() -> list[Customer]:
    return [
        Customer("demo-ana-garcia", "Ana", "García", "8800 1021 4471", _one("+13125550141"),
                 line_of_business="postpaid", service_zone="America/Chicago",
                 last_bill_amount="$84.12", device="Pixel 8", last_care_call=date(2025, 2, 3)),
        Customer("demo-marcus-johnson", "Marcus", "Johnson", "8800 1021 5530",
                 _one("+12125550122"), line_of_business="postpaid",
                 service_zone="America/New_York", last_bill_amount="$112.40",
                 device="iPhone 15", last_care_call=date(2025, 1, 22)),
        Customer("demo-priya-patel", "Priya", "Patel", "8800 1022 0917", _one("+16025550183"),
                 line_of_business="prepaid", last_bill_amount="$45.00",
                 device="Galaxy A54", last_care_call=date(2024, 12, 9)),
        Customer("demo-keoni-kahananui", "Keoni", "Kahananui", "8800 1022 3364",
                 _one("+18085550154"), line_of_business="postpaid",
                 service_zone="Pacific/Honolulu", last_bill_amount="$97.65",
                 device="iPhone 13", last_care_call=date(2025, 2, 18)),
        # Idaho's 208 spans Mountain and Pacific time: with no service address on file the
        # calling window must hold in both zones.
        Customer("demo-emily-carter", "Emily", "Carter", "8800 1023 7702", _one("+12085550135"),
                 line_of_business="postpaid", last_bill_amount="$68.30",
                 device="Pixel 7a", last_care_call=date(2025, 1, 30)),
        Customer("demo-oliver-bennett", "Oliver", "Bennett", "8800 1024 1188",
                 _one("+442079460956"), line_of_business="global",
                 service_zone="Europe/London", last_bill_amount="£52.10",
                 device="iPhone 14", last_care_call=date(2025, 2, 11)),
        # A business reached on a toll-free number: the number says nothing about where it is.
        Customer("demo-northwind-freight", "Northwind", "Freight", "8800 1025 0042",
                 _one("+18005550197"), line_of_business="business",
                 last_bill_amount="$1,284.00", device="Desk phones (12 lines)",
                 last_care_call=date(2025, 2, 25)),
        # Ported: kept his Chicago number after moving to Los Angeles; the service address wins.
        Customer("demo-daniel-kim", "Daniel", "Kim", "8800 1025 6619", _one("+13125550168"),
                 line_of_business="postpaid", service_zone="America/Los_Angeles",
                 last_bill_amount="$76.55", device="Galaxy S24", last_care_call=date(2025, 2, 6),
                 extra={"note": "Number ported from Chicago; service address in Los Angeles."}),
        # Works late: agreed to be called 8:00-9:30 p.m. her time, past the usual 8 p.m. close.
        Customer("demo-sofia-rossi", "Sofia", "Rossi", "8800 1026 2285", _one("+12125550190"),
                 line_of_business="postpaid", service_zone="America/New_York",
                 consent=Consent(start=time(20, 0), end=time(21, 30),
                                 recorded_by=DEMO_AGENT_ID, recorded_at=_CONSENT_RECORDED,
                                 note="Asked for evening calls; works until 7:30 p.m."),
                 last_bill_amount="$59.99", device="iPhone 12", last_care_call=date(2025, 3, 14)),
        Customer("demo-liam-oconnor", "Liam", "O'Connor", "8800 1027 3356",
                 (PhoneNumber("+17735550119", "home"), PhoneNumber("+13125550133", "mobile")),
                 line_of_business="postpaid", service_zone="America/Chicago",
                 last_bill_amount="$131.02", device="Moto G Power",
                 last_care_call=date(2025, 1, 17)),
        Customer("demo-mateo-hernandez", "Mateo", "Hernández", "8800 1027 9904",
                 _one("+13035550144"), line_of_business="prepaid",
                 service_zone="America/Denver", last_bill_amount="$40.00",
                 device="Galaxy A15", last_care_call=date(2025, 2, 27)),
        Customer("demo-hannah-schmidt", "Hannah", "Schmidt", "8800 1028 4417",
                 _one("+19075550112"), line_of_business="postpaid",
                 last_bill_amount="$88.70", device="iPhone SE", last_care_call=date(2024, 11, 29)),
        Customer("demo-aisha-bello", "Aisha", "Bello", "8800 1029 0063", _one("+14045550126"),
                 line_of_business="postpaid", service_zone="America/New_York",
                 last_bill_amount="$73.25", device="Pixel 8 Pro", last_care_call=date(2025, 3, 2)),
        Customer("demo-grace-lee", "Grace", "Lee", "8800 1029 5521", _one("+14155550101"),
                 line_of_business="postpaid", service_zone="America/Los_Angeles",
                 last_bill_amount="$102.18", device="iPhone 15 Pro",
                 last_care_call=date(2025, 3, 9)),
    ]


def _conversation(customer: Customer, n: int) -> CallRecord:
    assert customer.last_care_call is not None
    day = customer.last_care_call
    at = datetime(day.year, day.month, day.day, 16, 0, tzinfo=UTC)
    record = CallRecord(f"demo-call-{n:02d}", customer.id, DEMO_AGENT_ID, customer.primary_number,
                        customer.primary_number.lstrip("+"), CallOrigin.FOLLOW_UP,
                        CallReason.TROUBLESHOOTING, at, pack_version="demo-history")
    record.connected(at + timedelta(seconds=8))
    record.confirm_recording_notice(at + timedelta(seconds=15))
    record.verify_customer(at + timedelta(seconds=40))
    record.ended(at + timedelta(minutes=9), CallOutcome.REMOTE_HANGUP, 200, "BYE")
    record.memo = Memo(reason="Follow-up on a service issue",
                       summary=f"Checked {customer.device or 'the device'} settings together; "
                               "service working at the end of the call.",
                       customer_response="Confirmed it works; will call back if it recurs.",
                       payment_topic=PaymentTopic.NOT_DISCUSSED)
    record.close(at + timedelta(minutes=11))
    return record


def _unanswered(customer: Customer, n: int, at: datetime, outcome: CallOutcome,
                code: int, why_no_voicemail: str) -> CallRecord:
    record = CallRecord(f"demo-call-{n:02d}", customer.id, DEMO_AGENT_ID, customer.primary_number,
                        customer.primary_number.lstrip("+"), CallOrigin.FOLLOW_UP,
                        CallReason.TROUBLESHOOTING, at, pack_version="demo-history")
    record.ringing()
    record.ended(at + timedelta(seconds=30), outcome, code)
    record.memo = Memo(reason="Follow-up on a service issue", voicemail_left=False,
                       no_voicemail_reason=why_no_voicemail,
                       account_note=f"Attempted follow-up; {outcome.label.lower()}.")
    record.close(at + timedelta(minutes=2))
    return record


def demo_history() -> list[CallRecord]:
    """Closed call records, oldest first, made through the domain (so every memo is complete)."""
    by_id = {c.id: c for c in demo_customers()}
    records = [_conversation(c, n) for n, c in enumerate(by_id.values(), start=1)
               if c.id != "demo-northwind-freight"]
    marcus, priya = by_id["demo-marcus-johnson"], by_id["demo-priya-patel"]
    busy = "The line was busy; no voicemail to leave a message on."
    records += [
        _unanswered(marcus, 40, datetime(2025, 3, 5, 15, 0, tzinfo=UTC), CallOutcome.BUSY, 486,
                    busy),
        _unanswered(marcus, 41, datetime(2025, 3, 6, 18, 30, tzinfo=UTC), CallOutcome.BUSY, 486,
                    busy),
        _unanswered(priya, 42, datetime(2025, 3, 5, 20, 0, tzinfo=UTC), CallOutcome.NO_ANSWER,
                    480, "It rang out; no voicemail box answered."),
    ]
    return sorted(records, key=lambda r: r.dialed_at)


def seed_demo(store: Store) -> bool:
    """Adds the demo agent, customers and their history to an empty store; True when it did.

    Idempotent: a store that already has customers (demo or real) gets no customers; the demo
    agent is added whenever it is missing.
    """
    agent = demo_agent()
    with store.unit_of_work() as uow:
        added = False
        if uow.agents.get(agent.id) is None:
            uow.agents.add(agent)
        if uow.customers.count() == 0:
            uow.customers.add_many(demo_customers())
            for record in demo_history():
                uow.calls.add(record)
            added = True
        uow.commit()
    return added
