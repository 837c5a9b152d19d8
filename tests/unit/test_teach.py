"""The teaching conversation (pure) and the drafts made from a master's words, table by table."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from lessons.drafting import (
    Discarded,
    KeyPhraseDrafter,
    is_extract,
    is_question,
    is_translation,
    key_phrases,
    point_problem,
    translation_problem,
)
from lessons.languages import Lang
from lessons.teach import (
    DraftCheckpoint,
    Drafted,
    Ended,
    Heard,
    Open,
    Pressed,
    Recording,
    Returned,
    Shown,
    Spoken,
    Submit,
    Teacher,
    TeachEvent,
    TeachState,
    Typed,
    yes_or_no,
)

NOW = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)
TEACHER = Teacher(courses={"zellige-stars": "Star tiles"}, crafts={"zellige": "Zellige"}, now=NOW)
AGREED = replace(TEACHER, licence="CC-BY-SA-4.0", consent=NOW.isoformat())


def run(
    teacher: Teacher, state: TeachState | None, *events: TeachEvent
) -> tuple[TeachState | None, list[str]]:
    """Apply events in turn; the state reached and the keys of every reply."""
    said: list[str] = []
    for event in events:
        turn = teacher.advance(state, event)
        state = turn.state
        said += [r.text.key for r in turn.replies]
    return state, said


def at_step(**current: object) -> TeachState:
    return TeachState(
        phase="step",
        licence="CC-BY-SA-4.0",
        course="zellige-stars",
        lesson_title="Cutting",
        current=Recording(**current),  # type: ignore[arg-type]
    )


@pytest.mark.parametrize(
    ("text", "meant"),
    [
        ("Yes.", True),
        ("ah", True),
        ("iyeh", True),
        ("wakha", True),
        ("oui", True),
        ("na3am", True),
        ("نعم", True),
        ("آه", True),
        ("واخا", True),
        ("ⵢⴰⵀ", True),
        ("la", False),
        ("Non.", False),
        ("no", False),
        ("لا", False),
        ("yes no", None),
        ("hold the hammer firmly", None),
        ("", None),
    ],
)
def test_yes_and_no_in_darija_french_arabic_english(text: str, meant: bool | None) -> None:
    assert yes_or_no(text) is meant


def test_the_licence_is_asked_first_once_and_refusing_ends_with_nothing_kept() -> None:
    state, said = run(TEACHER, None, Open())
    assert state is not None and state.phase == "licence" and said == ["teach.licence"]
    agreed, said = run(TEACHER, state, Spoken("Yes.", "v.ogg"))
    assert agreed is not None and agreed.licence == "CC-BY-SA-4.0" and agreed.consent == NOW.isoformat()
    assert said == ["teach.licence_set", "teach.choose_course"]
    turn = TEACHER.advance(state, Pressed("teach:licence:no"))
    assert turn.state is None and turn.effects == (Ended(),)
    state, said = run(AGREED, None, Open())
    assert state is not None and state.phase == "course"  # a master who agreed before is not asked again
    buttons = [b.action for b in AGREED.advance(None, Open()).replies[0].buttons]
    assert buttons == ["teach:course:zellige-stars", "teach:new"]


def test_a_new_course_a_dictated_title_confirmed_corrected_and_recorded_again() -> None:
    state, _ = run(AGREED, None, Open(), Pressed("teach:new"), Pressed("teach:craft:zellige"))
    assert state is not None and (state.phase, state.craft) == ("course_title", "zellige")
    heard, said = run(AGREED, state, Spoken("Star tiles", "t.ogg", sure=False))
    assert (
        heard is not None
        and heard.heard == Heard("Star tiles", "t.ogg", False)
        and said == ["teach.heard_unsure"]
    )
    again, said = run(AGREED, heard, Pressed("teach:again"))
    assert again is not None and again.heard is None and said == ["teach.record_again"]
    corrected, said = run(AGREED, heard, Typed("Star tiles of Fès"))
    assert (
        corrected is not None
        and corrected.course_title == "Star tiles of Fès"
        and said == ["teach.lesson_title"]
    )
    confirmed, _ = run(AGREED, heard, Pressed("teach:yes"))
    assert confirmed is not None and confirmed.course_title == "Star tiles"


@pytest.mark.parametrize(
    ("events", "phase", "said"),
    [
        ([Shown("video", "a.mp4")], "step", ["teach.step_voice"]),
        (
            [Shown("video", "a.mp4"), Shown("video", "b.mp4")],
            "step",
            ["teach.step_voice", "teach.second_media"],
        ),
        (
            [Spoken("Hold the hammer", "v.ogg"), Pressed("teach:yes"), Shown("photo", "p.jpg")],
            "important",
            ["teach.voice_before_media", "teach.heard", "teach.step_media_after_voice", "teach.important"],
        ),
        (
            [Spoken("Hold the hammer", "v.ogg"), Shown("video", "a.mp4"), Pressed("teach:yes")],
            "important",
            ["teach.voice_before_media", "teach.heard", "teach.media_kept", "teach.heard", "teach.important"],
        ),
        ([Typed("Hold the hammer")], "step", ["teach.step_media_after_voice"]),
        ([Pressed("teach:finish")], "step", ["teach.not_now", "teach.step_media"]),
        ([Returned()], "step", ["teach.resume"]),
        ([Open()], "step", ["teach.resume", "teach.step_media"]),
    ],
)
def test_a_step_takes_its_parts_in_any_order(events: list[TeachEvent], phase: str, said: list[str]) -> None:
    state, replies = run(AGREED, at_step(), *events)
    assert state is not None and state.phase == phase
    assert replies == said


def test_two_videos_in_a_row_replace_or_keep() -> None:
    state, _ = run(AGREED, at_step(), Shown("video", "a.mp4"), Shown("video", "b.mp4"))
    replaced, _ = run(AGREED, state, Pressed("teach:replace"))
    kept, _ = run(AGREED, state, Pressed("teach:keep"))
    assert replaced is not None and (replaced.current.media, replaced.current.spare) == ("b.mp4", None)
    assert kept is not None and (kept.current.media, kept.current.spare) == ("a.mp4", None)


def test_an_important_step_drafts_then_each_point_is_approved_replaced_or_dropped() -> None:
    ready = replace(
        at_step(media="a.mp4", media_kind="video", caption="Lay them face down"), phase="important"
    )
    turn = AGREED.advance(ready, Spoken("wakha", "y.ogg"))
    assert turn.effects == (DraftCheckpoint("Lay them face down"),) and turn.state is not None
    drafted = Drafted("What do you do?", ("face down", "tight", "pattern"), "fallback")
    state, said = run(AGREED, turn.state, drafted)
    assert said == ["teach.draft_fallback", "teach.review_question"]
    state, said = run(
        AGREED,
        state,
        Pressed("teach:no"),  # the question: the master says their own
        Typed("How do you lay the tiles?"),
        Spoken("iyeh", "y.ogg"),  # face down: kept
        Spoken("close together", "c.ogg"),  # tight: replaced by the master's words, read back first
        Pressed("teach:yes"),
        Pressed("teach:no"),  # pattern: dropped
    )
    assert said == [
        "teach.dictate_question",
        "teach.review_point",
        "teach.review_point",
        "teach.heard",
        "teach.review_point",
        "teach.checkpoint_ready",
        "teach.more",
    ]
    assert state is not None and state.phase == "more"
    [step] = state.steps
    assert (step.question, step.points, step.recorded) == (
        "How do you lay the tiles?",
        ("face down", "close together"),
        "2026-11-22",
    )


def test_every_point_dropped_asks_for_one_and_finishing_submits() -> None:
    reviewing = replace(
        at_step(media="a.mp4", media_kind="video", caption="x", question="Q?", proposed=("a",), at=1),
        phase="review",
    )
    state, said = run(AGREED, reviewing, Pressed("teach:no"))
    assert state is not None and state.phase == "own_point" and said == ["teach.dictate_point"]
    state, _ = run(AGREED, state, Typed("keep the edge straight"))
    assert state is not None and state.steps[0].points == ("keep the edge straight",)
    turn = AGREED.advance(state, Pressed("teach:finish"))
    assert turn.state is None and turn.effects == (Submit(state),)
    assert [r.text.key for r in turn.replies] == ["teach.submitted"]


def test_going_on_without_pressing_next_starts_the_next_step() -> None:
    done = replace(at_step(), phase="more")
    state, said = run(AGREED, done, Shown("video", "b.mp4"))
    assert state is not None and state.current.media == "b.mp4" and said == ["teach.step_voice"]


def test_the_state_survives_the_database() -> None:
    state, _ = run(AGREED, at_step(), Shown("video", "a.mp4"), Typed("cap"), Pressed("teach:no"))
    state, _ = run(AGREED, state, Pressed("teach:step"), Spoken("hello", "h.ogg", sure=False))
    assert state is not None
    assert TeachState.from_json(json.loads(json.dumps(state.to_json()))) == state


@pytest.mark.parametrize(
    ("text", "lang", "phrases"),
    [
        ("Hold the hammer firmly and strike the edge of the tile gently.", Lang.ENGLISH,
         ("hammer firmly", "tile gently")),
        ("Place the tiles face down, and press them close together.", Lang.ENGLISH,
         ("tiles face down", "close together")),
        ("On pose les pièces à l'envers, bien serrées.", Lang.FRENCH, ()),  # single words only: none offered
        ("كنحطو الزليج مقلوب على وجهو", Lang.DARIJA, ("كنحطو الزليج مقلوب",)),
    ],
)  # fmt: skip
def test_key_phrases_come_from_the_masters_own_words(text: str, lang: Lang, phrases: tuple[str, ...]) -> None:
    assert key_phrases(text, lang) == phrases
    assert all(is_extract(p, text, lang) for p in phrases)
    assert KeyPhraseDrafter().checkpoint(text, lang).points == phrases


def test_drafts_are_checked_before_anyone_sees_them() -> None:
    said = "Lay the tiles face down and press them tight."
    assert not is_extract("use a spoon", said, Lang.ENGLISH)  # not in the master's words
    assert not is_extract("the and", said, Lang.ENGLISH)  # no content word
    assert is_question("Why do you lay the tiles face down?", said, Lang.ENGLISH)
    assert not is_question("Tiles.", said, Lang.ENGLISH)
    assert not is_question("What is the capital of France?", said, Lang.ENGLISH)  # not about the step
    assert is_translation("Posez les carreaux face contre terre.", said, Lang.FRENCH)
    assert not is_translation(said, said, Lang.FRENCH)  # the source again
    assert not is_translation("Lay the tiles", said, Lang.DARIJA)  # wrong script
    drafter = KeyPhraseDrafter()
    assert drafter.translate(said, Lang.ENGLISH, Lang.FRENCH) is None
    assert drafter.discarded == [Discarded(Lang.FRENCH, "no local model to draft translations")]


@pytest.mark.parametrize(
    ("point", "shown", "why"),
    [
        ("mosaïque", ("Comment pose-t-on la mosaïque ?",), "one word the learner already reads"),
        ("la mosaïque", ("On pose la mosaïque à l'envers.",), "one word the learner already reads"),
        ("sol", (), "one common word"),
        ("face contre terre", ("On pose face contre terre.",), None),  # a phrase, not a word
        ("mortier", ("Comment pose-t-on les pièces ?",), None),  # a word the learner has not read
    ],
)
def test_a_drafted_key_point_of_one_word_already_read_is_not_offered(
    point: str, shown: tuple[str, ...], why: str | None
) -> None:
    problem = point_problem(point, Lang.FRENCH, *shown)
    assert (problem is None) if why is None else (problem is not None and why in problem)


@pytest.mark.parametrize(
    ("draft", "target", "why"),
    [
        ("Posez les carreaux face contre terre.", Lang.FRENCH, None),
        ("Posez les carreaux les carreaux les carreaux", Lang.FRENCH, "repeats itself"),
        ("ⵙⵔⵙ ⵍⴼⵓⵔⵎⴰⵜ ⵙ ⵓⴷⵎ ⵖⵔ ⵡⴰⴽⴰⵍ", Lang.TAMAZIGHT, None),
        ("Lay the tiles face down", Lang.TAMAZIGHT, "written in latin, not tifinagh"),
        ("حطّو الزليج مقلوب وزيّرو مزيان", Lang.DARIJA, None),
        ("حطو الزليج مقلوب یک", Lang.DARIJA, "letters foreign"),  # Persian letters
        ("Poséz les cařeaux face contre terre.", Lang.FRENCH, "letters foreign to French: ř"),
        ("Posez les 瓷砖 face contre terre.", Lang.FRENCH, "letters foreign"),
        ("Lay the tiles face down and press them tight.", Lang.ENGLISH, "the source text again"),
    ],
)
def test_a_drafted_translation_that_cannot_be_one_is_discarded_with_its_reason(
    draft: str, target: Lang, why: str | None
) -> None:
    problem = translation_problem(draft, "Lay the tiles face down and press them tight.", target)
    assert (problem is None) if why is None else (problem is not None and why in problem), problem
    assert is_translation(draft, "Lay the tiles face down and press them tight.", target) == (why is None)
