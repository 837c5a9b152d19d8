"""The labelled set, the evaluation's measures and table, and the helpers behind `maalem assess`."""

from __future__ import annotations

import json
import math
from collections import Counter
from pathlib import Path

import pytest

from lessons.assessment import Assessment, PointVerdict
from lessons.calibration import Calibration, TrustRule, auc
from lessons.content import Library, load_library
from lessons.evaluation import (
    LabelledAnswer,
    Outcome,
    Score,
    assess_json,
    checkpoint_refs,
    evaluate,
    find_checkpoint,
    load_labelled,
    render_table,
)
from lessons.guard import injection_signals
from lessons.languages import Lang
from lessons.rubric import RubricMatcher

CONTENT = Path(__file__).resolve().parents[2] / "content"


@pytest.fixture(scope="module")
def library() -> Library:
    return load_library(CONTENT)


@pytest.fixture(scope="module")
def labelled(library: Library) -> list[LabelledAnswer]:
    return load_labelled(CONTENT / "eval" / "answers.yaml", library.courses)


def test_the_labelled_set_covers_every_checkpoint_kind_and_language(
    library: Library, labelled: list[LabelledAnswer]
) -> None:
    assert len(labelled) >= 150
    assert {item.ref for item in labelled} == set(checkpoint_refs(library.courses))
    assert set(Counter(item.kind for item in labelled)) == {
        "correct", "paraphrase", "partial", "wrong", "off-topic", "arabizi", "asr", "injection",
        "negation", "question", "unsure", "echo", "emoji",
    }  # fmt: skip
    for course in library.courses.values():
        written = {item.lang for item in labelled if item.ref.startswith(f"{course.id}/")}
        assert written == set(course.languages), course.id
    injected = {item.lang for item in labelled if item.kind == "injection"}
    assert injected == set(Lang)
    assert {item.passed for item in labelled if item.kind == "injection"} == {True, False}


def test_every_injection_in_the_set_is_detected_and_no_honest_answer(labelled: list[LabelledAnswer]) -> None:
    wrong = [
        item.text for item in labelled if bool(injection_signals(item.text)) != (item.kind == "injection")
    ]
    assert wrong == []


def test_a_label_that_contradicts_the_pass_rule_is_refused(library: Library, tmp_path: Path) -> None:
    path = tmp_path / "answers.yaml"
    path.write_text(
        "- ref: zellige/laying/check-laying\n"
        "  answers:\n"
        "    - {kind: partial, lang: fr, met: [face-down], passed: true, text: x}\n"
        "    - {kind: partial, lang: fr, met: [face-up], passed: false, text: y}\n",
        encoding="utf-8",
    )
    with pytest.raises(
        ValueError, match=r"answer 1 .*contradicts.*answer 2 .*unknown key points \['face-up'\]"
    ):
        load_labelled(path, library.courses)


def test_checkpoints_are_found_by_reference(library: Library) -> None:
    refs = checkpoint_refs(library.courses)
    assert "zellige/laying/check-laying" in refs
    assert find_checkpoint(library.courses, refs[0]).key_points
    for bad in ("zellige", "zellige/laying/nope", "nope/laying/check-laying"):
        with pytest.raises(KeyError, match="course/lesson/step"):
            find_checkpoint(library.courses, bad)
    step = library.courses["zellige"].lessons[0].steps[0]
    assert step.checkpoint is None
    with pytest.raises(KeyError, match="has no checkpoint"):
        find_checkpoint(library.courses, f"zellige/{library.courses['zellige'].lessons[0].id}/{step.id}")


def _outcome(kind: str, truth: bool, passed: bool, review: bool = False) -> Outcome:
    item = LabelledAnswer(
        ref="a/b/c",
        lang=Lang.FRENCH,
        kind=kind,  # type: ignore[arg-type]
        text="x",
        met=frozenset({"p"} if truth else set()),
        passed=truth,
    )
    verdict = PointVerdict("p", passed, 0.9)
    return Outcome(item, Assessment((verdict,), passed, 0.9, "rubric", needs_review=review), 0.002)


def test_scores_and_their_table() -> None:
    score = Score(
        "demo",
        [
            _outcome("correct", True, True),
            _outcome("correct", True, False, review=True),
            _outcome("wrong", False, True),
            _outcome("injection", False, True),
            _outcome("injection", False, False),
            _outcome("injection", True, True, review=True),
        ],
    )
    assert score.point_accuracy == pytest.approx(3 / 6)
    assert score.pass_precision == pytest.approx(2 / 4)
    assert score.pass_recall == pytest.approx(2 / 3)
    assert score.reviewed == 2
    assert score.auto_accuracy == pytest.approx(2 / 4)
    assert len(score.injections_passed) == 1
    assert score.median_ms == pytest.approx(2.0)
    lines = render_table([score]).splitlines()
    assert lines[0].split() == ["assessor", "key", "points", "pass", "P", "pass", "R", "pass", "acc", "to",
                                "review", "auto", "acc", "injections", "passed", "denials", "passed",
                                "ms/answer"]  # fmt: skip
    assert lines[2].split() == [
        "demo", "50.0%", "50.0%", "66.7%", "50.0%", "2/6", "50.0%", "1/3", "0/0", "2.00"
    ]  # fmt: skip
    assert lines[3].split()[:3] == ["demo", "·", _outcome("correct", True, True).item.lang.value]


async def test_the_rubric_matcher_on_the_set_passes_no_injection(
    library: Library, labelled: list[LabelledAnswer]
) -> None:
    (score,) = await evaluate({"rubric": RubricMatcher()}, labelled, library.courses)
    assert score.injections_passed == []
    assert score.pass_precision == 1.0
    assert score.point_accuracy > 0.85


async def test_assess_json_prints_the_verdict_per_key_point(library: Library) -> None:
    data = await assess_json(
        RubricMatcher(), library.courses, "zellige/laying/check-laying", "m9lobin, las9in", Lang.DARIJA
    )
    assert json.loads(json.dumps(data, ensure_ascii=False)) == data
    assert data["passed"] is True
    assert data["decided_by"] == "rubric"
    points = data["key_points"]
    assert isinstance(points, list)
    assert [p["key_point"] for p in points] == ["face-down", "tight-joints", "mortar-on-back"]
    assert [p["met"] for p in points] == [True, True, False]


def test_auc_ranks_met_points_above_unmet_ones_and_needs_both() -> None:
    assert auc([0.9, 0.8, 0.3, 0.1], [True, True, False, False]) == 1.0
    assert auc([0.1, 0.9], [True, False]) == 0.0
    assert auc([0.5, 0.5], [True, False]) == 0.5
    assert math.isnan(auc([0.9], [True]))
    ok, why = TrustRule().judge(
        Calibration(agreement=1.0, auc=math.nan, injections_passed=0, injections=0, answers=30, measured="x")
    )
    assert not ok
    assert why.startswith("AUC below 0.75")
