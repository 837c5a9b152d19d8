"""A checkpoint is passed or it is not: what a person still has to look at is never counted as passed."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from bot.app import App
from bot.memory import MemorySender, MemoryUser
from bot.settings import Settings
from lessons.content import scan
from lessons.languages import Lang
from progress.certificates import earned
from progress.models import Answer, Certificate, Enrolment, ReviewItem, StepProgress
from tests.conftest import CONTENT
from tests.integration.dashboard_world import ScriptedTranscriber, voice_note, world_app
from tests.integration.journeys import answer_to, onboard, right_answer, to_checkpoint


async def test_not_knowing_at_every_checkpoint_ends_the_course_with_no_checkpoint_passed(
    app: App, learner: MemoryUser
) -> None:
    await onboard(learner)
    course = app.library.courses["zellige"]
    await learner.press(f"course:{course.id}")
    for _ in range(200):
        offered = [c.data for c in learner.inbox[-1].choices]
        if offered == ["courses"]:
            break
        nxt = next((d for d in offered if d == "next" or d.startswith("lesson:")), None)
        await (learner.press(nxt) if nxt else learner.say("je ne sais pas"))
    else:
        raise AssertionError("the course never ended")
    checkpoints = {s.id for lesson in course.lessons for s in lesson.steps if s.checkpoint}
    with app.sessions() as session:
        enrolment = session.scalars(select(Enrolment)).one()
        assert enrolment.completed_at is not None
        done = set(session.scalars(select(StepProgress.step_id)))
        assert done and not done & checkpoints
        assert earned(session, enrolment.user_id, course) is not True
        assert session.scalars(select(Certificate)).first() is None


async def test_a_better_answer_after_a_lesson_ended_for_a_person_is_graded_and_passes(
    app: App, learner: MemoryUser
) -> None:
    await onboard(learner)
    course = app.library.courses["zellige"]
    await to_checkpoint(learner, course)
    for _ in range(3):
        replies = await learner.say("je ne sais pas")
    assert "lesson:" in " ".join(c.data for c in replies[-1].choices)  # the lesson ended, left for a person
    index, answer = right_answer(course, 0, Lang.FRENCH)
    step_id = course.lessons[0].steps[index].id
    graded = await learner.say(answer)
    assert graded[0].text.startswith("✅")
    with app.sessions() as session:
        assert session.scalars(select(StepProgress).where(StepProgress.step_id == step_id)).one()
        assert [a.passed for a in session.scalars(select(Answer).order_by(Answer.id))][-1] is True
        assert [r.status for r in session.scalars(select(ReviewItem))] == ["superseded"]


async def test_a_checkpoint_left_for_a_person_mid_lesson_is_offered_again_at_its_end_and_a_pass_earns(
    app: App, learner: MemoryUser
) -> None:
    await onboard(learner)
    course = app.library.courses["zellige"]
    middle = next(s for s in course.lessons[-1].steps[:-1] if s.checkpoint)
    assert middle.checkpoint is not None
    replies = await learner.press(f"course:{course.id}")
    while (offered := next(o.choices for o in reversed(learner.inbox) if o.choices))[0].data != "courses":
        if offered[0].data.startswith(("next", "lesson:")):
            replies = await learner.press(offered[0].data)
            continue
        with app.sessions() as session:  # at a checkpoint: right, except the middle one of the last lesson
            enrolment = session.scalars(select(Enrolment)).one()
            step = course.lesson(enrolment.lesson_id).steps[enrolment.step_index]
        replies = await learner.say("je ne sais pas" if step is middle else answer_to(step, Lang.FRENCH))
    question = middle.checkpoint.question[Lang.FRENCH]
    assert question in replies[-2].text  # offered again at the end of the lesson, before its buttons
    assert not [r for r in replies if r.text.startswith("🎓")]  # no certificate while a person has to look
    graded = await learner.say(answer_to(middle, Lang.FRENCH))
    assert any(r.text.startswith("✅") for r in graded)
    assert all(question not in r.text for r in graded)  # nothing left to answer again
    assert any(r.text.startswith("🎓") for r in graded)  # earned now: the certificate's name is asked
    with app.sessions() as session:
        assert session.scalars(select(StepProgress).where(StepProgress.step_id == middle.id)).one()
        assert [r.status for r in session.scalars(select(ReviewItem))] == ["superseded"]
        assert earned(session, enrolment.user_id, course) is True


async def test_a_better_answer_spoken_once_the_lesson_ended_for_a_person_is_kept_with_its_voice_and_graded(
    settings: Settings, memory: MemorySender, tmp_path: Path
) -> None:
    library, _ = scan(CONTENT)
    index, answer = right_answer(library.courses["zellige"], 0, Lang.FRENCH)
    app = world_app(settings, memory, ScriptedTranscriber(answer))  # the voice note says the right answer
    try:
        learner = MemoryUser(app, memory, "learner-1")
        await onboard(learner)
        course = app.library.courses["zellige"]
        await to_checkpoint(learner, course)
        for _ in range(3):
            await learner.say("je ne sais pas")
        graded = await learner.voice(str(voice_note(tmp_path / "better.ogg")))
        assert any(r.text.startswith("✅") for r in graded)
        with app.sessions() as session:
            better = session.scalars(select(Answer).order_by(Answer.id.desc())).first()
            assert better is not None and better.audio_path and better.passed is True
            assert better.step_id == course.lessons[0].steps[index].id
            assert [r.status for r in session.scalars(select(ReviewItem))] == ["superseded"]
    finally:
        app.close()
