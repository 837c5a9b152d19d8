"""Who may act on whom from the chat: trainers and masters within their scope, learners in their region."""

from __future__ import annotations

from sqlalchemy import select, update

from bot.app import App
from bot.memory import MemorySender, MemoryUser
from lessons.languages import Lang
from progress.models import Answer, ChannelIdentity, ReviewItem, Role, User
from tests.integration.journeys import onboard, right_answer, to_checkpoint, to_cooperative_question


def _set(app: App, chat: MemoryUser, **values: object) -> None:
    who = select(ChannelIdentity.user_id).where(ChannelIdentity.external_id == chat.chat_id)
    with app.sessions() as session, session.begin():
        session.execute(update(User).where(User.id.in_(who)).values(**values))


async def test_a_trainer_grades_in_the_chat_only_answers_listed_to_them(
    app: App, memory: MemorySender
) -> None:
    course = app.library.courses["zellige"]
    index, _ = right_answer(course, 0, Lang.FRENCH)
    author = course.author_of(course.lessons[0].steps[index]).id
    learner = MemoryUser(app, memory, "learner-mrk")
    await onboard(learner, name="Salma Idrissi")
    _set(app, learner, region_code="marrakech-safi", cooperative_code="MRK-TAD-01")
    await to_checkpoint(learner, course)
    await learner.say("je ne sais pas")
    trainer = MemoryUser(app, memory, "trainer-fes")
    await onboard(trainer)
    _set(app, trainer, role=Role.TRAINER, cooperative_code="FES-ZEL-01", author_id=author)
    with app.sessions() as session:
        answer = session.scalars(select(Answer)).one()
        before = (answer.passed, answer.graded_by)

    [listed] = await trainer.say("/answers")  # a Fès trainer: the Marrakech learner's answer is not theirs
    assert listed.text == app.catalog.t(Lang.FRENCH, "answers.none")
    [refused] = await trainer.send(trainer.message("button", f"answers:pass:{answer.id}"))  # forged
    assert refused.text == app.catalog.t(Lang.FRENCH, "answers.not_offered")
    with app.sessions() as session:
        answer = session.get_one(Answer, answer.id)
        assert (answer.passed, answer.graded_by) == before
        assert all(r.decided_by is None for r in session.scalars(select(ReviewItem)))

    _set(app, learner, region_code="fes-meknes", cooperative_code="FES-ZEL-01")  # now inside the scope
    [item] = await trainer.say("/answers")
    assert f"answers:pass:{answer.id}" in {c.data for c in item.choices}
    assert item.text.startswith("Salma Idrissi") and f"#{answer.user_id}" not in item.text
    await trainer.press(f"answers:pass:{answer.id}")
    with app.sessions() as session:
        assert session.get_one(Answer, answer.id).passed is True


async def test_a_learner_joins_only_a_cooperative_of_their_region(app: App, learner: MemoryUser) -> None:
    await to_cooperative_question(learner)
    [refused] = await learner.say("MRK-TAD-01")  # a Marrakech cooperative, from Fès
    name = app.library.cooperatives["MRK-TAD-01"].name
    assert refused.text == app.catalog.t(Lang.FRENCH, "cooperative.other_region", {"name": name})
    assert [c.data for c in refused.choices] == ["cooperative:skip"]
    with app.sessions() as session:
        user = session.scalars(select(User)).one()
        assert (user.cooperative_code, user.stage) == (None, "cooperative")
    [joined, _] = await learner.say("FES-ZEL-01")
    assert joined.text == app.catalog.t(
        Lang.FRENCH, "cooperative.joined", {"name": app.library.cooperatives["FES-ZEL-01"].name}
    )
