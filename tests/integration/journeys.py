"""Helpers that walk a learner through the shipped content via the in-memory channel."""

from __future__ import annotations

from bot.memory import MemoryUser
from lessons.course import Course, Step
from lessons.languages import GENDERED, Lang
from lessons.messages import Outgoing


async def onboard(
    learner: MemoryUser,
    first: str = "Bonjour",
    lang: Lang = Lang.FRENCH,
    *,
    name: str | None = None,
    form: str = "skip",
) -> None:
    """First contact to the course menu, by buttons only (and the first word), unless a `name` to be called
    by is typed; addressed in `form` where the language asks."""
    await to_cooperative_question(learner, first, lang, name=name, form=form)
    await learner.press("cooperative:skip")


async def to_cooperative_question(
    learner: MemoryUser,
    first: str = "Bonjour",
    lang: Lang = Lang.FRENCH,
    *,
    name: str | None = None,
    form: str = "skip",
) -> None:
    """Onboarding up to the question of the cooperative's code (Fès-Meknès, zellige)."""
    await learner.say(first)
    await learner.press(f"lang:{lang.value}")
    await learner.press("consent:adult")
    await (learner.say(name) if name else learner.press("name:skip"))
    if lang in GENDERED:
        await learner.press(f"address:{form}")
    await learner.press("region:fes-meknes")
    await learner.press("craft:zellige")


def answer_to(step: Step, lang: Lang) -> str:
    """An answer to the step's checkpoint naming every key point."""
    assert step.checkpoint is not None
    words = [
        kp.phrasings.get(lang, next(iter(kp.phrasings.values())))[0] for kp in step.checkpoint.key_points
    ]
    return " ; ".join(words)


def right_answer(course: Course, lesson_index: int, lang: Lang) -> tuple[int, str]:
    """The index of the lesson's first checkpoint and an answer naming every key point."""
    for index, step in enumerate(course.lessons[lesson_index].steps):
        if step.checkpoint:
            return index, answer_to(step, lang)
    raise AssertionError("lesson has no checkpoint")


async def to_checkpoint(learner: MemoryUser, course: Course, lesson_index: int = 0) -> list[Outgoing]:
    """Start the course and press Next until its first checkpoint question is asked."""
    replies = await learner.press(f"course:{course.id}")
    index, _ = right_answer(course, lesson_index, Lang.FRENCH)
    for _ in range(index):
        replies = await learner.press("next")
    return replies
