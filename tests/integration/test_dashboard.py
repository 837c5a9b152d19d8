"""The trainers' dashboard over HTTP: login, CSRF, every page, scoping (404 outside), reviews, export."""

from __future__ import annotations

import csv
import html
import io
import os
import re
import stat
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from bot.app import App, build_app
from bot.cli import cli
from bot.memory import CHANNEL, MemorySender, MemoryUser
from bot.settings import Settings
from bot.web import create_web_app
from lessons.i18n import RLM
from lessons.languages import Lang
from progress.accounts import add_trainer
from progress.certificates import issue_certificate
from progress.dashboard.auth import COOKIE, MAX_AGE, Sessions
from progress.models import Answer, Question, ReviewCard, ReviewItem, Role, User, utcnow
from progress.secret_key import SECRET_FILE, secret_key
from progress.web import progress_parts
from tests.integration.dashboard_world import (
    PASSWORD,
    World,
    add_trainers,
    build_world,
    csrf_of,
    login,
    voice_note,
    world_app,
)
from tests.integration.journeys import right_answer


def shown(response: httpx.Response) -> str:
    """The page's text as a reader sees it (entities decoded)."""
    return html.unescape(response.text)


def spreadsheet(response: httpx.Response) -> list[dict[str, str]]:
    """The export's rows by header, read from its bytes as a spreadsheet does (the BOM says UTF-8)."""
    assert response.content.startswith("\ufeff".encode())
    return list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))


@pytest.fixture
def dash_app(settings: Settings, memory: MemorySender) -> Iterator[App]:
    """The app hearing voice notes through a scripted transcriber."""
    app = world_app(settings, memory)
    yield app
    app.close()


@pytest.fixture
async def world(dash_app: App, memory: MemorySender, tmp_path: Path) -> World:
    """Three learners and three trainers."""
    built = await build_world(dash_app, memory, tmp_path)
    add_trainers(dash_app)
    return built


@pytest.fixture
async def client(dash_app: App) -> AsyncIterator[httpx.AsyncClient]:
    """A browser-like client (it keeps cookies) on the web app with the dashboard."""
    web = create_web_app(dash_app, progress_parts(dash_app.dashboard_deps()).routers)
    transport = httpx.ASGITransport(app=web)
    async with httpx.AsyncClient(transport=transport, base_url="http://dash.test") as http:
        yield http


async def test_login_needs_the_right_password_a_csrf_token_and_logout_ends_it(
    world: World, client: httpx.AsyncClient
) -> None:
    away = await client.get("/dashboard/")
    assert away.status_code == 303 and away.headers["location"] == "/dashboard/login"
    page = await client.get("/dashboard/login")
    token = csrf_of(page.text)
    forged = await client.post("/dashboard/login", data={"login": "admin", "password": PASSWORD})
    assert forged.status_code == 403
    other = await client.post("/dashboard/login", data={"login": "admin", "password": PASSWORD, "csrf": "x"})
    assert other.status_code == 403
    wrong = await client.post("/dashboard/login", data={"login": "admin", "password": "nope", "csrf": token})
    assert wrong.status_code == 401 and "incorrect" in wrong.text
    nobody = await client.post(
        "/dashboard/login", data={"login": "ghost", "password": PASSWORD, "csrf": token}
    )
    assert nobody.status_code == 401
    learner = await client.post(
        "/dashboard/login", data={"login": "fes-voice", "password": PASSWORD, "csrf": token}
    )
    assert learner.status_code == 401
    ok = await login(client, "admin")
    assert ok.status_code == 303 and ok.headers["location"] == "/dashboard/"
    overview = await client.get("/dashboard/")
    assert overview.status_code == 200
    assert overview.headers["content-security-policy"].startswith("default-src 'none'")
    client.cookies.set(COOKIE, client.cookies[COOKIE][:-2] + "xx", domain="dash.test")
    assert (await client.get("/dashboard/")).status_code == 303  # tampered cookie: logged out
    await login(client, "admin")
    page = await client.get("/dashboard/")
    assert (await client.post("/dashboard/logout", data={})).status_code == 403
    bye = await client.post("/dashboard/logout", data={"csrf": csrf_of(page.text)})
    assert bye.status_code == 303
    assert (await client.get("/dashboard/learners")).status_code == 303


async def test_a_changed_password_ends_old_sessions(
    world: World, client: httpx.AsyncClient, dash_app: App
) -> None:
    await login(client, "fes")
    assert (await client.get("/dashboard/")).status_code == 200
    with dash_app.sessions() as session:
        add_trainer(session, "fes", "another long password", cooperative="FES-ZEL-01")
        session.commit()
    assert (await client.get("/dashboard/")).status_code == 303


async def test_a_cookie_copied_before_logout_no_longer_opens_the_dashboard(
    world: World, client: httpx.AsyncClient
) -> None:
    await login(client, "fes")
    page = await client.get("/dashboard/")
    copied = client.cookies[COOKIE]
    await client.post("/dashboard/logout", data={"csrf": csrf_of(page.text)})
    client.cookies.set(COOKIE, copied, domain="dash.test")
    assert (await client.get("/dashboard/")).status_code == 303
    assert (await login(client, "fes")).status_code == 303
    assert (await client.get("/dashboard/")).status_code == 200  # a new login opens a new session


async def test_a_session_ends_a_working_day_after_login_however_often_it_is_used(
    world: World, client: httpx.AsyncClient, dash_app: App
) -> None:
    await login(client, "fes")
    signer = Sessions(secret_key(None, dash_app.settings.data_dir)).serializer

    async def renewed(hours_ago: float) -> int:
        """The status of a page asked with the cookie re-signed just now, as constant use renews it."""
        data = signer.loads(client.cookies[COOKIE])
        client.cookies.set(
            COOKIE, signer.dumps({**data, "since": data["since"] - hours_ago * 3600}), domain="dash.test"
        )
        return (await client.get("/dashboard/")).status_code

    assert await renewed(MAX_AGE / 3600 - 1) == 200
    assert await renewed(2) == 303


async def test_every_page_renders_in_french_and_in_arabic_right_to_left(
    world: World, client: httpx.AsyncClient, dash_app: App
) -> None:
    await login(client, "admin")
    overview = await client.get("/dashboard/")
    assert 'dir="ltr"' in overview.text and "Vue d'ensemble" in shown(overview)
    assert overview.text.count("<svg") == 2  # activity, and the zellige funnel
    assert "En risque d'abandon" in shown(overview)
    learners = await client.get("/dashboard/learners")
    assert all(name in learners.text for name in ("fes-voice", "fes-done", "marrakech"))
    page = await client.get(f"/dashboard/learners/{world.fes_voice}")
    assert f'<audio controls preload="metadata" src="/dashboard/audio/{world.voice_answer}"' in page.text
    assert "je ne sais pas" in shown(page) and "Transcription automatique (confiance 83 %)" in shown(page)
    assert "Plusieurs essais sans réussir" in shown(page)
    assert "Premier pas" in shown(page)  # a badge
    reviews = await client.get("/dashboard/reviews")
    assert f"/dashboard/reviews/{world.voice_review}" in reviews.text
    review = await client.get(f"/dashboard/reviews/{world.voice_review}")
    assert "Avis de l'IA" in shown(review) and 'name="decision" value="override"' in review.text
    switched = await client.get("/dashboard/lang/ar", params={"next": "/dashboard/reviews"})
    assert switched.status_code == 303 and switched.headers["location"] == "/dashboard/reviews"
    arabic = await client.get(f"/dashboard/learners/{world.fes_voice}")
    assert '<html lang="ar" dir="rtl">' in arabic.text and "السجلّ" in shown(arabic)
    outside = await client.get("/dashboard/lang/fr", params={"next": "https://evil.example/"})
    assert outside.headers["location"] == "/dashboard/"
    css = await client.get("/dashboard/static/style.css")
    assert css.status_code == 200 and "margin-inline" in css.text


async def test_voice_answers_are_served_to_trainers_who_may_see_the_learner(
    world: World, client: httpx.AsyncClient
) -> None:
    await login(client, "fes")
    audio = await client.get(f"/dashboard/audio/{world.voice_answer}")
    assert audio.status_code == 200 and audio.headers["content-type"] == "audio/ogg"
    assert audio.content.startswith(b"OggS")
    assert audio.headers["cache-control"] == "no-store"  # a learner's voice stays off shared caches
    ranged = await client.get(f"/dashboard/audio/{world.voice_answer}", headers={"Range": "bytes=0-9"})
    assert ranged.status_code == 206 and len(ranged.content) == 10
    await login(client, "marrakech")
    assert (await client.get(f"/dashboard/audio/{world.voice_answer}")).status_code == 404


async def test_a_cooperative_trainer_sees_only_their_cooperative_whatever_the_url(
    world: World, client: httpx.AsyncClient, dash_app: App
) -> None:
    with dash_app.sessions() as session:
        far = session.get_one(User, world.marrakech)
        course = dash_app.library.courses["zellige"]
        code = issue_certificate(session, dash_app.library, far, course).code
        session.commit()
    await login(client, "fes")
    learners = await client.get("/dashboard/learners")
    assert "fes-voice" in learners.text and "fes-done" in learners.text and "marrakech" not in learners.text
    forbidden = [
        f"/dashboard/learners/{world.marrakech}",
        f"/dashboard/reviews/{world.marrakech_review}",
        "/dashboard/learners?cooperative=MRK-TAD-01",
        "/dashboard/learners?region=marrakech-safi",
        "/dashboard/learners.csv?cooperative=MRK-TAD-01",
        "/dashboard/learners.csv?region=marrakech-safi",
        f"/dashboard/certificates/{code}.pdf",
        "/dashboard/learners/999999",
    ]
    for url in forbidden:
        assert (await client.get(url)).status_code == 404, url
    page = await client.get("/dashboard/reviews")
    decide = await client.post(
        f"/dashboard/reviews/{world.marrakech_review}",
        data={"csrf": csrf_of(page.text), "decision": "accept"},
    )
    assert decide.status_code == 404
    exported = await client.get("/dashboard/learners.csv")
    names = {row["Apprenti"] for row in spreadsheet(exported)}
    assert names == {"fes-voice", "fes-done"}
    reviews = await client.get("/dashboard/reviews")
    assert f"/dashboard/reviews/{world.voice_review}" in reviews.text
    assert f"/dashboard/reviews/{world.marrakech_review}" not in reviews.text


async def test_a_regional_trainer_sees_their_region(world: World, client: httpx.AsyncClient) -> None:
    await login(client, "marrakech")
    learners = await client.get("/dashboard/learners")
    assert "marrakech" in learners.text and "fes-voice" not in learners.text
    assert (await client.get(f"/dashboard/learners/{world.marrakech}")).status_code == 200
    assert (await client.get("/dashboard/learners?cooperative=MRK-TAD-01")).status_code == 200
    assert (await client.get(f"/dashboard/learners/{world.fes_done}")).status_code == 404
    assert (await client.get("/dashboard/learners?cooperative=FES-ZEL-01")).status_code == 404


async def test_overriding_a_grade_needs_a_reason_and_tells_the_learner_in_their_language(
    world: World, client: httpx.AsyncClient, dash_app: App, memory: MemorySender
) -> None:
    await login(client, "marrakech")
    page = await client.get(f"/dashboard/reviews/{world.marrakech_review}")
    token = csrf_of(page.text)
    url = f"/dashboard/reviews/{world.marrakech_review}"
    no_reason = await client.post(url, data={"csrf": token, "decision": "override", "note": "  "})
    assert no_reason.status_code == 400 and "Donnez une raison" in shown(no_reason)
    assert (await client.post(url, data={"csrf": "x", "decision": "accept"})).status_code == 403
    before = len(memory.sent["marrakech"])
    done = await client.post(
        url, data={"csrf": token, "decision": "override", "note": "Il l'a dit en tachelhit, c'est juste."}
    )
    assert done.status_code == 303 and done.headers["location"] == "/dashboard/reviews?done=1"
    [told] = memory.sent["marrakech"][before:]
    assert told.lang == "ary" and told.text.startswith(RLM) and "مقبول" in told.text
    assert told.meta["kind"] == "notice"
    again = await client.post(url, data={"csrf": token, "decision": "accept"})
    assert again.headers["location"] == "/dashboard/reviews?done=already"
    with dash_app.sessions() as session:
        item = session.get_one(ReviewItem, world.marrakech_review)
        answer = session.get_one(Answer, item.answer_id)
        assert (item.status, item.decision_passed, answer.passed, answer.graded_by) == (
            "overridden",
            True,
            True,
            "human",
        )
        assert item.decision_note == "Il l'a dit en tachelhit, c'est juste."
        assert session.scalar(select(ReviewCard).where(ReviewCard.user_id == world.marrakech)) is not None
    listed = await client.get("/dashboard/reviews?done=1")
    assert f"/dashboard/reviews/{world.marrakech_review}" not in listed.text


async def test_keyset_pages_and_filters_stay_inside_the_scope(
    world: World, client: httpx.AsyncClient, dash_app: App
) -> None:
    with dash_app.sessions() as session:
        session.add_all(
            User(
                display_name=f"bulk-{n:03}",
                stage="ready",
                region_code="fes-meknes",
                cooperative_code="FES-ZEL-01",
            )
            for n in range(120)
        )
        session.add(User(display_name="=HYPERLINK(1)", stage="ready", cooperative_code="FES-ZEL-01"))
        session.commit()
    await login(client, "fes")
    seen: list[str] = []
    url: str | None = "/dashboard/learners"
    while url:
        page = await client.get(url)
        assert page.status_code == 200
        seen += [
            line.split(">")[1].split("<")[0] for line in page.text.split('<a href="/dashboard/learners/')[1:]
        ]
        found = [part for part in page.text.split('"') if part.startswith("/dashboard/learners?before=")]
        url = found[0].replace("&amp;", "&") if found else None
    assert len(seen) == len(set(seen)) == 123
    assert seen[0] == "=HYPERLINK(1)"  # newest first
    active = await client.get("/dashboard/learners", params={"status": "at_risk"})
    assert "bulk-" not in active.text
    assert (await client.get("/dashboard/learners", params={"status": "sleepy"})).status_code == 404
    rows = spreadsheet(await client.get("/dashboard/learners.csv"))
    assert len(rows) == 123
    assert "'=HYPERLINK(1)" in {row["Apprenti"] for row in rows}
    course = await client.get("/dashboard/learners.csv", params={"course": "zellige"})
    assert len(spreadsheet(course)) == 2


async def test_certificates_are_verified_publicly_and_downloaded_by_trainers(
    world: World, client: httpx.AsyncClient, dash_app: App
) -> None:
    with dash_app.sessions() as session:
        learner = session.get_one(User, world.fes_done)
        certificate = issue_certificate(
            session, dash_app.library, learner, dash_app.library.courses["zellige"]
        )
        session.commit()
        code = certificate.code
    public = await client.get(f"/verify/{code.lower().replace('-', '')}")
    assert public.status_code == 200 and "Ce certificat est authentique." in shown(public)
    assert "fes-done" in public.text and "Maâlem Abdelhaq Lahlou" in shown(public)
    assert (await client.get("/verify/ZZZZZ-ZZZZZ")).status_code == 404
    await login(client, "fes")
    page = await client.get(f"/dashboard/learners/{world.fes_done}")
    assert f"/dashboard/certificates/{code}.pdf" in page.text
    pdf = await client.get(f"/dashboard/certificates/{code}.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert pdf.headers["cache-control"] == "no-store"


def test_add_trainer_command_creates_scoped_accounts(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MAALEM_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("MAALEM_CONTENT_DIR", str(settings.content_dir))
    runner = CliRunner()
    made = runner.invoke(
        cli,
        ["users", "add-trainer", "Samira", "--cooperative", "FES-ZEL-01", "--chat", "telegram:77"],
        input=f"{PASSWORD}\n{PASSWORD}\n",
    )
    assert made.exit_code == 0, made.output
    assert "samira (trainer of FES-ZEL-01)" in made.output
    admin = runner.invoke(
        cli, ["users", "add-trainer", "root", "--admin"], env={"MAALEM_NEW_PASSWORD": PASSWORD}
    )
    assert admin.exit_code == 0, admin.output
    for args, why in (
        (["users", "add-trainer", "x", "--cooperative", "NOPE-01"], "unknown cooperative"),
        (["users", "add-trainer", "x", "--region", "atlantis"], "unknown region"),
        (["users", "add-trainer", "x"], "exactly one of"),
        (["users", "add-trainer", "x", "--admin", "--chat", "telegram"], "CHANNEL:CHAT_ID"),
    ):
        failed = runner.invoke(cli, args, env={"MAALEM_NEW_PASSWORD": PASSWORD})
        assert failed.exit_code == 1 and why in failed.output, failed.output
    short = runner.invoke(cli, ["users", "add-trainer", "x", "--admin"], env={"MAALEM_NEW_PASSWORD": "short"})
    assert short.exit_code == 1 and "at least 10" in short.output
    app = build_app(settings)
    with app.sessions() as session:
        samira = session.scalars(select(User).where(User.login == "samira")).one()
        assert (samira.role, samira.cooperative_code, samira.region_code) == (
            Role.TRAINER,
            "FES-ZEL-01",
            "fes-meknes",
        )
        assert samira.password_hash and samira.password_hash.startswith("$argon2id$")
        assert [(i.channel, i.external_id) for i in samira.identities] == [("telegram", "77")]
    app.close()


async def test_the_web_app_wiring_starts_the_sweeps_and_keeps_a_secret_key(dash_app: App) -> None:
    parts = progress_parts(dash_app.dashboard_deps())
    assert parts.scheduler is not None
    for start in parts.on_startup:
        await start()
    assert {job.id for job in parts.scheduler.get_jobs()} == {
        "maalem-reminders",
        "maalem-reviews",
        "maalem-digests",
        "maalem-activity",
    }
    assert all(job.max_instances == 1 for job in parts.scheduler.get_jobs())
    for stop in parts.on_shutdown:
        await stop()
    key = dash_app.settings.data_dir / SECRET_FILE
    assert stat.S_IMODE(os.stat(key).st_mode) == 0o600
    first = key.read_text()
    progress_parts(dash_app.dashboard_deps())
    assert key.read_text() == first  # kept, so sessions survive a restart


async def test_a_withdrawn_certificate_says_so_publicly(
    world: World, client: httpx.AsyncClient, dash_app: App
) -> None:
    with dash_app.sessions() as session:
        learner = session.get_one(User, world.fes_done)
        certificate = issue_certificate(
            session, dash_app.library, learner, dash_app.library.courses["zellige"]
        )
        certificate.withdrawn_at = utcnow()
        session.commit()
        code = certificate.code
    public = await client.get(f"/verify/{code}")
    assert "Ce certificat a été retiré" in shown(public)
    assert "Ce certificat est authentique." not in shown(public)


async def test_ids_too_large_for_the_database_are_not_found(world: World, client: httpx.AsyncClient) -> None:
    await login(client, "fes")
    huge = str(2**63 + 5)
    for url in (
        f"/dashboard/learners/{huge}",
        f"/dashboard/audio/{huge}",
        f"/dashboard/reviews/{huge}",
        f"/dashboard/lessons/{huge}",
    ):
        assert (await client.get(url)).status_code == 404, url
    for url in (f"/dashboard/reviews?after={huge}", f"/dashboard/learners?before={huge}"):
        assert (await client.get(url)).status_code == 422, url
    assert (await client.get(f"/dashboard/learners/{world.fes_voice}")).status_code == 200


async def test_staff_are_warned_when_certificates_have_no_public_address(
    world: World, client: httpx.AsyncClient, dash_app: App
) -> None:
    warning = dash_app.catalog.t(Lang.FRENCH, "dash.public_url_missing")
    await login(client, "fes")
    assert warning in shown(await client.get("/dashboard/"))
    assert warning not in shown(await client.get("/verify/ZZZZZ-ZZZZZ"))  # not on the public page
    dash_app.settings.public_url = "https://maalem.example.ma"
    web = create_web_app(dash_app, progress_parts(dash_app.dashboard_deps()).routers)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=web), base_url="http://dash.test") as http:
        await login(http, "fes")
        assert warning not in shown(await http.get("/dashboard/"))


async def test_no_piece_of_an_exported_cell_starts_a_formula_whatever_the_list_separator(
    world: World, client: httpx.AsyncClient, dash_app: App
) -> None:
    names = ["Ali;=1+1;x", "Ali,@SUM(A1);x", "Ali\t+1", "Ali; -2", "=;=3", "Ben-Ali; Omar"]
    with dash_app.sessions() as session:
        session.add_all(User(display_name=n, stage="ready", cooperative_code="FES-ZEL-01") for n in names)
        session.commit()
    await login(client, "fes")
    exported = await client.get("/dashboard/learners.csv")
    cells = [cell for row in csv.reader(io.StringIO(exported.text)) for cell in row]
    for separator in (";", ",", "\t"):
        pieces = [piece.lstrip(" ") for cell in cells for piece in cell.split(separator)]
        assert not [piece for piece in pieces if piece.startswith(("=", "+", "-", "@"))], separator
    assert "Ben-Ali; Omar" in cells  # ordinary names are kept as they are


async def test_names_are_shown_escaped_and_isolated_in_every_list_and_page(
    world: World, client: httpx.AsyncClient, dash_app: App
) -> None:
    with dash_app.sessions() as session:
        session.get_one(User, world.fes_voice).preferred_name = "فاطمة الزهراء"
        session.get_one(User, world.fes_done).display_name = "<b>Karim</b>"
        session.commit()
    await login(client, "fes")
    learners = await client.get("/dashboard/learners")
    assert (
        f'<td data-label="Apprenti" dir="auto">'
        f'<a href="/dashboard/learners/{world.fes_voice}">فاطمة الزهراء</a></td>' in learners.text
    )
    assert "<b>Karim</b>" not in learners.text and "&lt;b&gt;Karim&lt;/b&gt;" in learners.text
    assert "fes-voice" not in learners.text  # the name they asked for, not their chat app's
    page = await client.get(f"/dashboard/learners/{world.fes_voice}")
    assert "<h1><bdi>فاطمة الزهراء</bdi>" in page.text
    reviews = await client.get("/dashboard/reviews")
    assert (
        f'<td data-label="Apprenti" dir="auto">'
        f'<a href="/dashboard/learners/{world.fes_voice}">فاطمة الزهراء</a></td>' in reviews.text
    )
    review = await client.get(f"/dashboard/reviews/{world.voice_review}")
    assert f'<bdi><a href="/dashboard/learners/{world.fes_voice}">فاطمة الزهراء</a></bdi>' in review.text


async def test_the_csv_opens_right_in_a_spreadsheet_in_the_trainers_language(
    world: World, client: httpx.AsyncClient, dash_app: App
) -> None:
    with dash_app.sessions() as session:
        learner = session.get_one(User, world.fes_done)
        learner.preferred_name = "فاطمة الزهراء"
        code = issue_certificate(session, dash_app.library, learner, dash_app.library.courses["zellige"]).code
        session.commit()
    await login(client, "fes")
    exported = await client.get("/dashboard/learners.csv")
    lines = exported.content.decode("utf-8-sig").splitlines()
    assert all(line.startswith('"') and line.endswith('"') for line in lines)  # every field quoted
    assert lines[0].split('","')[:3] == ['"N°', "Apprenti", "Langue"]
    rows = {row["N°"]: row for row in spreadsheet(exported)}
    done = rows[str(world.fes_done)]
    assert (done["Apprenti"], done["Langue"], done["Mineur"]) == ("فاطمة الزهراء", "Français", "Non")
    assert (done["Consentement"], done["Certificats"]) == ("Donné", code)
    passed_at, _ = right_answer(dash_app.library.courses["zellige"], 0, Lang.FRENCH)
    assert done["Étapes faites"] == str(passed_at + 1) and done["Région"] == "Fès-Meknès"
    page = await client.get(f"/dashboard/learners/{world.fes_done}")
    assert done["Dernière activité"] in page.text  # the local time the pages show, not UTC
    assert re.fullmatch(r"\d\d/\d\d/\d{4} \d\d:\d\d", done["Dernière activité"])
    await client.get("/dashboard/lang/ar")
    arabic = spreadsheet(await client.get("/dashboard/learners.csv"))
    assert {"المتعلّم", "اللغة", "الموافقة", "الشهادات"} <= set(arabic[0])
    assert {row["المتعلّم"] for row in arabic} == {"فاطمة الزهراء", "fes-voice"}


async def test_the_questions_inbox_shows_each_trainer_their_learners_questions_and_flags_old_ones(
    world: World, client: httpx.AsyncClient, dash_app: App, memory: MemorySender, tmp_path: Path
) -> None:
    course = dash_app.library.courses["zellige"]
    with dash_app.sessions() as session:  # a trainer of the Fès cooperative who has a chat
        add_trainer(
            session, "nadia", PASSWORD, cooperative="FES-ZEL-01", name="Nadia", chat=(CHANNEL, "nadia")
        )
        session.commit()
    for chat, ask in (("fes-done", "Quelle colle faut-il ?"), ("marrakech", None)):
        learner = MemoryUser(dash_app, memory, chat)
        await learner.press(f"lesson:{course.lessons[1].id}")
        await learner.press("ask")
        await (learner.say(ask) if ask else learner.voice(str(voice_note(tmp_path / "question.ogg"))))
    with dash_app.sessions() as session:
        spoken = session.scalars(select(Question).where(Question.audio_path.is_not(None))).one()
        typed = session.scalars(select(Question).where(Question.text != "")).one()
        typed.created_at = utcnow() - timedelta(days=4)
        session.commit()
    await dash_app.outbox.flush(CHANNEL)
    [told] = memory.sent["nadia"]  # told of her cooperative's question, not of Marrakech's
    assert "Quelle colle faut-il ?" in told.text and "/dashboard/questions" in told.text and not told.choices
    await login(client, "fes")
    overview = await client.get("/dashboard/")
    assert '<a class="kpi" href="/dashboard/questions"><strong>1</strong>' in overview.text
    inbox = shown(await client.get("/dashboard/questions"))
    assert "Quelle colle faut-il ?" in inbox and "fes-done" in inbox and "marrakech" not in inbox
    assert "plus de 3 jours" in inbox
    assert (await client.get(f"/dashboard/questions/{spoken.id}/audio")).status_code == 404  # not her learner
    await login(client, "marrakech")
    inbox = (await client.get("/dashboard/questions")).text
    assert f'src="/dashboard/questions/{spoken.id}/audio"' in inbox and "Quelle colle" not in inbox
    audio = await client.get(f"/dashboard/questions/{spoken.id}/audio")
    assert audio.content.startswith(b"OggS") and audio.headers["cache-control"] == "no-store"


async def test_errors_are_pages_in_the_trainers_language_and_json_stays_for_the_rest(
    world: World, client: httpx.AsyncClient, dash_app: App
) -> None:
    await login(client, "fes")
    await client.get("/dashboard/lang/ar")
    outside = await client.get(f"/dashboard/learners/{world.marrakech}")  # not her cooperative
    assert outside.status_code == 404 and outside.headers["content-type"].startswith("text/html")
    assert '<html lang="ar" dir="rtl">' in outside.text and "هذه الصفحة غير موجودة" in shown(outside)
    assert "detail" not in outside.text and 'href="/dashboard/"' in outside.text
    await client.get("/dashboard/lang/fr")
    for url in ("/dashboard/nowhere", "/dashboard/learners?before=abc", f"/dashboard/learners/{2**64}"):
        lost = await client.get(url)
        assert lost.status_code in {404, 422}, url
        assert "Cette page n'existe pas" in shown(lost) and "detail" not in lost.text, url
    forged = await client.post("/dashboard/logout", data={})
    assert forged.status_code == 403 and "Vous n'avez pas accès à cette page." in shown(forged)
    with dash_app.sessions() as session:
        learner = session.get_one(User, world.fes_done)
        code = issue_certificate(session, dash_app.library, learner, dash_app.library.courses["zellige"]).code
        session.commit()
    (dash_app.dashboard_deps().data_dir / "certificates").write_text("not a folder")  # a broken disk
    broken = await client.get(f"/dashboard/certificates/{code}.pdf")
    assert broken.status_code == 500 and "Un problème est survenu de notre côté" in shown(broken)
    api = await client.get("/nowhere")
    assert api.status_code == 404 and api.json() == {"detail": "Not Found"}


async def test_a_trainer_finds_a_learner_by_part_of_their_name_inside_her_scope(
    world: World, client: httpx.AsyncClient, dash_app: App
) -> None:
    with dash_app.sessions() as session:
        session.get_one(User, world.fes_voice).preferred_name = "Fatima Zahra"
        session.commit()
    await login(client, "fes")
    found = await client.get("/dashboard/learners", params={"name": " ZAHRA "})
    assert f'href="/dashboard/learners/{world.fes_voice}">Fatima Zahra<' in found.text
    assert "fes-done" not in found.text and 'name="name" value=" ZAHRA "' in found.text
    for other in (
        "marrakech",
        "fes-voice",
        "%",
        "_",
    ):  # another cooperative, a name no longer shown, wildcards
        page = await client.get("/dashboard/learners", params={"name": other})
        assert "Aucun apprenti ici pour l'instant." in shown(page), other
    assert "fes-done" in (await client.get("/dashboard/learners", params={"name": "done"})).text
    rows = spreadsheet(await client.get("/dashboard/learners.csv", params={"name": "fatima"}))
    assert [row["Apprenti"] for row in rows] == ["Fatima Zahra"]
