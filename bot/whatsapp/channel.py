"""Wiring the WhatsApp channel into the app, and checking an operator's settings against the Graph API."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import httpx
from sqlalchemy.orm import Session, sessionmaker

from bot.app import App
from bot.settings import Settings
from bot.whatsapp import CHANNEL
from bot.whatsapp.errors import GraphError
from bot.whatsapp.graph import GraphClient
from bot.whatsapp.media import WhatsAppFetcher
from bot.whatsapp.sender import TEMPLATE_KINDS, WhatsAppSender
from bot.whatsapp.store import Store
from bot.whatsapp.webhook import Webhook
from bot.whatsapp.worker import Worker
from lessons.i18n import Catalog

REQUIRED = ("whatsapp_token", "whatsapp_phone_number_id", "whatsapp_app_secret", "whatsapp_verify_token")


def missing(settings: Settings) -> list[str]:
    """The WhatsApp settings not set, as environment variable names."""
    return [f"MAALEM_{name.upper()}" for name in REQUIRED if not getattr(settings, name)]


@dataclass(frozen=True)
class _Secrets:
    token: str
    phone_number_id: str
    app_secret: str
    verify_token: str


def _secrets(settings: Settings) -> _Secrets:
    token, number = settings.whatsapp_token, settings.whatsapp_phone_number_id
    secret, verify = settings.whatsapp_app_secret, settings.whatsapp_verify_token
    if not (token and number and secret and verify):
        raise ValueError(f"WhatsApp is not configured: set {', '.join(missing(settings))}")
    return _Secrets(token.get_secret_value(), number, secret.get_secret_value(), verify.get_secret_value())


class WhatsApp:
    """The channel's edges for `build_app`: Graph client and fetcher now, store and sender on `connect`.

    Once the app is built with it, `webhook(app)` is the webhook to mount.
    """

    name = CHANNEL

    def __init__(self, settings: Settings, *, backoff: float = 1.0) -> None:
        self.settings = settings
        self.secrets = _secrets(settings)
        self.worker = Worker()
        self.client = GraphClient(
            settings.whatsapp_api_url,
            self.secrets.token,
            self.secrets.phone_number_id,
            send_rate=settings.whatsapp_send_rate,
            backoff=backoff,
            worker=self.worker,
        )
        self.fetcher = WhatsAppFetcher(self.client, settings.max_audio_bytes)
        self.store: Store | None = None

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        """The worker's event loop: the outbox sends WhatsApp's replies there, whoever asks."""
        return self.worker.loop

    def connect(self, sessions: sessionmaker[Session], catalog: Catalog) -> WhatsAppSender:
        """The sender on the app's database and catalogue (called by `build_app`)."""
        self.store = Store(sessions)
        return WhatsAppSender(self.client, self.store, catalog, self.settings.whatsapp_templates)

    def webhook(self, app: App) -> Webhook:
        """The webhook that feeds the app's service (an app built with this channel)."""
        if self.store is None:
            raise ValueError("build the app with the WhatsApp channel first (build_app(channels=[whatsapp]))")
        return Webhook(
            app,
            self.client,
            self.store,
            app_secret=self.secrets.app_secret,
            verify_token=self.secrets.verify_token,
            phone_number_id=self.secrets.phone_number_id,
            worker=self.worker,
        )

    async def aclose(self) -> None:
        """Close the Graph API connections and stop the worker (after the webhook's `drain`)."""
        await self.client.aclose()
        await self.worker.stop()


async def check(settings: Settings) -> tuple[bool, list[str]]:
    """Ask the Graph API about our number with the configured token: (all good, lines for the operator)."""
    if absent := missing(settings):
        return False, [f"not configured: set {', '.join(absent)}"]
    whatsapp = WhatsApp(settings)
    try:
        number = await whatsapp.client.phone_number()
    except GraphError as exc:
        return False, [f"the Graph API refused: {exc} → {exc.action.value}"]
    except httpx.HTTPError as exc:
        return False, [f"cannot reach {settings.whatsapp_api_url}: {type(exc).__name__}"]
    finally:
        await whatsapp.aclose()
    lines = [
        f"number: {number.get('display_phone_number', '?')} ({number.get('verified_name', '?')})",
        f"quality: {number.get('quality_rating', '?')}",
    ]
    for kind in sorted(TEMPLATE_KINDS):
        template = settings.whatsapp_templates.get(kind)
        shown = (
            f"{template.name} ({template.language})" if template else "none: held outside the 24-hour window"
        )
        lines.append(f"template for {kind}: {shown}")
    return True, lines
