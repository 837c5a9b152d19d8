"""The progress side of the web app: the dashboard, and the reminder sweeps that live as long as it does."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from fastapi import APIRouter

from progress.dashboard import dashboard_router
from progress.dashboard.deps import DashboardDeps
from progress.reminders import Sweeper, add_jobs
from progress.rules import zone
from progress.schedule import CalendarInvalid, load_calendar

log = logging.getLogger(__name__)


@dataclass
class WebParts:
    """Routers to mount and hooks to run when the web app starts and stops."""

    routers: list[APIRouter] = field(default_factory=list)
    on_startup: list[Callable[[], Awaitable[None]]] = field(default_factory=list)
    on_shutdown: list[Callable[[], Awaitable[None]]] = field(default_factory=list)
    scheduler: AsyncIOScheduler | None = None


def progress_parts(deps: DashboardDeps) -> WebParts:
    """The dashboard, and an APScheduler running the reminder, review and digest sweeps (when configured)."""
    parts = WebParts(routers=[dashboard_router(deps)])
    try:
        calendar = load_calendar(deps.calendar)
    except CalendarInvalid as exc:
        log.error("no reminders, reviews or digests: %s", exc)  # noqa: TRY400 (no traceback needed)
        return parts
    sweeper = Sweeper(
        deps.sessions,
        deps.library,
        deps.catalog,
        deps.notifier,
        calendar,
        default_zone=deps.timezone,
        dashboard_url=deps.base_url,
        question_overdue=timedelta(days=deps.question_overdue_days),
    )
    scheduler = AsyncIOScheduler(timezone=zone(deps.timezone))
    add_jobs(scheduler, sweeper, deps.nudge)

    async def start() -> None:
        scheduler.start()

    async def stop() -> None:
        scheduler.shutdown(wait=False)

    parts.on_startup.append(start)
    parts.on_shutdown.append(stop)
    parts.scheduler = scheduler
    return parts
