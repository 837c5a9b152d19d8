"""The dashboard in a real browser (Debian's chromium driven by Playwright), served by uvicorn on loopback.

A trainer logs in on a phone-sized screen, reads the overview, filters the learners, plays a learner's voice
answer, overrides its grade in the review queue; the learner hears of it in the in-memory channel.
"""

from __future__ import annotations

import asyncio
import shutil
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from bot.app import App
from bot.memory import MemorySender
from bot.settings import Settings
from bot.web import create_web_app
from progress.dashboard import dashboard_router
from tests.integration.dashboard_world import PASSWORD, World, add_trainers, build_world, world_app

playwright = pytest.importorskip("playwright.sync_api")
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--autoplay-policy=no-user-gesture-required",
]
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts" / "dashboard"
"""Screenshots of every main page, per language and screen, for a person to review (git-ignored)."""
SCREENS = {"phone": {"width": 390, "height": 844}, "desktop": {"width": 1280, "height": 800}}
SMALLEST_LABEL_JS = """() => Math.min(...[...document.querySelectorAll('svg.chart text')].map(
    t => parseFloat(getComputedStyle(t).fontSize) * t.getScreenCTM().a))"""
"""The smallest chart label as rendered on screen, in CSS px (its font size times the SVG's scale)."""
SIDEWAYS_JS = "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed")


@pytest.fixture
def served(settings: Settings, memory: MemorySender, tmp_path: Path) -> Iterator[tuple[App, World, str]]:
    """The world's app behind uvicorn on a random loopback port, in a thread."""
    app = world_app(settings, memory)
    world = asyncio.run(build_world(app, memory, tmp_path))
    add_trainers(app)
    config = uvicorn.Config(
        create_web_app(app, [dashboard_router(app.dashboard_deps())]),
        host="127.0.0.1",
        port=0,
        log_level="warning",
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    port = server.servers[0].sockets[0].getsockname()[1]
    yield app, world, f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)
    app.close()


def log_in(page: Any, base: str) -> None:
    """Open the dashboard, land on the login form and log in as the administrator."""
    page.goto(f"{base}/dashboard/")
    assert page.url.endswith("/dashboard/login")
    page.fill("input[name=login]", "admin")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/dashboard/")


def names_shown(page: Any) -> list[str]:
    """The learners' names in the list on screen."""
    names: list[str] = page.locator("table.learners tbody td:first-child").all_inner_texts()
    return names


def test_a_trainer_listens_to_a_voice_answer_and_overrides_its_grade(
    served: tuple[App, World, str], memory: MemorySender
) -> None:
    app, world, base = served
    with playwright.sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 390, "height": 844}, locale="fr-FR")
        log_in(page, base)
        assert page.locator("svg.chart").count() == 2
        assert page.locator(".kpi strong").first.inner_text() == "3"

        page.click("nav >> text=Apprentis")
        page.select_option("select[name=cooperative]", "MRK-TAD-01")
        page.click("form.filters button[type=submit]")
        page.wait_for_url("**/dashboard/learners?*cooperative=MRK-TAD-01*")
        assert names_shown(page) == ["marrakech"]
        page.select_option("select[name=cooperative]", "FES-ZEL-01")
        page.click("form.filters button[type=submit]")
        page.wait_for_url("**cooperative=FES-ZEL-01*")
        page.click("text=fes-voice")
        audio = page.locator(f"audio[data-answer='{world.voice_answer}']")
        audio.wait_for()
        page.wait_for_function(
            "id => { const a = document.querySelector(`audio[data-answer='${id}']`);"
            " return a && a.readyState >= 1 && a.duration > 1; }",
            arg=world.voice_answer,
            timeout=15_000,
        )
        duration = audio.evaluate("a => a.duration")
        assert 1.3 < duration < 1.7
        audio.evaluate("a => a.play()")
        page.wait_for_function(
            "id => document.querySelector(`audio[data-answer='${id}']`).currentTime > 0.2",
            arg=world.voice_answer,
            timeout=15_000,
        )

        page.click("nav >> text=À revoir")
        page.click(f"a[href='/dashboard/reviews/{world.voice_review}']")
        assert "je ne sais pas" in page.inner_text(".said")
        page.click("button[value=override]")  # no reason given: refused
        assert "Donnez une raison" in page.inner_text("[role=alert]")
        page.fill("textarea[name=note]", "Réponse juste, dite autrement.")
        page.click("button[value=override]")
        page.wait_for_url("**/dashboard/reviews?done=1")
        assert "l'apprenti est prévenu" in page.inner_text("[role=status]")

        page.goto(f"{base}/dashboard/lang/ar?next=/dashboard/reviews")
        assert page.get_attribute("html", "dir") == "rtl"
        browser.close()
    deadline = time.monotonic() + 10
    while not any("validé" in m.text for m in memory.sent["fes-voice"]) and time.monotonic() < deadline:
        time.sleep(0.1)
    told = memory.sent["fes-voice"][-1]
    assert "Un formateur a écouté ta réponse" in told.text and "validé" in told.text


def test_every_main_page_fits_a_phone_and_a_desktop_in_french_and_arabic(
    served: tuple[App, World, str],
) -> None:
    _, world, base = served
    pages = {
        "overview": "/dashboard/",
        "learners": "/dashboard/learners",
        "learner": f"/dashboard/learners/{world.fes_voice}",
        "reviews": "/dashboard/reviews",
        "review": f"/dashboard/reviews/{world.voice_review}",
        "questions": "/dashboard/questions",
        "lessons": "/dashboard/lessons",
        "not-found": "/dashboard/nowhere",
    }
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with playwright.sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        for screen, viewport in SCREENS.items():
            page = browser.new_page(viewport=viewport)
            log_in(page, base)
            for lang in ("fr", "ar"):
                page.goto(f"{base}/dashboard/lang/{lang}?next=/dashboard/")
                assert page.get_attribute("html", "dir") == ("rtl" if lang == "ar" else "ltr")
                assert page.evaluate(SMALLEST_LABEL_JS) >= 10, (screen, lang)
                for name, path in pages.items():
                    page.goto(f"{base}{path}")
                    assert page.evaluate(SIDEWAYS_JS) <= 0, (screen, lang, name)
                    page.screenshot(path=ARTIFACTS / f"{screen}-{lang}-{name}.png", full_page=True)
                page.goto(f"{base}/dashboard/learners")
                cells = page.locator("table.learners tbody td")
                assert sorted(names_shown(page)) == ["fes-done", "fes-voice", "marrakech"], (screen, lang)
                for index in range(cells.count()):  # status and last activity too: every cell on screen
                    box = cells.nth(index).bounding_box()
                    assert box and box["x"] >= 0 and box["x"] + box["width"] <= viewport["width"], (
                        screen,
                        lang,
                    )
                label = cells.first.evaluate("td => getComputedStyle(td, '::before').content")
                header = page.locator("table.learners thead th").first.inner_text()
                assert (label == f'"{header}"') == (screen == "phone"), (screen, lang, label)
                page.fill("input[name=name]", "VOICE")
                page.click("form.filters button[type=submit]")
                page.wait_for_url("**/dashboard/learners?name=VOICE*")
                assert names_shown(page) == ["fes-voice"], (screen, lang)
            page.close()
        browser.close()
