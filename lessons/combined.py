"""The rubric matcher and a language model together: the rubric decides, the model confirms or doubts."""

from __future__ import annotations

import logging
from collections.abc import Collection
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal

from lessons.assessment import Assessment, Assessor, PointVerdict, could_flip
from lessons.calibration import CalibrationFile
from lessons.course import Checkpoint
from lessons.guard import injection_signals
from lessons.judging import YesNoJudge
from lessons.languages import Lang
from lessons.rubric import RubricMatcher

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Thresholds:
    """How sure each side must be: the rubric to decide a point alone, the model to confirm or contest it."""

    rubric_sure: float = 0.7
    llm_sure: float = 0.8


class CombinedAssessor:
    """An `Assessor` where a key point is met only if the rubric finds it: the model never passes an answer.

    A confident rubric verdict stands, and the model confidently contesting it puts the point in doubt; a
    doubtful rubric verdict stands too, and leaves doubt unless the model confidently agrees. A person reviews
    the answer when doubt could change the outcome, when the model gave no valid verdict, or when the answer
    tries to instruct the grader.

    The model's vote counts only in the `trusted` languages (all when None, as when measuring it): elsewhere
    the model is not asked and the rubric's verdict is returned as is.
    """

    def __init__(
        self,
        rubric: Assessor,
        llm: YesNoJudge,
        *,
        thresholds: Thresholds | None = None,
        feedback: bool = False,
        trusted: Collection[Lang] | None = None,
    ) -> None:
        self.rubric = rubric
        self.llm = llm
        self.thresholds = thresholds or Thresholds()
        self.feedback = feedback
        self.trusted = None if trusted is None else frozenset(trusted)

    async def assess(self, checkpoint: Checkpoint, answer: str, lang: Lang) -> Assessment:
        """Combine both verdicts per key point and decide whether a person must look."""
        rubric = await self.rubric.assess(checkpoint, answer, lang)
        if self.trusted is not None and lang not in self.trusted:
            return replace(rubric, details={**rubric.details, "llm": "not trusted in this language"})
        try:
            llm: Assessment | None = await self.llm.assess(checkpoint, answer, lang)
        except Exception:  # a broken model must not stop grading: the rubric stands and a person looks
            log.exception("the language model failed; the rubric's verdict goes to review")
            llm = None
        signals = injection_signals(answer)
        reasons = [f"instructions to the grader: {', '.join(signals)}"] if signals else []
        if llm is None or llm.details.get("fallback"):
            reasons.append("no valid verdict from the language model")
        opinions = {v.key_point: v for v in llm.verdicts} if llm else {}
        verdicts, doubtful = [], set()
        for mine in rubric.verdicts:
            verdict, doubt = self._point(mine, opinions.get(mine.key_point))
            verdicts.append(verdict)
            if doubt:
                doubtful.add(mine.key_point)
        if could_flip(verdicts, doubtful, checkpoint.needed):
            reasons.append(f"doubt on {', '.join(sorted(doubtful))}")
        assessment = Assessment(
            tuple(verdicts),
            passed=rubric.passed,
            confidence=min(v.confidence for v in verdicts),
            decided_by="combined",
            needs_review=bool(reasons),
            details={"reasons": reasons, "rubric": rubric.details, "llm": llm.details if llm else None},
        )
        if self.feedback and not signals:
            feedback = await self.llm.write_feedback(checkpoint, answer, lang, assessment.met())
            return replace(assessment, feedback=feedback)
        return assessment

    def _point(self, rubric: PointVerdict, llm: PointVerdict | None) -> tuple[PointVerdict, bool]:
        """The rubric's verdict with the model's opinion beside it, and whether the point stays in doubt."""
        sure = rubric.confidence >= self.thresholds.rubric_sure
        if llm is None:
            return rubric, not sure
        shown = replace(rubric, evidence=f"{rubric.evidence}; model {llm.evidence}".lstrip("; "))
        if llm.confidence < self.thresholds.llm_sure:
            return shown, not sure
        if llm.met == rubric.met:
            return replace(shown, confidence=max(rubric.confidence, llm.confidence)), False
        return replace(shown, confidence=0.5), True


AssessorKind = Literal["rubric", "llm", "remote"]


@dataclass(frozen=True)
class ModelOptions:
    """Where the grading model is: a local model (path or name under `models_dir`) or a server."""

    llm_model: str | None = None
    models_dir: Path | None = None
    api_url: str | None = None
    api_key: str | None = None
    api_model: str = "default"
    calibration: Path | None = None
    """The calibration records written by `maalem eval assess`; without them the model is trusted nowhere."""


def model_identity(kind: Literal["llm", "remote"], options: ModelOptions) -> str:
    """The name calibration records are kept under: the file's name and size, or the server and model."""
    if kind == "remote":
        return f"remote:{options.api_url}:{options.api_model}"
    from lessons.model_file import find_model

    path = find_model(options.llm_model, options.models_dir)
    return f"{path.name}:{path.stat().st_size}" if path.is_file() else path.name


def trusted_languages(kind: Literal["llm", "remote"], options: ModelOptions) -> frozenset[Lang]:
    """The languages where the model's calibration clears the trust rule; each language logged with why."""
    model = model_identity(kind, options)
    trust = CalibrationFile(options.calibration).trust(model) if options.calibration else {}
    for lang, (_, why) in trust.items():
        log.info("grading model %s in %s: %s", model, lang.value, why)
    trusted = frozenset(lang for lang, (ok, _) in trust.items() if ok)
    if not trusted:
        log.warning(
            "grading model %s is trusted in no language: the rubric and a person decide "
            "(see `maalem config`, measure with `maalem eval assess`)",
            model,
        )
    return trusted


def build_judge(kind: Literal["llm", "remote"], options: ModelOptions) -> YesNoJudge:
    """The model judge the settings ask for: a local model (loaded now) or an OpenAI-compatible server."""
    if kind == "remote":
        from lessons.remote import RemoteAssessor

        if not options.api_url:
            raise ValueError("the remote assessor needs llm_api_url")
        return RemoteAssessor(options.api_url, model=options.api_model, api_key=options.api_key)
    from lessons.llamacpp import load_scoring_lm
    from lessons.llm_assessor import LLMAssessor

    return LLMAssessor(load_scoring_lm(options.llm_model, models_dir=options.models_dir))


def build_assessor(
    kind: AssessorKind, options: ModelOptions | None = None, *, feedback: bool = False
) -> Assessor:
    """The assessor the settings ask for: the rubric alone, or the rubric with a local or remote model."""
    if kind == "rubric":
        return RubricMatcher()
    options = options or ModelOptions()
    return CombinedAssessor(
        RubricMatcher(),
        build_judge(kind, options),
        feedback=feedback,
        trusted=trusted_languages(kind, options),
    )
