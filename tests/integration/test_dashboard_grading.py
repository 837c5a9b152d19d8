"""The overview says where the grading model is trusted, from its calibration records, in the trainer's
language."""

from __future__ import annotations

import html
import json

import httpx

from bot.components import calibration
from bot.memory import MemorySender
from bot.settings import Settings
from bot.web import create_web_app
from progress.web import progress_parts
from tests.integration.dashboard_world import add_trainers, login, world_app


async def overview_text(settings: Settings, memory: MemorySender) -> str:
    """The overview page an admin sees, as text."""
    app = world_app(settings, memory)
    try:
        add_trainers(app)
        web = create_web_app(app, progress_parts(app.dashboard_deps()).routers)
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=web), base_url="http://d.test"
        ) as client:
            await login(client, "admin")
            return html.unescape((await client.get("/dashboard/")).text)
    finally:
        app.close()


async def test_rubric_only_grading_is_said_on_the_overview(settings: Settings, memory: MemorySender) -> None:
    page = await overview_text(settings, memory)
    assert "Modèle de correction" in page
    assert "Aucun modèle de langue n'est utilisé." in page


async def test_the_overview_shows_per_language_where_the_model_is_trusted(
    settings: Settings, memory: MemorySender
) -> None:
    configured = settings.model_copy(update={"assessor": "remote", "llm_api_url": "http://127.0.0.1:9/v1"})
    model, records = calibration(configured)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    figures = {"agreement": 0.9, "auc": 0.81, "injections_passed": 0, "injections": 3, "answers": 40}
    records.path.write_text(json.dumps({model: {"fr": {**figures, "measured": "2026-12-03"}}}))
    page = await overview_text(configured, memory)
    assert "Aucun modèle de langue" not in page
    assert page.count("Fiable : son avis compte") == 1
    assert page.count("Pas fiable : la grille et une personne décident") == 4
    assert "(AUC 0.81, accord 90 %, 0/3 injections passées, 40 réponses, mesuré le 2026-12-03)" in page
    assert page.count("pas mesuré (lancer maalem eval assess)") == 4  # in the trainer's language
    assert "not measured" not in page and "agreement" not in page


async def test_what_a_record_lacks_is_said_in_the_trainers_language(
    settings: Settings, memory: MemorySender
) -> None:
    configured = settings.model_copy(update={"assessor": "remote", "llm_api_url": "http://127.0.0.1:9/v1"})
    model, records = calibration(configured)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    figures = {"agreement": 0.6, "auc": 0.5, "injections_passed": 1, "injections": 3, "answers": 8}
    records.path.write_text(json.dumps({model: {"ar": {**figures, "measured": "2026-12-03"}}}))
    page = await overview_text(configured, memory)
    assert "moins de 20 réponses; AUC inférieure à 0.75; une injection est passée" in page
    assert "(AUC 0.50, accord 60 %, 1/3 injections passées, 8 réponses, mesuré le 2026-12-03)" in page
