"""The deterministic rubric matcher: fuzzy phrase matching per key point, explainable and fast."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from rapidfuzz import fuzz, process

from lessons.assessment import Assessment, PointVerdict, could_flip
from lessons.course import Checkpoint, KeyPoint
from lessons.languages import Lang
from lessons.normalize import normalize, same_word, scripts
from lessons.polarity import Clause, clauses, conjunct_start, content_words, negated

LOOK_BACK = 4
"""Words before a match read with it for a negation ("n'est pas plus petit", "not that the back is…")."""


@dataclass(frozen=True)
class Match:
    """The best place in an answer for one key point."""

    score: float
    """0..100 similarity of the closest phrasing."""
    phrasing: str
    found: str
    start: int = 0
    """Where the matched words begin in the answer's words."""


@dataclass(frozen=True)
class _Phrasing:
    """A phrasing prepared once: its normalised words and the writing systems they use."""

    text: str
    words: tuple[str, ...]
    target: str
    scripts: frozenset[str]
    negated: bool


@lru_cache(maxsize=4096)
def _prepared(phrasings: tuple[tuple[Lang, str], ...]) -> tuple[_Phrasing, ...]:
    """A key point's phrasings, normalised once (they repeat across every answer to the question)."""
    out = []
    for lang, text in phrasings:
        words = tuple(content_words(normalize(text).split()))
        target = " ".join(words)
        out.append(_Phrasing(text, words, target, frozenset(scripts(target)), negated(words, lang)))
    return tuple(out)


def _phrasings(key_point: KeyPoint) -> tuple[_Phrasing, ...]:
    return _prepared(tuple((lang, p) for lang, items in key_point.phrasings.items() for p in items))


def best_match(key_point: KeyPoint, words: list[str] | tuple[str, ...]) -> Match:
    """Slide each phrasing over the answer's normalised words and keep the closest window.

    Words carrying a clitic or an ending of the phrasing's word count as that word; phrases of four letters or
    fewer must match exactly (a one-letter slip changes their meaning), longer ones fuzzily. Phrasings in
    another writing system than the answer's are passed over: they share no letter with it.
    """
    best = Match(0.0, "", "")
    text = f" {' '.join(words)} "
    written = scripts(text)
    windows: dict[int, list[str]] = {}
    for phrasing in _phrasings(key_point):
        if written and phrasing.scripts and not written & phrasing.scripts:
            continue
        target_words, target, size = phrasing.words, phrasing.target, len(phrasing.words)
        aligned = _windows(windows, words, size)
        if any(t in text and f" {t} " not in text for t in target_words):  # some word has a clitic or ending
            aligned = [
                " ".join(
                    t if same_word(t, w) else w for t, w in zip(target_words, window.split(), strict=False)
                )
                for window in aligned
            ]
        if len(target) <= 4:
            if target in aligned:
                return Match(100.0, phrasing.text, target, aligned.index(target))
            continue
        for candidates in (
            aligned,
            _windows(windows, words, size - 1),
            _windows(windows, words, size + 1),
        ):
            found = process.extractOne(target, candidates, scorer=fuzz.ratio, score_cutoff=best.score)
            if found and found[1] > best.score:
                best = Match(float(found[1]), phrasing.text, found[0], found[2])
    return best


def _denied(match: Match, clause: Clause, key_point: KeyPoint, lang: Lang) -> bool:
    """Whether the match is negated where its phrasing is not (or the other way round)."""
    phrasing = next(p for p in _phrasings(key_point) if p.text == match.phrasing)
    end = match.start + len(match.found.split())
    context = clause.words[conjunct_start(clause.words, match.start, LOOK_BACK) : end]
    return negated(context, lang) != phrasing.negated


def _windows(cache: dict[int, list[str]], words: list[str] | tuple[str, ...], width: int) -> list[str]:
    """Every run of `width` consecutive words (the whole answer when shorter), computed once per answer."""
    if width < 1:
        return []
    if width not in cache:
        cache[width] = [" ".join(words[i : i + width]) for i in range(max(1, len(words) - width + 1))]
    return cache[width]


class RubricMatcher:
    """An `Assessor` that finds each key point's phrasings in the answer, tolerating spelling slips."""

    def __init__(self, *, accept: float = 84.0, doubt: float = 70.0) -> None:
        self.accept = accept
        self.doubt = doubt

    def judge(self, key_point: KeyPoint, parts: list[Clause], lang: Lang) -> PointVerdict:
        """One key point's verdict from the answer's clauses; low confidence near the threshold.

        The closest match stated plainly counts; one that is denied or only asked does not, surely.
        """
        match, unsaid = Match(0.0, "", ""), ""
        for clause in parts:
            found = best_match(key_point, clause.words)
            why = ""
            if found.score >= self.accept:
                why = "asked" if clause.asked else "denied" if _denied(found, clause, key_point, lang) else ""
            if why and not unsaid:
                unsaid = f"{found.found!r} ~ {found.phrasing!r} ({why})"
            elif not why and found.score > match.score:
                match = found
        if unsaid and match.score < self.accept:
            return PointVerdict(key_point.id, False, 0.8, unsaid)
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
        """The `Assessor` protocol: `assess_now`, awaitable."""
        return self.assess_now(checkpoint, answer, lang)

    def assess_now(self, checkpoint: Checkpoint, answer: str, lang: Lang) -> Assessment:
        """Per-key-point verdicts; doubtful points that could change the outcome ask for a person."""
        known = frozenset().union(*(p.scripts for kp in checkpoint.key_points for p in _phrasings(kp)))
        written = scripts(answer)
        if written and not written & known:
            unread = tuple(
                PointVerdict(kp.id, False, 0.0, "script not covered by the rubric")
                for kp in checkpoint.key_points
            )
            return Assessment(unread, False, 0.0, "rubric", needs_review=True)
        parts = clauses(answer)
        verdicts = tuple(self.judge(kp, parts, lang) for kp in checkpoint.key_points)
        met = sum(v.met for v in verdicts)
        doubtful = {v.key_point for v in verdicts if v.confidence < 0.7}
        passed = met >= checkpoint.needed
        flips = could_flip(verdicts, doubtful, checkpoint.needed)
        unsaid = passed and any(v.evidence.endswith(("(denied)", "(asked)")) for v in verdicts)
        confidence = min(v.confidence for v in verdicts)
        return Assessment(verdicts, passed, confidence, "rubric", needs_review=flips or unsaid)
