"""The `wa` fixture: the app with WhatsApp, a fake Graph API, and a client for the webhook."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.settings import Settings
from tests.e2e.whatsapp import Harness, running


@pytest.fixture
async def wa(settings: Settings) -> AsyncIterator[Harness]:
    """The app with WhatsApp, a fake Graph API, and a client for the webhook."""
    async with running(settings) as harness:
        yield harness
