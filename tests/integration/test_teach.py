"""Masters teach by voice: invitation, a lesson from real video and voice notes, approval, an apprentice."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update

from bot.app import App, build_app
from bot.memory import CHANNEL, MemorySender, MemoryUser
from bot.settings import Settings
from bot.terminal import LocalFileFetcher
from lessons.languages import Lang
from lessons.messages import Outgoing
from progress.authoring import submitted
from progress.models import (
    Answer,
    AuthoredLesson,
    AuthoredStep,
    Consent,
    MasterProfile,
    Question,
    ReviewItem,
    StepProgress,
    TeachSession,
    User,
    utcnow,
)
from speech.transcribe import FasterWhisper
from speech.tts import CACHE_FOLDER, EspeakSpeaker
from tests.integration.dashboard_world import voice_note
from tests.integration.journeys import onboard
from tests.integration.teaching import (
    SECOND_VIDEO,
    STEP_ONE,
    STEP_TWO,
    VIDEO,
    approved_lesson,
    invite,
    link,
    record_typed_lesson,
    said,
    show,
    speak,
)

pytest_plugins = ("tests.speech_fixtures",)


@pytest.fixture
def voiced(settings: Settings, memory: MemorySender, tiny_en: FasterWhisper) -> Iterator[App]:
    """The whole app with the real tiny.en transcriber."""
    built = build_app(
        settings,
        transcriber=tiny_en,
        senders={CHANNEL: memory},
        fetchers={CHANNEL: LocalFileFetcher(20_000_000)},
    )
    yield built
    built.close()


def texts(replies: list[Outgoing]) -> list[str]:
    return [r.text for r in replies]


def answer_name(app: App, answer: Answer) -> str:
    with app.sessions() as session:
        return session.get_one(User, answer.user_id).display_name or f"#{answer.user_id}"


@pytest.mark.slow
async def test_a_master_teaches_by_voice_a_trainer_approves_an_apprentice_is_graded(
    voiced: App, memory: MemorySender, espeak: EspeakSpeaker, tmp_path: Path
) -> None:
    app = voiced
    notes = tmp_path / "notes"
    master = MemoryUser(app, memory, "master-1")
    welcome = await link(master, app)  # a deep link is the master's very first message
    assert welcome.text == said(app, "teach.welcome_master", name="Hassan Benali")

    [licence] = await master.say("/teach")
    assert "teach:licence:CC-BY-SA-4.0" in {c.data for c in licence.choices}
    await master.press("teach:licence:CC-BY-SA-4.0")
    await master.press("teach:new")
    [ask_title] = await master.press("teach:craft:zellige")
    assert ask_title.text == said(app, "teach.course_title")
    [heard] = await master.voice(str(speak(espeak, notes, "Cutting and laying star tiles.")))
    assert "star tiles" in heard.text and heard.meta.get("speak") == "1"  # read back, spoken where possible
    assert {c.data for c in heard.choices} == {"teach:yes", "teach:again"}
    [ask_lesson] = await master.say("Cutting and laying star tiles")  # tiny.en misheard a word: typed right
    assert ask_lesson.text == said(app, "teach.lesson_title")
    [step_one] = await master.say("Cutting a star")  # a typed title needs no confirmation
    assert step_one.text == said(app, "teach.step_media", n=1)

    [ask_voice] = await show(master, VIDEO)
    assert ask_voice.text == said(app, "teach.step_voice", n=1)
    [heard] = await master.voice(str(speak(espeak, notes, STEP_ONE)))
    assert "hammer" in heard.text.lower()
    [important] = await master.press("teach:yes")
    assert important.text == said(app, "teach.important", n=1)
    [saved] = await master.voice(str(speak(espeak, notes, "No.")))  # a spoken no
    assert saved.text == said(app, "teach.more", n=1)
    await master.press("teach:step")

    before_video, read_back = await master.voice(
        str(speak(espeak, notes, STEP_TWO))
    )  # voice first, then video
    assert before_video.text == said(app, "teach.voice_before_media")
    assert "face down" in read_back.text.lower()
    [want_media] = await master.press("teach:yes")
    assert want_media.text == said(app, "teach.step_media_after_voice", n=2)
    [important] = await show(master, SECOND_VIDEO)
    assert important.text == said(app, "teach.important", n=2)
    intro, question = await master.voice(str(speak(espeak, notes, "Yes.")))
    assert intro.text == said(app, "teach.draft_phrases")
    assert question.text == said(app, "teach.review_question", question=said(app, "draft.question"))
    [first] = await master.press("teach:yes")
    assert "face down" in first.text  # "Place", one word of the caption, is not offered
    [second] = await master.voice(str(speak(espeak, notes, "Yes.")))
    assert "close together" in second.text
    ready, more = await master.press("teach:yes")
    assert "face down • close together" in ready.text
    [thanks] = await master.press("teach:finish")
    assert "Cutting a star" in thanks.text

    with app.sessions() as session:
        [lesson] = submitted(session)
        steps = session.scalars(select(AuthoredStep).order_by(AuthoredStep.position)).all()
        assert [s.author_id for s in steps] == ["hassan-benali"] * 2
        assert {s.licence for s in steps} == {"CC-BY-SA-4.0"} and all(s.consented_at for s in steps)
        assert "hammer" in steps[0].caption["en"]["text"].lower() and steps[0].caption["fr"]["by"] == "copy"
        assert steps[0].voice_path and Path(steps[0].voice_path).is_file()  # the master's own voice is kept
        assert steps[1].checkpoint is not None and len(steps[1].checkpoint["key_points"]) == 2
        master_id = session.get_one(MasterProfile, lesson.master_id).user_id
        assert master_id is not None and session.get_one(TeachSession, master_id).state is None
        lesson_id = lesson.id

    course = app.decisions.decide(lesson_id, approve=True)
    assert course is not None and course.id in app.library.courses and course.regions == ["fes-meknes"]
    assert (course.folder / "media" / "cutting-a-star-step-1.mp4").read_bytes() == VIDEO.read_bytes()
    await app.outbox.flush(CHANNEL)
    assert master.inbox[-1].text == said(app, "teach.approved", lesson="Cutting a star", note="—")

    apprentice = MemoryUser(app, memory, "apprentice-1")
    await onboard(apprentice, "Hello", Lang.ENGLISH)
    menu = [out for out in apprentice.inbox if out.choices][-1]
    assert f"course:{course.id}" in {c.data for c in menu.choices}
    await apprentice.press(f"course:{course.id}")
    shown = await apprentice.press("next")
    assert shown[0].media and shown[0].media.endswith("cutting-a-star-step-2.mp4")
    assert "Hassan Benali" in shown[0].text
    graded = await apprentice.voice(str(speak(espeak, notes, STEP_TWO)))  # in the master's words
    assert any("Well done" in t for t in texts(graded)), texts(graded)
    with app.sessions() as session:
        answer = session.scalars(select(Answer)).one()
        assert answer.passed and answer.audio_path and answer.graded_by == "rubric"

    elsewhere = MemoryUser(app, memory, "apprentice-2")
    await elsewhere.say("Hello")
    for action in ("lang:en", "consent:adult", "name:skip", "region:oriental", "craft:zellige"):
        await elsewhere.press(action)
    [courses] = await elsewhere.press("cooperative:skip")
    assert f"course:{course.id}" not in {c.data for c in courses.choices}  # offered in the master's region


async def test_someone_who_is_not_a_master_is_refused_politely(app: App, learner: MemoryUser) -> None:
    await onboard(learner)
    [refused] = await learner.say("/teach")
    assert refused.text == app.catalog.t(Lang.FRENCH, "teach.not_master")
    [forged] = await learner.send(learner.message("button", "teach:new"))  # a button never offered to them
    assert forged.text == refused.text
    with app.sessions() as session:
        assert session.scalars(select(TeachSession)).first() is None
        assert session.scalars(select(User)).one().role == "apprentice"


async def test_invitation_codes_are_one_time_and_can_be_typed(app: App, memory: MemorySender) -> None:
    code = invite(app)
    wrong = MemoryUser(app, memory, "someone")
    [invalid] = await wrong.say("/start ABCDEFGHJK")
    assert invalid.text == app.catalog.t(app.settings.default_language, "teach.invite_invalid")
    master = MemoryUser(app, memory, "master-1")
    await master.say("Salam")
    await master.press("lang:en")
    [linked, consent] = await master.say(code.lower())  # typed, in any case
    assert linked.text == said(app, "teach.welcome_master", name="Hassan Benali")
    assert consent.text == said(app, "consent.master")
    [again] = await wrong.say(f"/start {code}")
    assert again.text == app.catalog.t(app.settings.default_language, "teach.invite_invalid")
    with app.sessions() as session:
        profile = session.scalars(select(MasterProfile)).one()
        user = session.get_one(User, profile.user_id)
        assert (user.role, user.author_id, profile.invite_hash) == ("master", "hassan-benali", None)


async def test_out_of_order_media_and_a_session_resumed_after_a_restart_and_a_long_silence(
    settings: Settings, app: App, memory: MemorySender
) -> None:
    master = MemoryUser(app, memory, "master-1")
    await link(master, app)
    [early] = await master.say("/teach")
    assert early.choices
    [later, again] = await show(master, VIDEO)  # a video before the licence is agreed
    assert later.text == said(app, "teach.media_later") and again.choices == early.choices
    for step in ("teach:licence:CC-BY-SA-4.0", "teach:new", "teach:craft:zellige"):
        await master.press(step)
    await master.say("Star tiles of Fez")
    await master.say("Cutting a star")
    await show(master, VIDEO)
    [twice] = await show(master, SECOND_VIDEO)  # two videos in a row
    assert twice.text == said(app, "teach.second_media", n=1)
    replaced, ask_voice = await master.press("teach:replace")
    assert replaced.text == said(app, "teach.media_replaced")
    assert ask_voice.text == said(app, "teach.step_voice", n=1)
    app.close()

    restarted = build_app(
        settings, senders={CHANNEL: memory}, fetchers={CHANNEL: LocalFileFetcher(20_000_000)}
    )
    try:
        master = MemoryUser(restarted, memory, "master-1")
        where, ask = await master.say("/teach")
        assert where.text == said(restarted, "teach.resume", lesson="Cutting a star", n=1)
        assert ask.text == said(restarted, "teach.step_voice", n=1)
        with restarted.sessions() as session:
            session.execute(update(TeachSession).values(updated_at=utcnow() - timedelta(hours=5)))
            session.commit()
        back, important = await master.say(STEP_ONE)
        assert back.text == said(restarted, "teach.resume", lesson="Cutting a star", n=1)
        assert important.text == said(restarted, "teach.important", n=1)
        await master.press("teach:no")
        await master.press("teach:finish")
        with restarted.sessions() as session:
            step = session.scalars(select(AuthoredStep)).one()
            assert Path(step.media_path).read_bytes() == SECOND_VIDEO.read_bytes()
            assert session.get_one(TeachSession, step.lesson_id).state is None
    finally:
        restarted.close()


@pytest.mark.slow
async def test_a_master_hears_an_answer_replies_by_voice_and_overrides_the_grade(
    voiced: App, memory: MemorySender, espeak: EspeakSpeaker, tmp_path: Path
) -> None:
    app = voiced
    master, course = await approved_lesson(app, memory)
    apprentice = MemoryUser(app, memory, "apprentice-1")
    await onboard(apprentice, "Hello", Lang.ENGLISH)
    await apprentice.press(f"course:{course.id}")
    await apprentice.press("next")
    await apprentice.voice(str(speak(espeak, tmp_path, "The tiles go face down.")))  # half the rubric

    [item] = await master.say("/answers")
    with app.sessions() as session:
        answer = session.scalars(select(Answer)).one()
    assert answer.passed is False and answer.audio_path
    assert item.voice == answer.audio_path  # the master hears the apprentice's own voice
    assert "face down" in item.text and said(app, "answers.grade_not_yet") in item.text
    assert {c.data for c in item.choices} == {f"answers:{a}:{answer.id}" for a in ("reply", "pass", "fail")}
    [prompt] = await master.press(f"answers:reply:{answer.id}")
    assert prompt.text == said(app, "answers.reply_prompt", learner=answer_name(app, answer))
    reply_note = speak(espeak, tmp_path / "master", "Good start. Now press the tiles close together.")
    [sent] = await master.voice(str(reply_note))
    assert sent.text == said(app, "answers.reply_sent", learner=answer_name(app, answer))
    await app.outbox.flush(CHANNEL)
    delivered = apprentice.inbox[-1]
    assert delivered.voice and Path(delivered.voice).read_bytes() == reply_note.read_bytes()
    assert "Hassan Benali" in delivered.text

    [done] = await master.press(f"answers:pass:{answer.id}")
    assert "passed" in done.text
    await app.outbox.flush(CHANNEL)
    notice, ask_name = apprentice.inbox[-2:]  # the pass completes the course: certificate earned
    assert "Hassan Benali" in notice.text and "passed" in notice.text
    assert ask_name.meta["key"] == "cert.ask_name"
    with app.sessions() as session:
        answer = session.get_one(Answer, answer.id)
        review = session.scalars(select(ReviewItem)).one()
        assert (answer.passed, answer.graded_by) == (True, "human")
        assert (review.status, review.decision_passed, review.decision_note) == (
            "overridden",
            True,
            "master: Hassan Benali",
        )
        assert session.scalars(select(StepProgress).where(StepProgress.step_id == answer.step_id)).one()


async def test_a_master_who_is_forgotten_leaves_no_session_and_published_work_stays_credited(
    app: App, memory: MemorySender
) -> None:
    master = MemoryUser(app, memory, "master-1")
    await link(master, app)
    await record_typed_lesson(master)
    await master.say("/teach")
    await master.press("teach:new")  # a second lesson left half-way
    await master.say("/forget")
    await master.press("forget:yes")
    with app.sessions() as session:
        assert session.scalars(select(TeachSession)).first() is None
        assert session.scalars(select(User).where(User.role == "master")).first() is None
        profile = session.scalars(select(MasterProfile)).one()
        assert (profile.user_id, profile.author_id) == (None, "hassan-benali")
        assert session.scalars(select(AuthoredLesson)).first() is None  # unpublished: erased (#14, item 7)


async def test_an_invited_master_consents_before_anything_they_record_is_kept(
    app: App, memory: MemorySender
) -> None:
    master = MemoryUser(app, memory, "master-1")
    [_, consent] = await master.say(f"/start {invite(app)}")
    assert "trainers of your cooperative and of your region" in consent.text
    assert "administrators" in consent.text
    [asked] = await master.say("/teach")  # no teaching before consent: the question again
    assert asked.text == consent.text
    await show(master, VIDEO)
    with app.sessions() as session:
        assert session.scalars(select(TeachSession)).first() is None
        assert session.scalars(select(Consent)).first() is None
    assert not (app.settings.data_dir / "authoring").exists() or not any(
        (app.settings.data_dir / "authoring").rglob("*.mp4")
    )
    await master.press("consent:adult")
    with app.sessions() as session:
        assert session.scalars(select(Consent.kind)).one() == "teaching_voice_and_video"
    [licence] = await master.say("/teach")
    assert licence.choices


async def test_a_master_who_refuses_consent_is_unlinked_and_nothing_of_them_is_kept(
    app: App, memory: MemorySender
) -> None:
    master = MemoryUser(app, memory, "master-1")
    await master.say(f"/start {invite(app)}")
    [declined] = await master.press("consent:no")
    assert declined.text == said(app, "consent.master_declined")
    with app.sessions() as session:
        assert session.scalars(select(User)).first() is None
        profile = session.scalars(select(MasterProfile)).one()  # the cooperative's record of the master stays
        assert profile.user_id is None


@pytest.fixture
def spoken(settings: Settings, memory: MemorySender) -> Iterator[App]:
    """The whole app with real espeak-ng speech for messages read aloud."""
    speaker = EspeakSpeaker(settings.data_dir / CACHE_FOLDER)
    built = build_app(
        settings, speaker=speaker, senders={CHANNEL: memory}, fetchers={CHANNEL: LocalFileFetcher(20_000_000)}
    )
    yield built
    built.close()


async def test_a_masters_mydata_lists_their_lessons_and_forget_erases_the_unpublished_ones(
    spoken: App, memory: MemorySender
) -> None:
    app = spoken
    master = MemoryUser(app, memory, "master-1")
    await link(master, app)
    await record_typed_lesson(master)
    with app.sessions() as session:
        published_id = session.scalars(select(AuthoredLesson.id)).one()
    assert app.decisions.decide(published_id, approve=True) is not None
    await record_typed_lesson(master)  # a second lesson, waiting for a trainer
    with app.sessions() as session:
        [draft] = submitted(session)
    drafts = app.settings.data_dir / "authoring" / str(draft.id)
    assert any(drafts.iterdir())
    cache = app.settings.data_dir / CACHE_FOLDER
    read_aloud = {Path(out.voice) for out in master.inbox if out.voice}  # the drafted checkpoint, spoken
    assert read_aloud and all(path.parent == cache and path.exists() for path in read_aloud)

    [export, told] = await master.say("/mydata")
    data = json.loads(Path(export.media).read_text(encoding="utf-8"))  # type: ignore[arg-type]
    assert {lesson["status"] for lesson in data["authored_lessons"]} == {"approved", "submitted"}
    captions = [step["caption"]["en"]["text"] for step in data["authored_steps"]]
    assert captions.count(STEP_TWO) == 2
    assert any(step.get("checkpoint") for step in data["authored_steps"])
    assert told.text == said(app, "privacy.export_authored")

    await master.say("/forget")
    await master.press("forget:yes")
    with app.sessions() as session:
        assert submitted(session) == []  # gone from the approval queue
        assert session.scalars(select(AuthoredLesson.id)).all() == [published_id]  # stays, unlinked
        assert session.scalars(select(AuthoredStep.lesson_id)).all() == [published_id] * 2
        assert session.scalars(select(MasterProfile.user_id)).one() is None
    assert not drafts.exists()
    assert not any(path.exists() for path in read_aloud)


async def test_a_maalma_who_asked_the_feminine_is_thanked_as_a_maalma(app: App, memory: MemorySender) -> None:
    master = MemoryUser(app, memory, "master-1")
    await master.say(f"/start {invite(app, name='Fatima Tazi', lang=Lang.FRENCH)}")
    [address] = await master.press("consent:adult")  # no name question: it comes with the master profile
    assert [c.data for c in address.choices] == ["address:f", "address:m", "address:skip"]
    await master.press("address:f")
    replies = await record_typed_lesson(master)
    thanks = app.catalog.t(Lang.FRENCH, "teach.submitted", {"lesson": "Cutting a star", "steps": 2}, form="f")
    assert thanks.startswith("Merci, maâlma !") and thanks in [r.text for r in replies]


async def _course_with_a_question(
    app: App, memory: MemorySender, ask: str | Path
) -> tuple[MemoryUser, MemoryUser]:
    """A master's approved lesson; a French apprentice asks them something at its first step (typed, or a
    voice note), then answers its checkpoint."""
    master, course = await approved_lesson(app, memory)
    apprentice = MemoryUser(app, memory, "apprentice-1")
    await onboard(apprentice)
    await apprentice.press(f"course:{course.id}")
    await apprentice.press("ask")
    [received] = await (apprentice.voice(str(ask)) if isinstance(ask, Path) else apprentice.say(ask))
    assert received.text == app.catalog.t(Lang.FRENCH, "ask.received")
    await apprentice.press("next")
    await apprentice.say("tiles face down")
    await app.outbox.flush(CHANNEL)
    return master, apprentice


async def test_a_question_reaches_the_master_who_answers_it_from_the_chat(
    app: App, memory: MemorySender
) -> None:
    master, apprentice = await _course_with_a_question(app, memory, "Avec quelle force faut-il frapper ?")
    with app.sessions() as session:
        question = session.scalars(select(Question)).one()
        answer = session.scalars(select(Answer)).one()
    told = next(m for m in master.inbox if m.meta.get("key") == "questions.new")
    assert "Avec quelle force faut-il frapper ?" in told.text and "Cutting a star" in told.text
    assert [c.data for c in told.choices] == [f"questions:reply:{question.id}"]
    assert told.choices[0].label == said(app, "button.answers_reply")  # in the master's language

    first, then = await master.say("/answers")  # open questions first
    assert "Avec quelle force" in first.text and first.choices[0].data == f"questions:reply:{question.id}"
    assert then.choices[0].data == f"answers:reply:{answer.id}"
    [prompt] = await master.press(f"questions:reply:{question.id}")
    assert prompt.text == said(app, "answers.reply_prompt", learner=answer_name(app, answer))
    [sent] = await master.say("Gently: let the hammer do the work.")
    assert sent.text == said(app, "answers.reply_sent", learner=answer_name(app, answer))
    await app.outbox.flush(CHANNEL)
    delivered = apprentice.inbox[-1]
    assert delivered.text == app.catalog.t(
        Lang.FRENCH,
        "questions.master_text",
        {
            "master": "Hassan Benali",
            "lesson": "Cutting a star",
            "n": 1,
            "text": "Gently: let the hammer do the work.",
        },
    )
    with app.sessions() as session:
        question = session.get_one(Question, question.id)
        assert (
            question.answered_at is not None and question.answer_text == "Gently: let the hammer do the work."
        )
        assert question.answered_by == session.scalars(select(User.id).where(User.role == "master")).one()
    [again] = await master.press(f"questions:reply:{question.id}")
    assert again.text == said(app, "questions.answered_already")
    [only] = await master.say("/answers")  # answered: no longer listed
    assert only.choices[0].data == f"answers:reply:{answer.id}"


async def test_a_question_asked_by_voice_is_heard_by_the_master_who_answers_by_voice_and_forget_erases_it(
    app: App, memory: MemorySender, tmp_path: Path
) -> None:
    asked, reply = voice_note(tmp_path / "question.ogg"), voice_note(tmp_path / "reply.ogg", 2.0)
    master, apprentice = await _course_with_a_question(app, memory, asked)
    with app.sessions() as session:
        question = session.scalars(select(Question)).one()
        learner = question.user_id
    assert question.audio_path and Path(question.audio_path).read_bytes() == asked.read_bytes()
    told = next(m for m in master.inbox if m.meta.get("key") == "questions.new")
    assert told.voice == question.audio_path and said(app, "questions.voice") in told.text
    await master.press(f"questions:reply:{question.id}")
    await master.voice(str(reply))
    await app.outbox.flush(CHANNEL)
    delivered = apprentice.inbox[-1]
    assert delivered.voice and Path(delivered.voice).read_bytes() == reply.read_bytes()
    assert delivered.text.startswith("🎤 Le maître Hassan Benali")
    with app.sessions() as session:
        reply_audio = session.get_one(Question, question.id).answer_audio_path
    assert reply_audio == delivered.voice

    [export] = (m for m in await apprentice.say("/mydata") if m.media_kind == "document")
    [kept] = json.loads(Path(export.media or "").read_text())["questions"]
    assert kept["audio_path"] == question.audio_path and kept["answer_audio_path"] == reply_audio
    await apprentice.say("/forget")
    await apprentice.press("forget:yes")
    with app.sessions() as session:
        assert session.scalars(select(Question)).first() is None
        assert session.get(User, learner) is None
    assert not Path(question.audio_path).exists() and not Path(reply_audio).exists()
