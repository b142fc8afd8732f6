"""Expected errors: each carries the sentence the agent reads and the action that fixes it.

Unexpected errors are not modelled here; they go to the crash handler.
"""

from __future__ import annotations


class CallwiseError(Exception):
    """An expected problem the user can act on."""

    def __init__(self, message: str, action: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.action = action

    def said(self, between: str = " ") -> str:
        """The sentence, then the action when there is one: how every screen and CLI shows it."""
        return self.message + (between + self.action if self.action else "")


class RecordsNotOpen(CallwiseError):
    """Work that needs the call records, or the policy pack loaded with them, was asked for
    before they are open: the desktop opens both after its window is shown."""

    def __init__(self) -> None:
        super().__init__("The call records are not open yet.",
                         action="Wait for them to open; the window says why if they could not.")


class RecordIncomplete(CallwiseError):
    """A call record may not close yet; `missing` names what is still owed (rule ids or fields)."""

    def __init__(self, message: str, missing: list[str], action: str | None = None) -> None:
        super().__init__(message, action)
        self.missing = missing


class InvalidTransition(CallwiseError):
    """A call session was asked to move to a state it cannot reach from where it is."""


class DialBlocked(CallwiseError):
    """The policy re-evaluated at the point of action and refused the dial."""

    def __init__(self, message: str, blocked_by: list[str], action: str | None = None) -> None:
        super().__init__(message, action)
        self.blocked_by = blocked_by
