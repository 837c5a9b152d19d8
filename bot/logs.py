"""Logging that never writes a bot or Graph API token (Telegram file URLs hold one) or a full phone number."""

from __future__ import annotations

import logging
import re

_TOKEN = re.compile(r"\d{6,}:[A-Za-z0-9_-]{30,}")
_GRAPH_TOKEN = re.compile(r"\bEAA[A-Za-z0-9]{20,}")
"""Meta access tokens (WhatsApp Cloud API) start with EAA."""
_PHONE = re.compile(r"(?<![\w.])\+?\d[\d ]{6,}(\d{2})(?![\w.])")
_SQL_PARAMETERS = re.compile(r"\[parameters: .*?\](?=\n|$)", re.DOTALL)
"""SQLAlchemy's echo of a failed statement's values (names, phone numbers, answers)."""
_KEY_DETAIL = re.compile(r"(Key \([^)]*\)=\().*?(\) )")
"""PostgreSQL's `DETAIL: Key (column)=(value) already exists.`"""


def redact(text: str, secrets: tuple[str, ...] = ()) -> str:
    """Mask secrets, bot tokens and phone numbers (the last two digits stay, for support)."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "********")
    text = _GRAPH_TOKEN.sub("********", _TOKEN.sub("********", text))
    text = _KEY_DETAIL.sub(r"\1…\2", _SQL_PARAMETERS.sub("[parameters hidden]", text))
    return _PHONE.sub(lambda m: "…" + m.group(1), text)


class RedactingFormatter(logging.Formatter):
    """Applies `redact` to the whole formatted record: message, traceback and stack."""

    def __init__(self, fmt: str, secrets: tuple[str, ...] = ()) -> None:
        super().__init__(fmt)
        self.secrets = secrets

    def format(self, record: logging.LogRecord) -> str:
        """The standard line, with its exception text, redacted."""
        return redact(super().format(record), self.secrets)


def setup_logging(level: str, secrets: tuple[str, ...] = ()) -> None:
    """Log to stderr through the redacting formatter; quiet the HTTP libraries that print URLs.

    Uvicorn (started with `log_config=None`) and the scheduler log through the root logger, so their
    messages and tracebacks are redacted too.
    """
    handler = logging.StreamHandler()
    handler.setFormatter(RedactingFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s", secrets))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    for server in ("uvicorn", "uvicorn.error", "uvicorn.access"):  # through our handler, whoever set them up
        logging.getLogger(server).handlers[:] = []
        logging.getLogger(server).propagate = True
    root.setLevel(level.upper())
    for noisy in ("httpx", "httpcore", "telegram.ext.ExtBot", "alembic"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
