"""Graph API errors, and what each one asks of us: retry, drop, switch to a template, or call the operator."""

from __future__ import annotations

from enum import Enum
from typing import Any


class Action(Enum):
    """What a failed call asks of us."""

    RETRY = "retry"
    """Temporary (rates, outages): try again after a pause."""
    DROP = "drop"
    """This recipient cannot get this message (blocked, not on WhatsApp, opted out): give up on it."""
    TEMPLATE = "template"
    """Outside the 24-hour window: only an approved template may go."""
    FIX_MESSAGE = "fix_message"
    """Our request is wrong (a parameter, a template): an operator must look; this message is given up."""
    FIX_ACCOUNT = "fix_account"
    """The token, the number or the account needs an operator; messages wait until it is fixed."""


RETRY_CODES = frozenset({1, 2, 4, 17, 32, 613, 80007, 130429, 131000, 131016, 131048, 131056, 133004})
DROP_CODES = frozenset({131021, 131026, 131049, 131050, 130472})
TEMPLATE_CODES = frozenset({470, 131047})
ACCOUNT_CODES = frozenset({0, 3, 10, 33, 190, 368, 130497, 131031, 131037, 131042, 131045, 133010})


def classify(status: int, code: int | None) -> Action:
    """The action for an HTTP status and a Graph error code (the code decides when we know it)."""
    if code is not None:
        if code in RETRY_CODES:
            return Action.RETRY
        if code in DROP_CODES:
            return Action.DROP
        if code in TEMPLATE_CODES:
            return Action.TEMPLATE
        if code in ACCOUNT_CODES or 200 <= code <= 299:
            return Action.FIX_ACCOUNT
        if code == 100 or 131000 <= code <= 132999 or 135000 <= code <= 135999:
            return Action.FIX_MESSAGE
    if status in {0, 429} or status >= 500:
        return Action.RETRY
    if status in {401, 403}:
        return Action.FIX_ACCOUNT
    return Action.FIX_MESSAGE


class GraphError(Exception):
    """A Graph API call failed (status 0: no answer at all); `action` says what to do about it."""

    def __init__(
        self, status: int, code: int | None, title: str, details: str = "", retry_after: float | None = None
    ) -> None:
        super().__init__(f"HTTP {status}, code {code}: {title}" + (f" ({details})" if details else ""))
        self.status = status
        self.code = code
        self.title = title
        self.details = details
        self.retry_after = retry_after
        self.action = classify(status, code)

    @classmethod
    def from_response(
        cls, status: int, body: Any, retry_after: str | None = None, *, secret: str = ""
    ) -> GraphError:
        """Read Graph's `{"error": {"code", "message", "error_data": {"details"}}}`, tolerating the rest."""
        error = body.get("error") if isinstance(body, dict) else None
        error = error if isinstance(error, dict) else {}
        code = error.get("code")
        data = error.get("error_data")
        details = data.get("details", "") if isinstance(data, dict) else ""
        try:
            pause = float(retry_after) if retry_after else None
        except ValueError:
            pause = None
        title, details = str(error.get("message") or f"HTTP {status}"), str(details)
        if secret:  # Graph quotes a malformed token back
            title, details = title.replace(secret, "********"), details.replace(secret, "********")
        return cls(status, code if isinstance(code, int) else None, title[:300], details[:300], pause)
