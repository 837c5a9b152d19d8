"""The deterministic rubric matcher: fuzzy phrase matching per key point, explainable and fast."""

from __future__ import annotations

from dataclasses import dataclass

from rapidfuzz import fuzz

from lessons.assessment import Assessment, PointVerdict
from lessons.course import Checkpoint, KeyPoint
from lessons.languages import Lang
from lessons.normalize import normalize, same_word, scripts


@dataclass(frozen=True)
class Match:
    """The best place in an answer for one key point."""

    score: float
    """0..100 similarity of the closest phrasing."""
    phrasing: str
    found: str


def best_match(key_point: KeyPoint, answer: str) -> Match:
    """Slide each phrasing over the answer's words and keep the closest window."""
    words = normalize(answer).split()
    best = Match(0.0, "", "")
    for phrasings in key_point.phrasings.values():
        for phrasing in phrasings:
            target = normalize(phrasing)
            size = len(target.split())
            for width in {max(1, size - 1), size, size + 1}:
                for start in range(max(1, len(words) - width + 1)):
                    window = " ".join(words[start : start + width])
                    score = _similarity(target, window)
                    if score > best.score:
                        best = Match(score, phrasing, window)
    return best


def _similarity(target: str, window: str) -> float:
    """Exact for short words (a one-letter slip changes their meaning), fuzzy for longer phrases."""
    target_words, window_words = target.split(), window.split()
    if len(target_words) == len(window_words):
        window = " ".join(
            t if same_word(t, w) else w for t, w in zip(target_words, window_words, strict=True)
        )
    if len(target) <= 4:
        return 100.0 if target == window else 0.0
    return float(fuzz.ratio(target, window))


class RubricMatcher:
    """An `Assessor` that finds each key point's phrasings in the answer, tolerating spelling slips."""

    def __init__(self, *, accept: float = 84.0, doubt: float = 70.0) -> None:
        self.accept = accept
        self.doubt = doubt

    def judge(self, key_point: KeyPoint, answer: str) -> PointVerdict:
        """Verdict for one key point; scores near the threshold carry low confidence."""
        match = best_match(key_point, answer)
        met = match.score >= self.accept
        margin = abs(match.score - (self.accept if met else self.doubt))
        if met:
            confidence = min(1.0, 0.75 + margin / 64)
        elif match.score >= self.doubt:
            confidence = 0.5
        else:
            confidence = min(1.0, 0.75 + margin / 280)
        evidence = f"{match.found!r} ~ {match.phrasing!r} ({match.score:.0f})" if match.phrasing else ""
        return PointVerdict(key_point.id, met, round(confidence, 3), evidence)

    async def assess(self, checkpoint: Checkpoint, answer: str, lang: Lang) -> Assessment:
        """Per-key-point verdicts; doubtful points that could change the outcome ask for a person."""
        known = {
            s
            for kp in checkpoint.key_points
            for items in kp.phrasings.values()
            for p in items
            for s in scripts(p)
        }
        written = scripts(answer)
        if written and not written & known:
            unread = tuple(
                PointVerdict(kp.id, False, 0.0, "script not covered by the rubric")
                for kp in checkpoint.key_points
            )
            return Assessment(unread, False, 0.0, "rubric", needs_review=True)
        verdicts = tuple(self.judge(kp, answer) for kp in checkpoint.key_points)
        met = sum(v.met for v in verdicts)
        doubtful = [v for v in verdicts if v.confidence < 0.7]
        passed = met >= checkpoint.needed
        flips = (not passed and met + len(doubtful) >= checkpoint.needed) or (
            passed and met - sum(v.met for v in doubtful) < checkpoint.needed
        )
        confidence = min(v.confidence for v in verdicts)
        return Assessment(verdicts, passed, confidence, "rubric", needs_review=flips)
