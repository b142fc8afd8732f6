"""The dial gate's other rules, one table each, as the acceptance README defines them."""

from __future__ import annotations

import pytest

from app.domain.enums import AgentState, CallOrigin, CallReason, NotificationTemplate, Team
from app.policy.engine import Action, Outcome, Verdict, evaluate
from app.policy.pack import PolicyPack, Stage
from tests.unit.policy.builders import facts, utc

TEN_AM_CHICAGO = utc("2026-11-20T16:00:00Z")
CC = NotificationTemplate.CUSTOMER_CALLBACK
DC = NotificationTemplate.DROPPED_CALL


def verdict(pack: PolicyPack, **changes: object) -> Verdict:
    return evaluate(pack, facts(**changes), TEN_AM_CHICAGO)


def test_happy_path_passes_every_rule_and_lists_them_all(pack: PolicyPack) -> None:
    v = verdict(pack)
    assert v.allowed
    assert v.blocked_by == ()
    assert [r.id for r in v.rules] == [
        "NUMBER", "OB-WINDOW", "OB-ATTEMPTS", "OB-SPOKE", "OB-NOCALLBACK", "OB-NOTIFY",
        "OB-STATE", "OB-INTL", "SA-EMAILFIRST"]
    assert [r.id for r in v.rules] == [r.id for r in pack.stage(Stage.DIAL)]
    assert v.dial_string == "13125550142"
    assert v.pack_version == pack.version
    assert v.pack_checksum == pack.checksum
    for rule in v.rules:
        assert rule.reason and rule.reason[0].isupper()
        assert rule.source == pack.rule(rule.id).source_text
        assert rule.title == pack.rule(rule.id).title


# -- OB-ATTEMPTS ------------------------------------------------------------------------------

@pytest.mark.parametrize(("team", "attempts", "expected"), [
    (Team.CARE, 0, Outcome.PASS),
    (Team.CARE, 1, Outcome.PASS),
    (Team.CARE, 2, Outcome.BLOCK),
    (Team.CARE, 5, Outcome.BLOCK),
    (Team.GLOBAL_CARE, 0, Outcome.PASS),
    (Team.GLOBAL_CARE, 1, Outcome.BLOCK),
    (Team.SERVICE_ASSURANCE, 1, Outcome.PASS),
    (Team.SERVICE_ASSURANCE, 2, Outcome.BLOCK),
    (Team.LEADER, 1, Outcome.PASS),
    (Team.LEADER, 2, Outcome.BLOCK),
])
def test_attempt_caps_per_team(pack: PolicyPack, team: Team, attempts: int,
                               expected: Outcome) -> None:
    rule = verdict(pack, team=team, unanswered_attempts=attempts).rule("OB-ATTEMPTS")
    assert rule.outcome is expected
    assert rule.action is None  # nothing the agent clicks makes a third attempt fine


def test_attempt_reason_counts_and_names_the_team(pack: PolicyPack) -> None:
    rule = verdict(pack, team=Team.GLOBAL_CARE, unanswered_attempts=1).rule("OB-ATTEMPTS")
    assert rule.reason == ("1 call went unanswered since the company last spoke with this "
                           "customer; Global Care may not call more than once without speaking "
                           "to the customer")


def test_alternate_number_is_not_an_attempt(pack: PolicyPack) -> None:
    rule = verdict(pack, origin=CallOrigin.ALTERNATE_NUMBER, state=AgentState.AFTER_CALL_WORK,
                   unanswered_attempts=7).rule("OB-ATTEMPTS")
    assert rule.outcome is Outcome.NOT_APPLICABLE


@pytest.mark.parametrize(("team", "attempts", "expected"), [
    (Team.CARE, 0, Outcome.PASS),
    (Team.CARE, 1, Outcome.BLOCK),  # would pass with a complete history
    (Team.GLOBAL_CARE, 0, Outcome.PASS),
    (Team.GLOBAL_CARE, 1, Outcome.BLOCK),
])
def test_incomplete_history_applies_the_stricter_reading(pack: PolicyPack, team: Team,
                                                         attempts: int,
                                                         expected: Outcome) -> None:
    rule = verdict(pack, team=team, unanswered_attempts=attempts,
                   history_complete=False).rule("OB-ATTEMPTS")
    assert rule.outcome is expected
    assert "may be missing" in rule.reason


# -- OB-SPOKE / SA-ORIGIN ---------------------------------------------------------------------

@pytest.mark.parametrize(("team", "origin", "spoke", "expected"), [
    (Team.CARE, CallOrigin.FOLLOW_UP, True, Outcome.PASS),
    (Team.CARE, CallOrigin.FOLLOW_UP, False, Outcome.BLOCK),
    (Team.CARE, CallOrigin.TICKET, False, Outcome.BLOCK),
    (Team.CARE, CallOrigin.EMAIL_REQUEST, False, Outcome.BLOCK),
    (Team.GLOBAL_CARE, CallOrigin.DROPPED_CALL, False, Outcome.BLOCK),
    (Team.LEADER, CallOrigin.TICKET, False, Outcome.BLOCK),
    (Team.LEADER, CallOrigin.TICKET, True, Outcome.PASS),
    (Team.SERVICE_ASSURANCE, CallOrigin.TICKET, False, Outcome.NOT_APPLICABLE),
    (Team.SERVICE_ASSURANCE, CallOrigin.EMAIL_REQUEST, False, Outcome.NOT_APPLICABLE),
    (Team.SERVICE_ASSURANCE, CallOrigin.FOLLOW_UP, False, Outcome.BLOCK),
    (Team.SERVICE_ASSURANCE, CallOrigin.DROPPED_CALL, False, Outcome.BLOCK),
    (Team.CARE, CallOrigin.ALTERNATE_NUMBER, False, Outcome.NOT_APPLICABLE),
])
def test_spoke_before_and_service_assurance_exceptions(pack: PolicyPack, team: Team,
                                                       origin: CallOrigin, spoke: bool,
                                                       expected: Outcome) -> None:
    assert verdict(pack, team=team, origin=origin, spoke_before=spoke).rule(
        "OB-SPOKE").outcome is expected


def test_leader_ticket_reason_says_leaders(pack: PolicyPack) -> None:
    rule = verdict(pack, team=Team.LEADER, origin=CallOrigin.TICKET,
                   spoke_before=False).rule("OB-SPOKE")
    assert rule.reason.startswith("Leaders do not make a ticket follow-up call")


def test_sa_exception_reason_cites_sa_origin(pack: PolicyPack) -> None:
    rule = verdict(pack, team=Team.SERVICE_ASSURANCE, origin=CallOrigin.TICKET,
                   spoke_before=False).rule("OB-SPOKE")
    assert "SA-ORIGIN" in rule.reason


# -- OB-NOCALLBACK ----------------------------------------------------------------------------

@pytest.mark.parametrize(("reason", "directed", "expected", "action"), [
    (CallReason.TROUBLESHOOTING, False, Outcome.PASS, None),
    (CallReason.TICKET_UPDATE, False, Outcome.PASS, None),
    (CallReason.OTHER, False, Outcome.PASS, None),
    (CallReason.CUSTOMER_DISCONNECTED, False, Outcome.BLOCK, None),
    (CallReason.CUSTOMER_DISCONNECTED, True, Outcome.BLOCK, None),  # policy cannot lift it
    (CallReason.TIME_RESTRICTION, False, Outcome.BLOCK, None),
    (CallReason.TIME_RESTRICTION, True, Outcome.BLOCK, None),
    (CallReason.ACTIVATION, False, Outcome.BLOCK, Action.RECORD_POLICY_DIRECTION),
    (CallReason.ACTIVATION, True, Outcome.PASS, None),
    (CallReason.SALES, False, Outcome.BLOCK, Action.RECORD_POLICY_DIRECTION),
    (CallReason.SALES, True, Outcome.PASS, None),
])
def test_reason_exclusions_and_policy_direction(pack: PolicyPack, reason: CallReason,
                                                directed: bool, expected: Outcome,
                                                action: Action | None) -> None:
    rule = verdict(pack, reason=reason, directed_by_policy=directed).rule("OB-NOCALLBACK")
    assert rule.outcome is expected
    assert rule.action is action


# -- OB-NOTIFY --------------------------------------------------------------------------------

@pytest.mark.parametrize(("origin", "sent", "expected", "action"), [
    (CallOrigin.FOLLOW_UP, CC, Outcome.PASS, None),
    (CallOrigin.FOLLOW_UP, None, Outcome.BLOCK, Action.SEND_CUSTOMER_CALLBACK),
    (CallOrigin.FOLLOW_UP, DC, Outcome.BLOCK, Action.SEND_CUSTOMER_CALLBACK),
    (CallOrigin.TICKET, CC, Outcome.PASS, None),
    (CallOrigin.TICKET, None, Outcome.BLOCK, Action.SEND_CUSTOMER_CALLBACK),
    (CallOrigin.DROPPED_CALL, DC, Outcome.PASS, None),
    (CallOrigin.DROPPED_CALL, None, Outcome.BLOCK, Action.SEND_DROPPED_CALL),
    (CallOrigin.DROPPED_CALL, CC, Outcome.BLOCK, Action.SEND_DROPPED_CALL),
    (CallOrigin.EMAIL_REQUEST, None, Outcome.NOT_APPLICABLE, None),
    (CallOrigin.ALTERNATE_NUMBER, None, Outcome.NOT_APPLICABLE, None),
])
def test_notification_template_per_origin(pack: PolicyPack, origin: CallOrigin,
                                          sent: NotificationTemplate | None, expected: Outcome,
                                          action: Action | None) -> None:
    rule = verdict(pack, origin=origin, notification_sent=sent).rule("OB-NOTIFY")
    assert rule.outcome is expected
    assert rule.action is action


def test_wrong_template_reason_names_both_templates(pack: PolicyPack) -> None:
    rule = verdict(pack, origin=CallOrigin.DROPPED_CALL, notification_sent=CC).rule("OB-NOTIFY")
    assert "“Customer Callback”" in rule.reason and "“Dropped Call”" in rule.reason
    assert rule.action is not None and rule.action.label == "Send the “Dropped Call” message"


# -- OB-STATE ---------------------------------------------------------------------------------

@pytest.mark.parametrize(("origin", "state", "expected", "action"), [
    (CallOrigin.FOLLOW_UP, AgentState.NOT_READY_FOLLOW_UP, Outcome.PASS, None),
    (CallOrigin.FOLLOW_UP, AgentState.READY, Outcome.BLOCK, Action.SWITCH_TO_FOLLOW_UP),
    (CallOrigin.FOLLOW_UP, AgentState.NOT_READY_OTHER, Outcome.BLOCK, Action.SWITCH_TO_FOLLOW_UP),
    (CallOrigin.TICKET, AgentState.TALKING, Outcome.BLOCK, Action.SWITCH_TO_FOLLOW_UP),
    (CallOrigin.DROPPED_CALL, AgentState.AFTER_CALL_WORK, Outcome.BLOCK,
     Action.SWITCH_TO_FOLLOW_UP),
    (CallOrigin.ALTERNATE_NUMBER, AgentState.AFTER_CALL_WORK, Outcome.PASS, None),
    (CallOrigin.ALTERNATE_NUMBER, AgentState.TALKING, Outcome.PASS, None),  # consult
    (CallOrigin.ALTERNATE_NUMBER, AgentState.READY, Outcome.BLOCK,
     Action.SWITCH_TO_AFTER_CALL_WORK),
    (CallOrigin.ALTERNATE_NUMBER, AgentState.NOT_READY_FOLLOW_UP, Outcome.BLOCK,
     Action.SWITCH_TO_AFTER_CALL_WORK),
])
def test_agent_state_per_origin(pack: PolicyPack, origin: CallOrigin, state: AgentState,
                                expected: Outcome, action: Action | None) -> None:
    rule = verdict(pack, origin=origin, state=state).rule("OB-STATE")
    assert rule.outcome is expected
    assert rule.action is action


def test_state_reason_uses_the_state_names_agents_see(pack: PolicyPack) -> None:
    rule = verdict(pack, state=AgentState.READY).rule("OB-STATE")
    assert rule.reason == "You are in Ready; a follow-up call is placed from Not Ready – Follow-Up"


# -- OB-INTL and the dial string --------------------------------------------------------------

@pytest.mark.parametrize(("number", "permission", "expected", "dial"), [
    ("+44 20 7946 0958", False, Outcome.BLOCK, "011442079460958"),
    ("+44 20 7946 0958", True, Outcome.PASS, "011442079460958"),
    ("011 44 20 7946 0958", True, Outcome.PASS, "011442079460958"),  # typed with 011
    ("+33 1 42 68 53 00", True, Outcome.PASS, "01133142685300"),
    ("+52 55 1234 5678", False, Outcome.BLOCK, "011525512345678"),
    ("+61 2 9374 4000", True, Outcome.PASS, "01161293744000"),
    ("+1 416 555 0100", False, Outcome.PASS, "14165550100"),  # Canada: NANP, domestic
    ("+1 787 555 0100", False, Outcome.PASS, "17875550100"),  # Puerto Rico
    ("(312) 555-0142", False, Outcome.PASS, "13125550142"),
    ("12345", False, Outcome.NOT_APPLICABLE, None),
])
def test_international_permission_and_dial_string(pack: PolicyPack, number: str,
                                                  permission: bool, expected: Outcome,
                                                  dial: str | None) -> None:
    v = verdict(pack, number=number, international_calling=permission)
    assert v.rule("OB-INTL").outcome is expected
    assert v.dial_string == dial


def test_international_block_tells_the_agent_whom_to_ask(pack: PolicyPack) -> None:
    rule = verdict(pack, number="+44 20 7946 0958").rule("OB-INTL")
    assert "United Kingdom" in rule.reason and "+44" in rule.reason
    assert "local leadership" in rule.reason
    assert rule.action is None


# -- SA-EMAILFIRST ----------------------------------------------------------------------------

@pytest.mark.parametrize(("team", "origin", "email_sent", "expected"), [
    (Team.SERVICE_ASSURANCE, CallOrigin.EMAIL_REQUEST, False, Outcome.BLOCK),
    (Team.SERVICE_ASSURANCE, CallOrigin.EMAIL_REQUEST, True, Outcome.PASS),
    (Team.CARE, CallOrigin.EMAIL_REQUEST, False, Outcome.BLOCK),
    (Team.SERVICE_ASSURANCE, CallOrigin.TICKET, False, Outcome.NOT_APPLICABLE),
    (Team.CARE, CallOrigin.FOLLOW_UP, False, Outcome.NOT_APPLICABLE),
])
def test_email_first_for_email_requests(pack: PolicyPack, team: Team, origin: CallOrigin,
                                        email_sent: bool, expected: Outcome) -> None:
    rule = verdict(pack, team=team, origin=origin, email_sent=email_sent,
                   notification_sent=None, spoke_before=True).rule("SA-EMAILFIRST")
    assert rule.outcome is expected
    assert rule.action is (Action.SEND_SA_EMAIL if expected is Outcome.BLOCK else None)


def test_sa_ticket_call_to_a_customer_nobody_spoke_with_is_allowed(pack: PolicyPack) -> None:
    v = verdict(pack, team=Team.SERVICE_ASSURANCE, origin=CallOrigin.TICKET, spoke_before=False,
                reason=CallReason.TICKET_UPDATE, notification_sent=CC)
    assert v.allowed, v.blocked_by


# -- NUMBER -----------------------------------------------------------------------------------

@pytest.mark.parametrize("typed", [
    "+1 312 555 0142", "(312) 555-0142", "312.555.0142", "312 555 0142", "3125550142",
    "1-312-555-0142", "1 (312) 555-0142", " +1 (312) 555-0142 ", "+13125550142",
    "312-555-0142 ext. 12", "tel:+1-312-555-0142",
])
def test_numbers_typed_the_way_people_type_them(pack: PolicyPack, typed: str) -> None:
    v = verdict(pack, number=typed)
    assert v.rule("NUMBER").outcome is Outcome.PASS, v.rule("NUMBER").reason
    assert v.dial_string == "13125550142"
    assert v.allowed


def test_extension_is_keyed_in_after_connect_not_dialed(pack: PolicyPack) -> None:
    v = verdict(pack, number="312-555-0142 ext. 12")
    assert "extension 12" in v.rule("NUMBER").reason
    assert v.dial_string == "13125550142"


@pytest.mark.parametrize(("typed", "words"), [
    ("12345", "too short"),
    ("+1 312 555 014", "too short"),
    ("312 555 01423", "too long"),
    ("abc", "does not look like a phone number"),
    ("", "No number was entered"),
    ("+999 123 4567", "does not look like a phone number"),
])
def test_invalid_numbers_block_with_a_reason(pack: PolicyPack, typed: str, words: str) -> None:
    v = verdict(pack, number=typed)
    rule = v.rule("NUMBER")
    assert rule.outcome is Outcome.BLOCK
    assert rule.action is Action.EDIT_NUMBER
    assert words in rule.reason
    assert not v.allowed
    assert v.dial_string is None


def test_verdict_outcomes_map_for_the_call_record(pack: PolicyPack) -> None:
    v = verdict(pack, state=AgentState.READY)
    assert v.outcomes["OB-STATE"] == "block"
    assert v.outcomes["SA-EMAILFIRST"] == "not_applicable"
    assert v.outcomes["NUMBER"] == "pass"
