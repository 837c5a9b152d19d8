"""Logging that never writes a bot or Graph API token (Telegram file URLs hold one) or a full phone number."""

from __future__ import annotations

import logging
import re

_TOKEN = re.compile(r"\d{6,}:[A-Za-z0-9_-]{30,}")
_GRAPH_TOKEN = re.compile(r"\bEAA[A-Za-z0-9]{20,}")
"""Meta access tokens (WhatsApp Cloud API) start with EAA."""
_PHONE = re.compile(r"(?<![\w.])\+?\d[\d ]{6,}(\d{2})(?![\w.])")


def redact(text: str, secrets: tuple[str, ...] = ()) -> str:
    """Mask secrets, bot tokens and phone numbers (the last two digits stay, for support)."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "********")
    text = _GRAPH_TOKEN.sub("********", _TOKEN.sub("********", text))
    return _PHONE.sub(lambda m: "…" + m.group(1), text)


class RedactingFilter(logging.Filter):
    """Applies `redact` to every record's final message."""

    def __init__(self, secrets: tuple[str, ...] = ()) -> None:
        super().__init__()
        self.secrets = secrets

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite the message in place; never drops a record."""
        message = record.getMessage()
        cleaned = redact(message, self.secrets)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


def setup_logging(level: str, secrets: tuple[str, ...] = ()) -> None:
    """Log to stderr through the redacting filter; quiet the HTTP libraries that print URLs."""
    handler = logging.StreamHandler()
    handler.addFilter(RedactingFilter(secrets))
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for noisy in ("httpx", "httpcore", "telegram.ext.ExtBot", "alembic"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
