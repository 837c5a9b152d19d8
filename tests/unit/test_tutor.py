"""The tutor engine, table-driven: positions, events, replies and effects."""

from __future__ import annotations

from pathlib import Path

import pytest

from lessons.assessment import Assessment, PointVerdict
from lessons.course import Course
from lessons.languages import Lang
from lessons.tutor import (
    MAX_ATTEMPTS,
    AnsweredAgain,
    AnswerGiven,
    AskPressed,
    Begin,
    CourseDone,
    LessonDone,
    Next,
    Position,
    QuestionAsked,
    Repeat,
    Said,
    StepDone,
    Tutor,
)

L = {"ary": "د", "ar": "ع", "fr": "f", "en": "e"}


def _step(step_id: str, checkpoint: bool = False) -> dict[str, object]:
    step: dict[str, object] = {"id": step_id, "caption": {**L, "fr": f"légende {step_id}"}}
    if checkpoint:
        step["checkpoint"] = {
            "question": {**L, "fr": "Pourquoi ?"},
            "key_points": [
                {
                    "id": "a",
                    "phrasings": {"fr": ["alpha"], "ary": ["ا"], "ar": ["ا"]},
                    "hint": {**L, "fr": "pense à alpha"},
                },
                {
                    "id": "b",
                    "phrasings": {"fr": ["beta"], "ary": ["ب"], "ar": ["ب"]},
                    "hint": {**L, "fr": "pense à beta"},
                },
            ],
        }
    return step


COURSE = Course.model_validate(
    {
        "id": "demo",
        "craft": "zellige",
        "title": L,
        "summary": L,
        "authors": [{"id": "driss", "name": "Maâlem Driss"}, {"id": "aicha", "name": "Maâlma Aïcha"}],
        "master": "driss",
        "licence": "CC-BY-SA-4.0",
        "languages": ["ary", "ar", "fr", "en"],
        "lessons": [
            {
                "id": "one",
                "title": {**L, "fr": "Leçon un"},
                "steps": [_step("s1"), _step("s2", checkpoint=True)],
            },
            {"id": "two", "title": L, "steps": [{**_step("t1"), "author": "aicha"}]},
        ],
        "folder": Path("/courses/demo"),
    }
)
TUTOR = Tutor(COURSE, Lang.FRENCH)


def verdict(a: bool, b: bool, review: bool = False) -> Assessment:
    verdicts = (PointVerdict("a", a, 0.9), PointVerdict("b", b, 0.9))
    return Assessment(verdicts, a and b, 0.9, "rubric", needs_review=review)


AT_CHECKPOINT = Position("demo", "one", 1)


@pytest.mark.parametrize(
    ("position", "event", "expected_position", "reply_keys", "effects"),
    [
        (Position("demo", "one"), Begin("one"), Position("demo", "one", 0), ["step.show"], []),
        (
            Position("demo", "one", 0),
            Next(),
            AT_CHECKPOINT,
            ["step.show", "checkpoint.ask"],
            [StepDone("one", "s1")],
        ),
        (Position("demo", "one", 0), Repeat(), Position("demo", "one", 0), ["step.show"], []),
        (AT_CHECKPOINT, Next(), AT_CHECKPOINT, ["checkpoint.answer_first"], []),
        (Position("demo", "one", 0), Said("hello"), Position("demo", "one", 0), ["step.use_buttons"], []),
        (
            Position("demo", "one", 0),
            AskPressed(),
            Position("demo", "one", 0, asking=True),
            ["ask.prompt"],
            [],
        ),
        (
            Position("demo", "one", 0, asking=True),
            Said("how hard?"),
            Position("demo", "one", 0),
            ["ask.received"],
            [QuestionAsked("one", "s1", "how hard?")],
        ),
        (
            AT_CHECKPOINT,
            Said("alpha", verdict(True, False)),
            Position("demo", "one", 1, attempts=1),
            ["feedback.partial"],
            ["answer"],
        ),
        (
            AT_CHECKPOINT,
            Said("zzz", verdict(False, False)),
            Position("demo", "one", 1, attempts=1),
            ["feedback.none"],
            ["answer"],
        ),
        (
            AT_CHECKPOINT,
            Said("alpha beta", verdict(True, True)),
            Position("demo", "one", 1, done=True),
            ["feedback.pass", "lesson.done"],
            ["answer", StepDone("one", "s2"), LessonDone("one")],
        ),
        (
            AT_CHECKPOINT,
            Said("??", verdict(True, False, review=True)),
            Position("demo", "one", 1, attempts=0, done=True),
            ["checkpoint.review", "lesson.done"],
            ["answer", LessonDone("one")],  # left for a person: the step is not passed
        ),
        (
            Position("demo", "one", 1, attempts=MAX_ATTEMPTS - 1),
            Said("zzz", verdict(False, False)),
            Position("demo", "one", 1, done=True),
            ["checkpoint.after_tries", "lesson.done"],
            ["answer", LessonDone("one")],  # left for a person: the step is not passed
        ),
        (
            Position("demo", "two", 0),
            Next(),
            Position("demo", "two", 0, done=True),
            ["course.done"],
            [StepDone("two", "t1"), LessonDone("two"), CourseDone()],
        ),
        (
            Position("demo", "one", 1, done=True),
            Next(),
            Position("demo", "one", 1, done=True),
            ["lesson.done"],
            [],
        ),
    ],
)
def test_advance(
    position: Position,
    event: object,
    expected_position: Position,
    reply_keys: list[str],
    effects: list[object],
) -> None:
    turn = TUTOR.advance(position, event)  # type: ignore[arg-type]
    assert turn.position == expected_position
    assert [r.text.key for r in turn.replies] == reply_keys
    simplified = ["answer" if isinstance(e, AnswerGiven) else e for e in turn.effects]
    assert simplified == effects


def test_entering_a_step_sends_media_caption_and_credit() -> None:
    turn = TUTOR.advance(Position("demo", "two"), Begin("two"))
    params = turn.replies[0].text.params
    assert params["caption"] == "légende t1"
    assert params["master"] == "Maâlma Aïcha"
    assert (params["n"], params["total"]) == (1, 1)
    assert [b.action for b in turn.replies[0].buttons] == ["next", "repeat", "ask"]


def test_checkpoint_feedback_names_what_was_right_and_the_hint_for_what_is_missing() -> None:
    turn = TUTOR.advance(AT_CHECKPOINT, Said("alpha", verdict(True, False)))
    params = turn.replies[0].text.params
    assert params["right"] == "alpha"
    assert params["hints"] == "• pense à beta"


def test_review_records_the_answer_for_a_person() -> None:
    turn = TUTOR.advance(AT_CHECKPOINT, Said("??", verdict(True, False, review=True)))
    answer = next(e for e in turn.effects if isinstance(e, AnswerGiven))
    assert answer.review and answer.text == "??"


def test_content_falls_back_when_a_language_is_missing() -> None:
    turn = Tutor(COURSE, Lang.TAMAZIGHT).advance(Position("demo", "one"), Begin("one"))
    assert turn.replies[0].text.params["caption"] == "légende s1"  # Tamazight falls back to French


@pytest.mark.parametrize(
    ("position", "lesson_id"),
    [
        (Position("demo", "one", 0), "two"),  # a skip ahead: "two" was never offered
        (AT_CHECKPOINT, "two"),  # not even from a checkpoint
        (Position("demo", "one", 0), "elsewhere"),  # another course's lesson, after switching course
        (Position("demo", "two", 0, done=True), "nowhere"),
        (Position("demo", "two", 0), "one"),  # back to the first lesson: no button offers it
    ],
)
def test_a_lesson_never_offered_is_refused_and_nothing_changes(position: Position, lesson_id: str) -> None:
    turn = TUTOR.advance(position, Begin(lesson_id))
    assert turn.position == position
    assert turn.effects == ()
    assert turn.replies == TUTOR.advance(position, Repeat()).replies  # the current step again


def test_the_next_lesson_opens_once_the_current_one_is_done() -> None:
    done = Position("demo", "one", 1, done=True)
    assert TUTOR.unlocked(done) == {"one", "two"}
    assert TUTOR.advance(done, Begin("two")).position == Position("demo", "two", 0)
    assert TUTOR.unlocked(Position("demo", "one", 1)) == {"one"}


def test_ask_is_not_offered_at_a_checkpoint_so_pressing_it_shows_the_question_again() -> None:
    turn = TUTOR.advance(AT_CHECKPOINT, AskPressed())
    assert turn.position == AT_CHECKPOINT and turn.effects == ()
    assert turn.replies == TUTOR.advance(AT_CHECKPOINT, Repeat()).replies


@pytest.mark.parametrize(("passed", "done"), [(True, [StepDone("one", "s2")]), (False, [])])
def test_a_new_answer_after_the_lesson_ended_on_a_review_is_graded(passed: bool, done: list[object]) -> None:
    left = TUTOR.advance(AT_CHECKPOINT, Said("??", verdict(True, False, review=True))).position
    turn = TUTOR.advance(left, AnsweredAgain("s2", "alpha beta", verdict(True, passed)))
    assert turn.position == left
    answer, *rest = turn.effects
    assert isinstance(answer, AnswerGiven) and not answer.review and answer.assessment.passed is passed
    assert rest == done
    key = "feedback.pass" if passed else "feedback.partial"
    assert [r.text.key for r in turn.replies] == [key, "lesson.done"]


@pytest.mark.parametrize("position", [Position("demo", "one", 1, done=True), AT_CHECKPOINT])
def test_answering_again_what_is_no_checkpoint_of_a_finished_lesson_changes_nothing(
    position: Position,
) -> None:
    again = AnsweredAgain("s2" if not position.done else "s1", "alpha beta", verdict(True, True))
    turn = TUTOR.advance(position, again)
    assert turn.position == position and turn.effects == ()
    assert turn.replies == TUTOR.advance(position, Repeat()).replies
