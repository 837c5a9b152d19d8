"""Trainers approve masters' lessons on the dashboard: only their region's, drafts marked, media to watch."""

from __future__ import annotations

import html
from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy import select

from bot.app import App
from bot.memory import MemorySender, MemoryUser
from bot.web import create_web_app
from lessons.languages import Lang
from progress.accounts import add_trainer
from progress.models import AuthoredLesson
from progress.web import progress_parts
from tests.integration.dashboard_world import PASSWORD, csrf_of, login
from tests.integration.teaching import VIDEO, link, record_typed_lesson, said


@pytest.fixture
async def client(app: App) -> AsyncIterator[httpx.AsyncClient]:
    """A browser-like client on the web app with the dashboard; a Fès cooperative and a Marrakech trainer."""
    with app.sessions() as session:
        add_trainer(session, "fes", PASSWORD, cooperative="FES-ZEL-01", name="Samira")
        add_trainer(session, "marrakech", PASSWORD, region="marrakech-safi", name="Youssef")
        session.commit()
    web = create_web_app(app, progress_parts(app.dashboard_deps()).routers)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=web), base_url="http://dash.test") as http:
        yield http


async def test_a_trainer_reads_watches_and_approves_a_masters_lesson(
    app: App, memory: MemorySender, client: httpx.AsyncClient
) -> None:
    master = MemoryUser(app, memory, "master-1")
    await link(master, app)
    await record_typed_lesson(master)
    with app.sessions() as session:
        lesson_id = session.scalars(select(AuthoredLesson.id)).one()

    await login(client, "marrakech")  # another region: the lesson is not theirs
    assert "Cutting a star" not in (await client.get("/dashboard/lessons")).text
    assert (await client.get(f"/dashboard/lessons/{lesson_id}")).status_code == 404
    client.cookies.clear()

    await login(client, "fes")
    listed = html.unescape((await client.get("/dashboard/lessons")).text)
    assert "Cutting a star" in listed and "Hassan Benali" in listed
    page = await client.get(f"/dashboard/lessons/{lesson_id}")
    text = html.unescape(page.text)
    assert "Hold the hammer firmly" in text and app.catalog.t(Lang.FRENCH, "dash.lesson_draft_copy") in text
    media = await client.get(f"/dashboard/lessons/{lesson_id}/media/1")
    assert media.status_code == 200 and media.content == VIDEO.read_bytes()
    token = csrf_of(page.text)
    url = f"/dashboard/lessons/{lesson_id}"
    assert (await client.post(url, data={"csrf": "x", "decision": "approve"})).status_code == 403
    assert (
        await client.post(url, data={"csrf": token, "decision": "reject", "note": " "})
    ).status_code == 400
    done = await client.post(url, data={"csrf": token, "decision": "approve"})
    assert done.status_code == 303 and done.headers["location"] == "/dashboard/lessons?done=approve"
    assert "star-tiles-of-fez" in app.library.courses  # published in this process at once
    await app.outbox.flush()
    assert master.inbox[-1].text == said(app, "teach.approved", lesson="Cutting a star", note="—")
