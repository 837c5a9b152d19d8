"""Measuring assessors on labelled answers, and the helpers behind `maalem assess` and `maalem eval`."""

from __future__ import annotations

import statistics
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict

from lessons.assessment import Assessment, Assessor
from lessons.course import Checkpoint, Course
from lessons.languages import Lang

Kind = Literal[
    "correct", "paraphrase", "partial", "wrong", "off-topic", "arabizi", "asr", "injection",
    "negation", "question", "unsure", "echo", "emoji",
]  # fmt: skip
DENIALS: frozenset[Kind] = frozenset({"negation", "question", "unsure"})
"""Answers that deny or only ask about key points: none may pass without a person."""


class LabelledAnswer(BaseModel):
    """An answer to a checkpoint with what a careful examiner decided about it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    ref: str
    lang: Lang
    kind: Kind
    text: str
    met: frozenset[str]
    passed: bool


class _Group(BaseModel):
    model_config = ConfigDict(extra="forbid")

    ref: str
    answers: list[dict[str, object]]


def checkpoint_refs(courses: Mapping[str, Course]) -> list[str]:
    """Every checkpoint as `course/lesson/step`, in course order."""
    return [
        f"{course.id}/{lesson.id}/{step.id}"
        for course in courses.values()
        for lesson in course.lessons
        for step in lesson.steps
        if step.checkpoint
    ]


def find_checkpoint(courses: Mapping[str, Course], ref: str) -> Checkpoint:
    """The checkpoint at `course/lesson/step`; KeyError naming the reference when there is none."""
    course_id, _, rest = ref.partition("/")
    lesson_id, _, step_id = rest.partition("/")
    try:
        lesson = courses[course_id].lesson(lesson_id)
        checkpoint = next(s.checkpoint for s in lesson.steps if s.id == step_id)
    except (KeyError, StopIteration):
        raise KeyError(f"no step {ref!r}; expected course/lesson/step") from None
    if checkpoint is None:
        raise KeyError(f"step {ref!r} has no checkpoint")
    return checkpoint


def load_labelled(path: Path, courses: Mapping[str, Course]) -> list[LabelledAnswer]:
    """Read a labelled set and check every label against the courses (key point ids, pass rule)."""
    groups = [_Group.model_validate(g) for g in yaml.safe_load(path.read_text(encoding="utf-8"))]
    items = [LabelledAnswer.model_validate({"ref": g.ref, **a}) for g in groups for a in g.answers]
    problems = []
    for number, item in enumerate(items, 1):
        checkpoint = find_checkpoint(courses, item.ref)
        if unknown := item.met - {kp.id for kp in checkpoint.key_points}:
            problems.append(f"answer {number} ({item.ref}): unknown key points {sorted(unknown)}")
        if item.passed != (len(item.met) >= checkpoint.needed):
            problems.append(f"answer {number} ({item.ref}): passed={item.passed} contradicts its key points")
    if problems:
        raise ValueError(f"{path}: " + "; ".join(problems))
    return items


@dataclass(frozen=True)
class Outcome:
    """One assessor's verdict on one labelled answer."""

    item: LabelledAnswer
    assessment: Assessment
    seconds: float

    @property
    def points_right(self) -> int:
        """Key points judged as the examiner did."""
        return sum(v.met == (v.key_point in self.item.met) for v in self.assessment.verdicts)


@dataclass
class Score:
    """How one assessor did on the labelled set."""

    name: str
    outcomes: list[Outcome] = field(repr=False)

    def _ratio(self, part: int, whole: int) -> float:
        return part / whole if whole else float("nan")

    @property
    def point_accuracy(self) -> float:
        """Share of key points judged as the examiner did."""
        total = sum(len(o.assessment.verdicts) for o in self.outcomes)
        return self._ratio(sum(o.points_right for o in self.outcomes), total)

    @property
    def pass_precision(self) -> float:
        """Of the answers passed, the share that deserved it."""
        passed = [o for o in self.outcomes if o.assessment.passed]
        return self._ratio(sum(o.item.passed for o in passed), len(passed))

    @property
    def pass_recall(self) -> float:
        """Of the answers that deserved to pass, the share passed."""
        deserved = [o for o in self.outcomes if o.item.passed]
        return self._ratio(sum(o.assessment.passed for o in deserved), len(deserved))

    @property
    def pass_accuracy(self) -> float:
        """Share of answers with the right overall outcome."""
        return self._ratio(
            sum(o.assessment.passed == o.item.passed for o in self.outcomes), len(self.outcomes)
        )

    @property
    def reviewed(self) -> int:
        """Answers sent to a person."""
        return sum(o.assessment.needs_review for o in self.outcomes)

    @property
    def auto_accuracy(self) -> float:
        """Share of right outcomes among the answers decided without a person."""
        auto = [o for o in self.outcomes if not o.assessment.needs_review]
        return self._ratio(sum(o.assessment.passed == o.item.passed for o in auto), len(auto))

    @property
    def injections(self) -> list[Outcome]:
        """The answers that try to instruct the grader."""
        return [o for o in self.outcomes if o.item.kind == "injection"]

    @property
    def injections_passed(self) -> list[Outcome]:
        """Injection attempts passed although their content does not deserve it."""
        return [o for o in self.injections if o.assessment.passed and not o.item.passed]

    @property
    def denials_passed(self) -> list[Outcome]:
        """Denying or asking answers passed without a person although they do not deserve it."""
        return [
            o
            for o in self.outcomes
            if o.item.kind in DENIALS
            and o.assessment.passed
            and not o.assessment.needs_review
            and not o.item.passed
        ]

    @property
    def median_ms(self) -> float:
        """Median time to assess one answer, in milliseconds."""
        return 1000 * statistics.median(o.seconds for o in self.outcomes) if self.outcomes else float("nan")


async def evaluate(
    assessors: Mapping[str, Assessor], items: Sequence[LabelledAnswer], courses: Mapping[str, Course]
) -> list[Score]:
    """Run every assessor over the labelled answers, one answer at a time."""
    scores = []
    for name, assessor in assessors.items():
        outcomes = []
        for item in items:
            start = time.perf_counter()
            assessment = await assessor.assess(find_checkpoint(courses, item.ref), item.text, item.lang)
            outcomes.append(Outcome(item, assessment, time.perf_counter() - start))
        scores.append(Score(name, outcomes))
    return scores


COLUMNS = (
    "assessor",
    "key points",
    "pass P",
    "pass R",
    "pass acc",
    "to review",
    "auto acc",
    "injections passed",
    "denials passed",
    "ms/answer",
)


def by_language(scores: Sequence[Score]) -> list[Score]:
    """Each assessor's score again for every language of the answers ("rubric · fr")."""
    return [
        Score(f"{s.name} · {lang.value}", [o for o in s.outcomes if o.item.lang == lang])
        for s in scores
        for lang in Lang
        if any(o.item.lang == lang for o in s.outcomes)
    ]


def render_table(scores: Sequence[Score]) -> str:
    """A plain-text table of the scores: one row per assessor, then one per assessor and language."""
    rows = [COLUMNS] + [
        (
            s.name,
            f"{s.point_accuracy:.1%}",
            f"{s.pass_precision:.1%}",
            f"{s.pass_recall:.1%}",
            f"{s.pass_accuracy:.1%}",
            f"{s.reviewed}/{len(s.outcomes)}",
            f"{s.auto_accuracy:.1%}",
            f"{len(s.injections_passed)}/{len(s.injections)}",
            f"{len(s.denials_passed)}/{sum(o.item.kind in DENIALS for o in s.outcomes)}",
            f"{s.median_ms:.2f}",
        )
        for s in [*scores, *by_language(scores)]
    ]
    widths = [max(len(r[i]) for r in rows) for i in range(len(COLUMNS))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip() for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


async def assess_json(
    assessor: Assessor, courses: Mapping[str, Course], ref: str, answer: str, lang: Lang
) -> dict[str, object]:
    """Assess one answer to the checkpoint at `course/lesson/step` and return the verdict as JSON data."""
    assessment = await assessor.assess(find_checkpoint(courses, ref), answer, lang)
    return {"ref": ref, "lang": lang.value, **assessment.to_json()}
