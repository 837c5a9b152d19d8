"""The rubric hears what a learner denies or only asks: that point is not met; a denial never passes alone."""

from __future__ import annotations

from pathlib import Path

import pytest

from lessons.content import load_library
from lessons.course import Checkpoint
from lessons.evaluation import find_checkpoint
from lessons.languages import Lang
from lessons.polarity import clauses
from lessons.rubric import RubricMatcher

CONTENT = Path(__file__).resolve().parents[2] / "content"
COURSES = load_library(CONTENT).courses
CUT = find_checkpoint(
    COURSES, "zellige/cutting/check-cut"
)  # back smaller, room for mortar, clean face: 2 of 3
CLAY = find_checkpoint(COURSES, "pottery/clay/check-clay")  # no air, even, not sticky: all three
rubric = RubricMatcher()


def met(checkpoint: Checkpoint, answer: str, lang: Lang) -> set[str]:
    return set(rubric.assess_now(checkpoint, answer, lang).met())


@pytest.mark.parametrize(
    ("lang", "answer"),
    [
        (
            Lang.FRENCH,
            "le dos n'est pas plus petit, il n'y a pas de place pour le mortier et la face n'est pas nette",
        ),
        (Lang.FRENCH, "c'est pas en biais et le mortier n'entre jamais"),
        (Lang.ENGLISH, "The back is not smaller and there isn't any room for mortar, no clean edge."),
        (Lang.ENGLISH, "It's not true that the back is smaller. It never leaves room for mortar."),
        (Lang.ARABIC, "الظهر ليس أصغر، ولا يوجد مكان للملاط."),
        (Lang.ARABIC, "لم يكن الظهر أصغر ولن يدخل الملاط"),
        (Lang.DARIJA, "الظهر ماشي صغير، وماكايناش بلاصة للسيما"),
        (Lang.DARIJA, "dhar machi sghir, walou blasa l sima"),
        (Lang.DARIJA, "ma kaynach blasa l sima, o lor machi sghir"),
        (Lang.FRENCH, "Le dos n'est pas du tout plus petit, aucune place pour le mortier"),
        (Lang.FRENCH, "sans place pour le mortier, et le dos n'est jamais plus petit"),
        (Lang.ENGLISH, "Without room for mortar, and the back is never smaller."),
        (Lang.ARABIC, "الظهر غير أصغر، ولن يدخل الملاط"),
        (Lang.ARABIC, "بدون مكان للملاط، والظهر ليس أصغر"),
        (Lang.DARIJA, "والو بلاصة للسيما، والظهر ماشي صغير"),
        (Lang.DARIJA, "بلا بلاصة للسيما، واللور ما صغيرش"),
        (Lang.DARIJA, "sima ma katdkholch, w dhar machi sghir"),
        (Lang.DARIJA, "bla blasa l sima, lor machi sghir"),
        (Lang.TAMAZIGHT, "ⵜⴰⴷⴰⵡⵜ ⵓⵔ ⵜⵎⵥⵥⵉ, ⵓⴷⵎ ⵓⵔ ⵉⵣⴷⵉⴳ"),
        (Lang.TAMAZIGHT, "tadawt ur tmẓẓi, udm ur izdig"),
    ],
)
def test_denied_key_points_are_not_met_and_the_answer_fails(lang: Lang, answer: str) -> None:
    assessment = rubric.assess_now(CUT, answer, lang)
    assert not {"back-smaller", "room-for-mortar"} & set(assessment.met()), assessment.verdicts
    assert not assessment.passed


@pytest.mark.parametrize(
    ("lang", "answer"),
    [
        (Lang.FRENCH, "je ne sais pas. dos plus petit ? place pour le mortier ?"),
        (Lang.FRENCH, "Est-ce que le dos est plus petit et qu'il y a place pour le mortier"),
        (Lang.ENGLISH, "I don't know, maybe the back is smaller? Room for mortar?"),
        (Lang.ARABIC, "هل الظهر أصغر؟ هل هناك مكان للملاط؟"),
        (Lang.DARIJA, "واش الظهر صغير؟ واش بلاصة للسيما؟"),
        (Lang.DARIJA, "wach dhar sghir? wach blasa l sima?"),
        (Lang.FRENCH, "est-ce que le dos est plus petit"),
        (Lang.ENGLISH, "is the back smaller? room for mortar?"),
        (Lang.ARABIC, "هل الظهر أصغر"),
        (Lang.DARIJA, "واش الظهر صغير"),
        (Lang.DARIJA, "wach dhar sghir"),
        (Lang.TAMAZIGHT, "ⵉⵙ ⵜⴰⴷⴰⵡⵜ ⵜⵎⵥⵥⵉ"),
        (Lang.TAMAZIGHT, "tadawt tmẓẓi? udm izdg?"),
        (Lang.ENGLISH, "👍"),
        (Lang.FRENCH, "Pourquoi taille-t-on les côtés de la pièce en biais ? Et comment doit être sa face ?"),
    ],
)
def test_a_question_is_not_an_answer(lang: Lang, answer: str) -> None:
    assessment = rubric.assess_now(CUT, answer, lang)
    assert assessment.met() == [], assessment.verdicts
    assert not assessment.passed


@pytest.mark.parametrize(
    ("lang", "answer"),
    [
        (Lang.FRENCH, "Le dos est plus petit, comme ça il y a de la place pour le mortier."),
        (Lang.ENGLISH, "The back is smaller, so there is room for mortar; it's not the face that is small."),
        (Lang.ARABIC, "لأن الظهر أصغر من الوجه، فيدخل الملاط."),
        (Lang.DARIJA, "الظهر ديالها كيكون صغير، باش تكون بلاصة للسيما"),
        (Lang.DARIJA, "lor dyalha sghir, rah blasa l sima"),
        (Lang.DARIJA, "اللور صغير، وكتدخل السيما"),  # the rubric says "السيما كتدخل"
        (Lang.TAMAZIGHT, "ⵓⴷⵎ ⵉⵎⵇⵇⵓⵔ, ⴰⴷ ⵉⴽⵛⵎ ⵍⵉⵙⵉⵎⴰⵏ"),  # the rubric says "ⵍⵉⵙⵉⵎⴰⵏ ⴰⴷ ⵉⴽⵛⵎ"
        (Lang.ENGLISH, "The back is smaller so there is room for mortar. Right?"),
    ],
)
def test_stated_answers_in_natural_phrasing_still_pass(lang: Lang, answer: str) -> None:
    assessment = rubric.assess_now(CUT, answer, lang)
    assert {"back-smaller", "room-for-mortar"} <= set(assessment.met()), assessment.verdicts
    assert assessment.passed
    assert not assessment.needs_review


def test_a_key_point_that_is_itself_negative_follows_the_answer_polarity() -> None:
    good = "On pétrit pour chasser l'air ; elle est homogène et ne colle pas aux mains."
    assert "not-sticky" in met(CLAY, good, Lang.FRENCH)
    assert "not-sticky" in met(CLAY, "كنعجنو باش نخرجو الهوا، كيف كيف، وما كيلصقش فاليدين", Lang.DARIJA)
    assert "not-sticky" in met(CLAY, "نخرج الهواء، متجانس، ولا يلتصق باليد", Lang.ARABIC)
    assert "not-sticky" not in met(
        CLAY, "We push out the air, it is even, and it does stick to the hands.", Lang.ENGLISH
    )


@pytest.mark.parametrize(
    ("ref", "answer", "points"),
    [
        (
            "pottery/wheel/check-wheel",
            "كنفزك يدّيا، كنوسط الطين، ومن بعد كنحلّها",
            {"wet-hands", "centre", "open"},
        ),
        ("tadelakt/lime/check-mix", "كنخليوه ليلة كاملة، والحيط كنفزكوه", {"rest-night", "wet-wall"}),
    ],
)
def test_darija_verbs_in_the_present_and_in_either_order_are_recognised(
    ref: str, answer: str, points: set[str]
) -> None:
    """كنوسط for نوسّطها, "الحيط كنفزكوه" for "نفزّكو الحيط"."""
    assessment = rubric.assess_now(find_checkpoint(COURSES, ref), answer, Lang.DARIJA)
    assert points <= set(assessment.met()), assessment.verdicts
    assert assessment.passed


def test_a_negation_said_another_way_meets_a_negative_key_point() -> None:
    assert "not-sticky" in met(CLAY, "No air, same all through, and it never sticks.", Lang.ENGLISH)
    care = find_checkpoint(COURSES, "tadelakt/polish/check-care")
    assert "no-acid" in met(care, "لا نستعمل الجافيل ولا أي حمض، بالصابون البلدي فقط", Lang.ARABIC)


def test_a_denial_never_passes_without_a_person() -> None:
    answer = "Le dos est plus petit et on suit le trait, mais il n'y a pas de place pour le mortier."
    assessment = rubric.assess_now(CUT, answer, Lang.FRENCH)
    assert assessment.passed  # two of three key points are stated…
    assert assessment.needs_review  # …but the learner denied the third: a person looks


def test_clauses_mark_questions_and_read_contractions() -> None:
    parts = clauses("It doesn't stick. Is it even? واش صغير؟ peut-être le dos")
    assert [c.asked for c in parts] == [False, True, True, True]
    assert parts[0].words == ("it", "not", "stick")  # "does not" and "never" are read as "not"
    assert clauses("it never stuck")[0].words == ("it", "not", "stuck")
