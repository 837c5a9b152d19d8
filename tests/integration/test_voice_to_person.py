"""Voice notes the machine cannot hear go to a person, with the audio, and the learner is told so plainly."""

from __future__ import annotations

from pathlib import Path

import httpx
from sqlalchemy import select

from bot.memory import MemorySender, MemoryUser
from bot.settings import Settings
from bot.web import create_web_app
from lessons.i18n import Catalog
from lessons.languages import Lang
from progress.models import Answer, ReviewItem
from progress.web import progress_parts
from tests.integration.dashboard_world import add_trainers, login, onboard_in, voice_note, world_app
from tests.integration.journeys import to_checkpoint


async def test_a_tamazight_voice_answer_is_kept_for_a_person_who_can_play_it(
    settings: Settings, memory: MemorySender, tmp_path: Path
) -> None:
    app = world_app(settings, memory)
    try:
        learner = MemoryUser(app, memory, "agadir")
        await onboard_in(learner, Lang.TAMAZIGHT, "fes-meknes", "FES-ZEL-01")
        await to_checkpoint(learner, app.library.courses["zellige"])
        replies = await learner.voice(str(voice_note(tmp_path / "ⵜⴰⵔⵔⴰⵢⵜ.ogg")))
        assert replies[-1].text == Catalog().t(Lang.TAMAZIGHT, "voice.not_heard")
        with app.sessions() as session:
            item, answer = session.execute(select(ReviewItem, Answer).join(Answer)).tuples().one()
            assert (item.reason, item.status, answer.passed, answer.transcript) == (
                "voice_not_heard",
                "open",
                None,
                None,
            )
            assert answer.audio_path and Path(answer.audio_path).is_file()
        add_trainers(app)
        web = create_web_app(app, progress_parts(app.dashboard_deps()).routers)
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=web), base_url="http://d.test"
        ) as client:
            await login(client, "fes")
            queue = await client.get("/dashboard/reviews")
            assert Catalog().t(Lang.FRENCH, "dash.reason_voice_not_heard") in queue.text
            audio = await client.get(f"/dashboard/audio/{answer.id}")
            assert audio.status_code == 200 and audio.content.startswith(b"OggS")
    finally:
        app.close()
