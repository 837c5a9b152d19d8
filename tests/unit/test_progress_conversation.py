"""The learner's side in the chat: /progress with streak, badges, certificate; /pause; review buttons."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from sqlalchemy import select

from bot.app import App
from bot.memory import MemoryUser
from lessons.course import Course
from lessons.languages import Lang
from progress.models import Answer, Certificate, ReviewCard, User, utcnow
from tests.integration.journeys import onboard


async def finish_course(learner: MemoryUser, course: Course) -> None:
    """Every step of every lesson, each checkpoint answered right the first time."""
    for index, lesson in enumerate(course.lessons):
        await learner.press(f"course:{course.id}" if index == 0 else f"lesson:{lesson.id}")
        for step in lesson.steps:
            if step.checkpoint is None:
                await learner.press("next")
                continue
            words = [kp.phrasings[Lang.FRENCH][0] for kp in step.checkpoint.key_points]
            await learner.say(" ; ".join(words))


async def test_the_certificate_is_sent_once_when_earned_and_progress_links_to_it(
    app: App, learner: MemoryUser
) -> None:
    await onboard(learner)
    [none] = await learner.say("/progress")
    assert "/courses" in none.text
    with app.sessions() as session:  # the memory channel gives no name: the learner chose one to print
        session.scalars(select(User)).one().certificate_name = "Fatima Zahra"
        session.commit()
    course = app.library.courses["zellige"]
    await finish_course(learner, course)
    [document] = [m for m in learner.inbox if m.media_kind == "document"]
    assert document.media and document.media.endswith(".pdf")
    with app.sessions() as session:
        certificate = session.scalars(select(Certificate)).one()
    assert certificate.code in document.text and Path(document.media).read_bytes().startswith(b"%PDF-")
    assert certificate.master_name == "Maâlem Abdelhaq Lahlou"
    for _ in range(2):
        [summary] = await learner.say("/progress")  # a link, not the PDF again
        assert f"{app.settings.public_base_url()}/verify/{certificate.code}" in summary.text
    total = sum(len(lesson.steps) for lesson in course.lessons)
    assert f"{total}/{total}" in summary.text
    assert "Série : 1 jour(s) de travail d'affilée" in summary.text
    assert "Premier pas" in summary.text and "Cours terminé" in summary.text
    assert all(lesson.title[Lang.FRENCH] in summary.text for lesson in course.lessons)
    assert len([m for m in learner.inbox if m.media_kind == "document"]) == 1
    await learner.say("/forget")
    await learner.press("forget:yes")
    with app.sessions() as session:
        assert session.scalar(select(Certificate)) is None
    assert not (app.settings.data_dir / "certificates" / str(certificate.user_id)).exists()


async def test_a_streak_needs_work_not_just_opening(app: App, learner: MemoryUser) -> None:
    await onboard(learner)
    await learner.press("course:zellige")
    await learner.press("next")
    with app.sessions() as session:
        user = session.scalars(select(User)).one()
        for answer in (Answer(user_id=user.id, course_id="zellige", lesson_id="cutting", step_id="x"),):
            answer.created_at = utcnow() - timedelta(days=1)
            session.add(answer)
        session.commit()
    [summary] = await learner.say("/progress")
    assert "Série : 2 jour(s)" in summary.text
    for _ in range(3):
        await learner.say("/progress")  # opening the app is not work
    [summary] = await learner.say("/progress")
    assert "Série : 2 jour(s)" in summary.text


async def test_pause_stops_and_restarts_reminders(app: App, learner: MemoryUser) -> None:
    await onboard(learner)
    [paused] = await learner.say("/pause")
    assert "/pause" in paused.text and "plus de rappels" in paused.text
    [resumed] = await learner.say("/pause")
    assert "reprennent" in resumed.text
    with app.sessions() as session:
        user = session.scalars(select(User)).one()
        assert not user.reminders_paused
        app.notifier.notify(session, user.id, "reminder.choose", kind="reminder", choices=())
        session.commit()
    await app.outbox.flush()
    [help_text] = await learner.say("/help")
    assert "/pause" in help_text.text
    # the button on a reminder only ever pauses, even pressed twice
    for _ in range(2):
        [note] = await learner.send(learner.message("button", "pause"))
        assert "plus de rappels" in note.text
    with app.sessions() as session:
        assert session.scalars(select(User)).one().reminders_paused


async def test_review_buttons_answer_and_space_the_next_review(app: App, learner: MemoryUser) -> None:
    await onboard(learner)
    course = app.library.courses["zellige"]
    lesson = course.lessons[0]
    step = next(s for s in lesson.steps if s.checkpoint)
    with app.sessions() as session:
        user = session.scalars(select(User)).one()
        card = ReviewCard(
            user_id=user.id,
            course_id=course.id,
            lesson_id=lesson.id,
            step_id=step.id,
            due_at=utcnow(),
            asked_at=utcnow(),
        )
        session.add(card)
        session.commit()
        card_id = card.id
    [remembered] = await learner.send(learner.message("button", f"review:{card_id}:1"))
    assert "Bravo" in remembered.text and "3 jours" in remembered.text
    assert step.checkpoint is not None
    assert step.checkpoint.key_points[0].phrasings[Lang.FRENCH][0] in remembered.text
    [stale] = await learner.send(learner.message("button", "review:999:1"))
    assert stale.text.startswith("Ce bouton")
    with app.sessions() as session:
        assert session.get_one(ReviewCard, card_id).successes == 1


async def test_the_name_to_print_is_asked_once_with_the_platform_name_offered(
    app: App, learner: MemoryUser
) -> None:
    await onboard(learner)
    with app.sessions() as session:
        session.scalars(select(User)).one().display_name = "Fatima Z."
        session.commit()
    await finish_course(learner, app.library.courses["zellige"])
    asked = [m for m in learner.inbox if m.text == app.catalog.t(Lang.FRENCH, "cert.ask_name")]
    assert [c.label for c in asked[-1].choices] == ["Fatima Z."]
    assert not [m for m in learner.inbox if m.media_kind == "document"]  # held until the name is given
    [refused] = await learner.say("Fatima\x07 1234")
    assert refused.text == app.catalog.t(Lang.FRENCH, "cert.name_invalid")
    replies = await learner.say("  فاطمة   الزهراء ")
    [document] = [m for m in replies if m.media_kind == "document"]
    assert [
        m
        for m in replies
        if m.text == app.catalog.t(Lang.FRENCH, "cert.name_saved", {"name": "فاطمة الزهراء"})
    ]
    with app.sessions() as session:
        assert session.scalars(select(User)).one().certificate_name == "فاطمة الزهراء"
        assert session.scalars(select(Certificate)).one().learner_name == "فاطمة الزهراء"
    [summary] = await learner.say("/progress")  # never asked again
    [stale] = await learner.press("certname:platform")
    assert stale.text == app.catalog.t(Lang.FRENCH, "button.stale")
    with app.sessions() as session:
        assert session.scalars(select(User)).one().certificate_name == "فاطمة الزهراء"


async def test_the_platform_name_button_is_accepted(app: App, learner: MemoryUser) -> None:
    await onboard(learner)
    with app.sessions() as session:
        session.scalars(select(User)).one().display_name = "ⴼⴰⴹⵎⴰ"
        session.commit()
    await finish_course(learner, app.library.courses["zellige"])
    replies = await learner.press("certname:platform")
    assert [m.media_kind for m in replies] == ["document", None] and "ⴼⴰⴹⵎⴰ" in replies[1].text


async def test_the_certificate_offers_the_name_chosen_at_onboarding_first(
    app: App, learner: MemoryUser
) -> None:
    await onboard(learner, name="Nour Elhouda")
    with app.sessions() as session:
        session.scalars(select(User)).one().display_name = "nour_88"  # not a printable name: not offered
        session.commit()
    await finish_course(learner, app.library.courses["zellige"])
    asked = [m for m in learner.inbox if m.text == app.catalog.t(Lang.FRENCH, "cert.ask_name")]
    assert [(c.label, c.data) for c in asked[-1].choices] == [("Nour Elhouda", "certname:preferred")]
    replies = await learner.press("certname:preferred")
    assert [m.media_kind for m in replies] == ["document", None] and "Nour Elhouda" in replies[1].text
    with app.sessions() as session:
        assert session.scalars(select(Certificate)).one().learner_name == "Nour Elhouda"


async def test_only_a_name_given_in_reply_to_the_name_question_is_taken(
    app: App, learner: MemoryUser
) -> None:
    await onboard(learner)
    await finish_course(learner, app.library.courses["zellige"])
    asked = app.catalog.t(Lang.FRENCH, "cert.ask_name")
    assert asked in [m.text for m in learner.inbox[-3:]]
    answer = await learner.say("Il faut mouiller les carreaux avant de poser le mortier dessus")
    assert [m.text[0] for m in answer] == ["🏅"]  # the tutor's answer: the course is done
    summary = await learner.say("/progress")  # a command goes its way, and the question is asked again
    assert summary[-1].text.startswith("Tes progrès") and asked in [m.text for m in summary]
    await learner.press("courses")
    ignored = await learner.say("Zellige")  # the question is no longer the last one asked
    assert all(m.meta.get("key") != "cert.name_saved" for m in ignored)
    with app.sessions() as session:
        assert session.scalars(select(User)).one().certificate_name is None
    await learner.say("/progress")
    replies = await learner.say("Fatima Zahra")
    assert [m.media_kind for m in replies] == ["document", None] and "Fatima Zahra" in replies[1].text
    with app.sessions() as session:
        assert session.scalars(select(User)).one().certificate_name == "Fatima Zahra"
