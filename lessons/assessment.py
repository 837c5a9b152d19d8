"""What assessing an answer returns, and the protocol every assessor follows."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Literal, Protocol, cast, runtime_checkable

from lessons.course import Checkpoint
from lessons.languages import Lang

Decider = Literal["rubric", "llm", "combined", "human"]


@dataclass(frozen=True)
class PointVerdict:
    """Whether an answer covers one key point of the rubric."""

    key_point: str
    met: bool
    confidence: float
    """0..1: how sure the decider is of `met`."""
    evidence: str = ""
    """The phrase (or model score) that decided it."""


@dataclass(frozen=True)
class Assessment:
    """The verdict on one answer: per key point, overall, and whether a person must look."""

    verdicts: tuple[PointVerdict, ...]
    passed: bool
    confidence: float
    decided_by: Decider
    needs_review: bool = False
    feedback: str | None = None
    """Free feedback text already checked for the learner's language; None means use the templates."""
    details: dict[str, object] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """The one stored and printed shape: the verdict, per key point, who decided, feedback, details."""
        return {
            "passed": self.passed,
            "confidence": self.confidence,
            "decided_by": self.decided_by,
            "needs_review": self.needs_review,
            "feedback": self.feedback,
            "key_points": [asdict(v) for v in self.verdicts],
            "details": self.details,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Assessment:
        """Read `to_json`'s shape back; also the older rows' (`verdicts` for `key_points`, no details)."""
        points = data.get("key_points", data.get("verdicts", []))
        return cls(
            tuple(
                PointVerdict(p["key_point"], bool(p["met"]), float(p["confidence"]), p.get("evidence", ""))
                for p in points
            ),
            passed=bool(data.get("passed")),
            confidence=float(data.get("confidence") or 0.0),
            decided_by=cast(Decider, data.get("decided_by", "rubric")),
            needs_review=bool(data.get("needs_review")),
            feedback=data.get("feedback"),
            details=dict(data.get("details") or {}),
        )

    def met(self) -> list[str]:
        """Ids of the key points the answer covers."""
        return [v.key_point for v in self.verdicts if v.met]

    def missing(self) -> list[str]:
        """Ids of the key points the answer lacks."""
        return [v.key_point for v in self.verdicts if not v.met]


def could_flip(verdicts: Sequence[PointVerdict], doubtful: set[str], needed: int) -> bool:
    """Whether the doubtful points, judged the other way, would change pass into fail or back."""
    met = sum(v.met for v in verdicts)
    met_doubtful = sum(v.met for v in verdicts if v.key_point in doubtful)
    if met >= needed:
        return met - met_doubtful < needed
    return met + (len(doubtful) - met_doubtful) >= needed


class Assessor(Protocol):
    """Checks an answer against a checkpoint's rubric."""

    async def assess(self, checkpoint: Checkpoint, answer: str, lang: Lang) -> Assessment:
        """Judge `answer` (typed text or a transcript) written or spoken in `lang`."""
        ...


@runtime_checkable
class InlineAssessor(Protocol):
    """An assessor fast and pure enough to run inside a unit of work (no model, no I/O)."""

    def assess_now(self, checkpoint: Checkpoint, answer: str, lang: Lang) -> Assessment:
        """Judge `answer` at once."""
        ...
