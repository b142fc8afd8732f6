"""A realistic Service Assurance email request, for the mail tests of every layer."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, time
from typing import Any

from app.mail.compose import SaEmail

# Monday 3 March 2025, 09:00 in Chicago (CST, UTC-6).
NOW = datetime(2025, 3, 3, 15, 0, tzinfo=UTC)
FROM_ADDRESS = "service-assurance@callwise-demo.example"
PURPOSE = "Continue troubleshooting the dropped calls on your home phone line"
STEP_1 = "I will call you at the time you pick and we will test the line together."
STEP_2 = "If the line needs a technician, I will book the visit during the call."


def sa_email(**changes: Any) -> SaEmail:
    mail = SaEmail(
        first_name="Ana",
        address="ana.garcia@example.com",
        purpose=PURPOSE,
        windows=[(date(2025, 3, 5), time(14, 0), time(16, 0)),
                 (date(2025, 3, 4), time(9, 0), time(11, 30))],
        zone="America/Chicago",
        next_steps=[STEP_1, STEP_2],
        ticket_ref="SA-20250301-0042",
        company_name="Callwise Demo Telecom",
        support_number="1-800-555-0100",
        agent_name="Sam Rivera",
    )
    return replace(mail, **changes)
