"""Long polling with our own getUpdates loop: updates are confirmed to Telegram only once committed."""

from __future__ import annotations

import asyncio
import logging
import warnings
from collections.abc import Sequence
from datetime import timedelta

from telegram import Bot, Update
from telegram.error import InvalidToken, TelegramError
from telegram.warnings import PTBUserWarning

from bot.telegram.adapter import ALLOWED_UPDATES, update_id_of
from bot.telegram.channel import TelegramChannel
from bot.telegram.store import Store
from progress.models import utcnow

log = logging.getLogger(__name__)
TRUSTED_FOR = timedelta(hours=24)
"""An update id this recent still continues Telegram's sequence (ids restart at random only after a week of
silence), and Telegram keeps pending updates for 24 hours: older ids say nothing about what is pending."""
PAUSE_FIRST, PAUSE_MAX = 1.0, 60.0
"""Seconds before asking again after a failure, doubling up to the maximum."""


def next_offset(store: Store) -> int | None:
    """Where polling resumes: one past the latest committed update, or None (all pending) when none is recent.

    The latest by arrival, not the highest id, because ids may restart lower. A button's delivery id names its
    keyboard rather than the update, so the newest message is used; an offset too low only brings back updates
    that are recognised as already received.
    """
    newest = store.newest_message(since=utcnow() - TRUSTED_FOR)
    update_id = update_id_of(newest) if newest else None
    return None if update_id is None else update_id + 1


async def poll(channel: TelegramChannel, *, wait: int = 30, limit: int = 100) -> None:
    """Receive updates until cancelled (polls wait `wait` s); a batch is confirmed once all of it is saved."""
    bot = channel.bot
    await bot.delete_webhook()  # Telegram refuses getUpdates while a webhook is set
    offset = next_offset(channel.store)
    pause = PAUSE_FIRST
    while True:
        try:
            updates, last = await fetch(bot, offset, wait, limit)
            channel.receive_all(updates)
        except InvalidToken:
            raise
        except TelegramError as exc:
            log.warning("getUpdates failed (%s); trying again in %.0f s", type(exc).__name__, pause)
        except Exception:
            log.exception("reading or saving updates failed; they stay pending at Telegram")
        else:
            pause = PAUSE_FIRST
            if last is not None:
                offset = last + 1
            continue
        await asyncio.sleep(pause)
        pause = min(pause * 2, PAUSE_MAX)


async def fetch(bot: Bot, offset: int | None, wait: int, limit: int) -> tuple[Sequence[Update], int | None]:
    """The next batch, and the last update id in it (past any update that cannot be read)."""
    try:
        updates = await bot.get_updates(
            offset=offset, timeout=wait, limit=limit, allowed_updates=list(ALLOWED_UPDATES)
        )
    except (KeyError, TypeError, ValueError, AttributeError):  # one update PTB cannot read spoils the batch
        return await _one_by_one(bot, offset, limit)
    return updates, updates[-1].update_id if updates else None


async def _one_by_one(bot: Bot, offset: int | None, limit: int) -> tuple[list[Update], int | None]:
    """The same batch read update by update: one that cannot be read is reported and passed over, so it
    cannot hold up everyone's messages until Telegram drops it a day later."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PTBUserWarning)  # "use get_updates": we just did, and it failed
        raw = await bot.do_api_request(
            "getUpdates",
            api_kwargs={"offset": offset, "limit": limit, "timeout": 0, "allowed_updates": ALLOWED_UPDATES},
        )
    updates, last = [], None
    for item in raw:
        last = item.get("update_id") if isinstance(item, dict) else last
        try:
            updates.append(Update.de_json(item, bot))
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            log.error(  # noqa: TRY400 (no traceback: its message may quote what the user sent)
                "operator: Telegram update %s could not be read and was skipped (%s)",
                last,
                type(exc).__name__,
            )
    return updates, last
