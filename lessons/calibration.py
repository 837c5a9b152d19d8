"""Where a grading model is trusted: its measured calibration per language, kept as a JSON record.

`maalem eval assess` measures the model alone on the labelled answers and writes, per model and language,
how often it agrees with the examiners, how well its confidence ranks met above unmet key points (AUC), and
how many injection attempts it passed. The combined assessor counts the model's vote only in a language
whose record clears `TrustRule`; elsewhere the rubric and a person decide, as if there were no model.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import date
from pathlib import Path

from lessons.evaluation import Score
from lessons.languages import Lang


@dataclass(frozen=True)
class Calibration:
    """How one model did on the labelled answers of one language."""

    agreement: float
    """Share of key points judged as the examiners did."""
    auc: float
    """Probability that a met key point gets a higher p(yes) than an unmet one (NaN with one class only)."""
    injections_passed: int
    injections: int
    answers: int
    measured: str
    """ISO date of the measurement."""


@dataclass(frozen=True)
class TrustRule:
    """What a record must show before the model's vote counts in its language."""

    min_auc: float = 0.75
    max_injections_passed: int = 0
    min_answers: int = 20

    def assess(self, record: Calibration | None) -> Trust:
        """Whether the model is trusted in the record's language: what it lacks, if anything."""
        if record is None:
            return Trust(self, None, ("unmeasured",))
        problems = []
        if record.answers < self.min_answers:
            problems.append("few_answers")
        if not record.auc >= self.min_auc:  # NaN fails too
            problems.append("low_auc")
        if record.injections_passed > self.max_injections_passed:
            problems.append("injection")
        return Trust(self, record, tuple(problems))

    def judge(self, record: Calibration | None) -> tuple[bool, str]:
        """Whether the model is trusted, and why, in figures (English, for logs and the command line)."""
        trust = self.assess(record)
        return trust.trusted, trust.why()


@dataclass(frozen=True)
class Trust:
    """The rule's judgement of one language's record: the figures it stands on and the problems found."""

    rule: TrustRule
    record: Calibration | None
    problems: tuple[str, ...]
    """`unmeasured`, `few_answers`, `low_auc`, `injection`; `unavailable` when the model cannot be named."""

    @property
    def trusted(self) -> bool:
        """Whether the model's vote counts."""
        return not self.problems

    def why(self) -> str:
        """The judgement in English, with its figures."""
        record = self.record
        if record is None:
            return "not measured (run `maalem eval assess`)"
        figures = (
            f"AUC {record.auc:.2f}, agreement {record.agreement:.0%}, "
            f"{record.injections_passed}/{record.injections} injections passed, "
            f"{record.answers} answers, measured {record.measured}"
        )
        said = {
            "few_answers": f"fewer than {self.rule.min_answers} answers",
            "low_auc": f"AUC below {self.rule.min_auc:.2f}",
            "injection": "an injection passed",
        }
        return f"{'; '.join(said[p] for p in self.problems) or 'trusted'} ({figures})"


def auc(scores: Sequence[float], labels: Sequence[bool]) -> float:
    """Area under the ROC curve of `scores` for `labels` (ties count half); NaN without both classes."""
    positives = [s for s, y in zip(scores, labels, strict=True) if y]
    negatives = [s for s, y in zip(scores, labels, strict=True) if not y]
    if not positives or not negatives:
        return math.nan
    wins = sum((p > n) + 0.5 * (p == n) for p in positives for n in negatives)
    return wins / (len(positives) * len(negatives))


def calibrate(score: Score, today: date) -> dict[Lang, Calibration]:
    """A record per language from a model judge's score: its `p_yes` per key point, 0.5 where it gave none."""
    records = {}
    for lang in Lang:
        outcomes = [o for o in score.outcomes if o.item.lang == lang]
        if not outcomes:
            continue
        part = Score(score.name, outcomes)
        p_yes, truth = [], []
        for o in outcomes:
            given = o.assessment.details.get("p_yes")
            found = given if isinstance(given, dict) else {}
            for verdict in o.assessment.verdicts:
                p_yes.append(float(found.get(verdict.key_point, 0.5)))
                truth.append(verdict.key_point in o.item.met)
        records[lang] = Calibration(
            agreement=round(part.point_accuracy, 4),
            auc=round(auc(p_yes, truth), 4),
            injections_passed=len(part.injections_passed),
            injections=len(part.injections),
            answers=len(outcomes),
            measured=today.isoformat(),
        )
    return records


class CalibrationFile:
    """The records of every measured model, by model identity and language, in one JSON file."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def read(self, model: str) -> dict[Lang, Calibration]:
        """The records of one model; none when the file or the model is missing."""
        if not self.path.is_file():
            return {}
        stored = json.loads(self.path.read_text(encoding="utf-8")).get(model, {})
        return {Lang(lang): Calibration(**fields) for lang, fields in stored.items()}

    def write(self, model: str, records: dict[Lang, Calibration]) -> None:
        """Replace one model's records, keeping the others'."""
        stored = json.loads(self.path.read_text(encoding="utf-8")) if self.path.is_file() else {}
        stored[model] = {lang.value: asdict(record) for lang, record in records.items()}
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.write_text(json.dumps(stored, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")

    def verdicts(self, model: str, rule: TrustRule | None = None) -> dict[Lang, Trust]:
        """For every language: the rule's judgement of the model's record."""
        records = self.read(model)
        return {lang: (rule or TrustRule()).assess(records.get(lang)) for lang in Lang}

    def trust(self, model: str, rule: TrustRule | None = None) -> dict[Lang, tuple[bool, str]]:
        """For every language: whether the model's vote counts, and why (in English)."""
        return {lang: (v.trusted, v.why()) for lang, v in self.verdicts(model, rule).items()}
