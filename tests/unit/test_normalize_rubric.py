"""The rubric matcher: spelling, scripts and accents do not stop a right answer; wrong ones do not pass."""

from __future__ import annotations

import pytest

from lessons.assessment import PointVerdict, could_flip
from lessons.course import Checkpoint, KeyPoint
from lessons.languages import Lang
from lessons.normalize import normalize
from lessons.rubric import RubricMatcher


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Mouillé À L'EAU", "mouille a l eau"),
        ("الزَّلِّيج", "الزليج"),
        ("أرض إلى آخر", "ارض الي اخر"),
        ("مدرسة", "مدرسه"),
        ("m9lob", "mqlob"),
        ("3la l'ard", "ala l ard"),
        ("3 layers", "3 layers"),
        ("ڭلسة", "كلسه"),
    ],
)
def test_normalize(raw: str, expected: str) -> None:
    assert normalize(raw) == expected


CHECKPOINT = Checkpoint(
    question={
        Lang.FRENCH: "Comment pose-t-on les pièces ?",
        Lang.DARIJA: "كيفاش كنحطو الزليج؟",
        Lang.ARABIC: "كيف؟",
    },
    key_points=[
        KeyPoint(
            id="face-down",
            phrasings={
                Lang.FRENCH: ["face contre terre", "à l'envers"],
                Lang.DARIJA: ["مقلوب", "m9lob", "الوجه لتحت"],
                Lang.ARABIC: ["مقلوبة"],
                Lang.ENGLISH: ["face down"],
            },
            hint={Lang.FRENCH: "Les pièces se posent face émaillée vers le bas."},
        ),
        KeyPoint(
            id="plaster",
            phrasings={
                Lang.FRENCH: ["plâtre", "mortier"],
                Lang.DARIJA: ["الجبص", "jebs"],
                Lang.ARABIC: ["الجبس"],
            },
            hint={Lang.FRENCH: "On coule du mortier au dos."},
        ),
    ],
)


@pytest.mark.parametrize(
    ("answer", "lang", "met"),
    [
        ("On les pose face contre terre puis on coule le mortier", Lang.FRENCH, {"face-down", "plaster"}),
        ("on les pose a l envers et on met du platre", Lang.FRENCH, {"face-down", "plaster"}),
        ("كنحطوهم مقلوبين ومن بعد الجبص", Lang.DARIJA, {"face-down", "plaster"}),
        ("kan7etohom m9lobin w jebs", Lang.DARIJA, {"face-down", "plaster"}),
        ("face down", Lang.ENGLISH, {"face-down"}),
        ("je ne sais pas", Lang.FRENCH, set()),
        ("on les colle avec de la colle", Lang.FRENCH, set()),
    ],
)
async def test_rubric_key_points(answer: str, lang: Lang, met: set[str]) -> None:
    assessment = await RubricMatcher().assess(CHECKPOINT, answer, lang)
    assert set(assessment.met()) == met
    assert assessment.passed == (met == {"face-down", "plaster"})
    assert assessment.decided_by == "rubric"
    assert all(0 <= v.confidence <= 1 for v in assessment.verdicts)


async def test_feedback_names_what_is_missing_by_id() -> None:
    assessment = await RubricMatcher().assess(CHECKPOINT, "face contre terre", Lang.FRENCH)
    assert assessment.missing() == ["plaster"]
    assert not assessment.passed


async def test_answer_in_a_script_the_rubric_lacks_goes_to_a_person() -> None:
    assessment = await RubricMatcher().assess(CHECKPOINT, "ⵙ ⵓⵣⴷⴷⵉⵔ ⵏ ⵓⵣⵍⵍⵉⵊ", Lang.TAMAZIGHT)
    assert assessment.needs_review
    assert not assessment.passed


@pytest.mark.parametrize(
    ("met", "doubtful", "needed", "flips"),
    [
        (
            (True, False, False),
            {"a"},
            2,
            False,
        ),  # doubting a point already met cannot lift a fail into a pass
        ((True, False, False), {"b"}, 2, True),  # doubting a missing point can
        ((True, True, False), {"a"}, 2, True),  # a pass resting on a doubtful point can fall
        ((True, True, True), {"a"}, 2, False),  # a pass with a point to spare stands
    ],
)
def test_only_doubt_that_could_change_the_outcome_asks_for_a_person(
    met: tuple[bool, ...], doubtful: set[str], needed: int, flips: bool
) -> None:
    verdicts = [PointVerdict(k, m, 0.9) for k, m in zip("abc", met, strict=True)]
    assert could_flip(verdicts, doubtful, needed) is flips
