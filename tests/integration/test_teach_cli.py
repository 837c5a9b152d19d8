"""Trainers and operators at the command line: invitations, the review list, translations, approval, packs."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from bot.app import App, build_app
from bot.cli import cli
from bot.memory import MemorySender, MemoryUser
from bot.settings import Settings
from bot.terminal import CHANNEL as TERMINAL
from bot.terminal import LocalFileFetcher, TerminalChat, TerminalSender
from lessons.languages import Lang
from lessons.packs import pack_files, read_pack
from progress.models import AuthoredStep
from tests.integration.journeys import onboard
from tests.integration.teaching import PHOTO, STEP_ONE, STEP_TWO, VIDEO, invite, record_typed_lesson, said

runner = CliRunner()


def maalem(*args: str) -> str:
    """Run `maalem ARGS` and return its output; it must succeed."""
    result = runner.invoke(cli, list(args))
    assert result.exit_code == 0, result.output
    return result.output


async def invited_master(app: App, memory: MemorySender) -> MemoryUser:
    """A master invited with `maalem users invite-master`, linked by the Telegram-style deep link code."""
    out = maalem("users", "invite-master", "Hassan Benali", "--craft", "zellige", "--region", "fes-meknes",
                 "--language", "en", "--city", "Fès", "--bot", "@maalem_bot")  # fmt: skip
    code = re.search(r"code: (\w+)", out)
    assert code is not None and f"https://t.me/maalem_bot?start={code[1]}" in out
    master = MemoryUser(app, memory, "master-1")
    [welcome, consent] = await master.say(f"/start {code[1]}")
    assert welcome.text == said(app, "teach.welcome_master", name="Hassan Benali")
    assert consent.text == said(app, "consent.master")
    await master.press("consent:adult")
    return master


async def test_review_translate_approve_from_the_command_line_reaches_the_running_bot(
    app: App, memory: MemorySender
) -> None:
    master = await invited_master(app, memory)
    await record_typed_lesson(master)
    listed = maalem("content", "review", "list")
    lesson_id = listed.split("\t")[0]
    assert "star-tiles-of-fez" in listed and "2 steps" in listed and "texts to check" in listed

    shown = maalem("content", "review", "show", lesson_id)
    assert "steps[1].caption [en] Hold the hammer" in shown
    assert "steps[1].caption [fr] Hold the hammer" in shown and "NOT TRANSLATED" in shown
    assert "steps[2].points[1].phrasing [en] tiles face down" in shown
    translated = maalem("content", "review", "translate", lesson_id)
    assert "0 translations drafted" in translated  # no model here, and it says so
    assert "not drafted: no local model to draft translations" in translated
    maalem("content", "review", "set", lesson_id, "steps[1].caption", "fr", "Tenez le marteau fermement.")
    shown = maalem("content", "review", "show", lesson_id)
    assert "steps[1].caption [fr] Tenez le marteau fermement." in shown
    bad = runner.invoke(cli, ["content", "review", "set", lesson_id, "steps[9].caption", "fr", "x"])
    assert bad.exit_code == 1 and "no 'steps[9].caption'" in bad.output

    assert "published star-tiles-of-fez" in maalem("content", "review", "approve", lesson_id)
    again = runner.invoke(cli, ["content", "review", "approve", lesson_id])
    assert again.exit_code == 1 and "approved, not waiting" in again.output

    apprentice = MemoryUser(app, memory, "apprentice-1")  # the running app learns of it at its next message
    await onboard(apprentice, "Bonjour", Lang.FRENCH)
    courses = [out for out in apprentice.inbox if out.choices][-1]
    assert "course:star-tiles-of-fez" in {c.data for c in courses.choices}
    await apprentice.press("course:star-tiles-of-fez")
    assert "Tenez le marteau fermement." in apprentice.inbox[-1].text  # the trainer's translation, approved
    await app.outbox.flush()
    assert master.inbox[-1].text == said(app, "teach.approved", lesson="Cutting a star", note="—")


async def test_a_trainer_sends_a_lesson_back_with_a_note(app: App, memory: MemorySender) -> None:
    master = await invited_master(app, memory)
    await record_typed_lesson(master)
    lesson_id = maalem("content", "review", "list").split("\t")[0]
    maalem("content", "review", "reject", lesson_id, "--note", "Film step 2 closer, please.")
    assert "no lesson is waiting" in maalem("content", "review", "list")
    await app.outbox.flush()
    note = said(app, "teach.rejected", lesson="Cutting a star", note="Film step 2 closer, please.")
    assert master.inbox[-1].text == note


async def test_export_check_import_round_trip_keeps_every_byte_and_every_credit(
    app: App, memory: MemorySender, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    master = await invited_master(app, memory)
    await record_typed_lesson(master)
    maalem("content", "review", "approve", maalem("content", "review", "list").split("\t")[0])
    exports = tmp_path / "exports"
    assert "exported star-tiles-of-fez" in maalem("content", "export", "star-tiles-of-fez", str(exports))
    pack = exports / "star-tiles-of-fez"
    assert "ok: course star-tiles-of-fez, 1 lessons, 2 steps" in maalem("content", "check", str(pack))
    refused = runner.invoke(cli, ["content", "export", "star-tiles-of-fez", str(exports)])
    assert refused.exit_code == 1 and "already exists" in refused.output

    elsewhere = tmp_path / "elsewhere"
    monkeypatch.setenv("MAALEM_DATA_DIR", str(elsewhere))  # another cooperative's server
    assert "imported star-tiles-of-fez: 2 steps" in maalem("content", "import", str(pack))
    twice = runner.invoke(cli, ["content", "import", str(pack)])
    assert twice.exit_code == 1 and "used twice" in twice.output

    published = app.settings.data_dir / "published" / "star-tiles-of-fez"
    imported = elsewhere / "published" / "star-tiles-of-fez"
    original, _ = read_pack(published, app.library, replaces=True)
    copy, errors = read_pack(imported, app.library, replaces=True)
    assert original is not None and copy is not None, errors
    for relative in pack_files(original):
        assert (imported / relative).read_bytes() == (published / relative).read_bytes(), relative
        assert (pack / relative).read_bytes() == (published / relative).read_bytes(), relative
    assert copy.model_dump(exclude={"folder"}) == original.model_dump(exclude={"folder"})
    step = copy.lessons[0].steps[1]
    assert copy.author_of(step).name == "Hassan Benali" and copy.authors[0].city == "Fès"
    assert copy.licence_of(step) == "CC-BY-SA-4.0" and step.recorded and step.consent


def test_shipped_courses_export_too(settings: Settings, tmp_path: Path) -> None:
    maalem("content", "export", "zellige", str(tmp_path))
    assert "ok: course zellige" in maalem("content", "check", str(tmp_path / "zellige"))


async def test_a_master_records_a_lesson_with_its_video_and_photo_in_maalem_chat(settings: Settings) -> None:
    """`maalem chat`'s `/video PATH` and `/photo PATH`: a master can finish a lesson from the terminal."""
    sender = TerminalSender(io.StringIO())
    app = build_app(settings, senders={TERMINAL: sender}, fetchers={TERMINAL: LocalFileFetcher(50_000_000)})
    try:
        master = TerminalChat(app, sender, "master-1")
        await master.say(f"/start {invite(app)}")
        await master.press("consent:adult")
        await master.say("/teach")
        for action in ("teach:licence:CC-BY-SA-4.0", "teach:new", "teach:craft:zellige"):
            await master.press(action)
        await master.say("Star tiles of Fez")
        await master.say("Cutting a star")
        await master.say(f"/video {VIDEO}")
        await master.say(STEP_ONE)
        await master.press("teach:no")
        await master.press("teach:step")
        await master.say(f"/photo {PHOTO}")
        await master.say(STEP_TWO)
        await master.press("teach:no")
        await master.press("teach:finish")
        with app.sessions() as session:
            steps = session.scalars(select(AuthoredStep).order_by(AuthoredStep.id)).all()
        assert [(s.media_kind, Path(s.media_path).read_bytes()) for s in steps] == [
            ("video", VIDEO.read_bytes()),
            ("photo", PHOTO.read_bytes()),
        ]
        assert said(app, "teach.submitted", lesson="Cutting a star", steps=2) in sender.out.getvalue()
    finally:
        app.close()
