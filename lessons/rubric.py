"""The deterministic rubric matcher: fuzzy phrase matching per key point, explainable and fast."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from rapidfuzz import fuzz, process

from lessons.assessment import Assessment, PointVerdict, could_flip
from lessons.course import Checkpoint, KeyPoint
from lessons.languages import Lang
from lessons.normalize import normalize, same_word, scripts, stem
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
    stems: tuple[str, ...]
    """Each word as a learner's form of it starts (`lessons.normalize.stem`)."""
    target: str
    scripts: frozenset[str]
    negated: bool
    spaced: tuple[str, ...]
    """The words, then the whole phrasing, with a space either side: looked up in the answer as they are."""


@lru_cache(maxsize=4096)
def _prepared(phrasings: tuple[tuple[Lang, str], ...]) -> tuple[_Phrasing, ...]:
    """A key point's phrasings, normalised once (they repeat across every answer to the question)."""
    out = []
    for lang, text in phrasings:
        words = tuple(content_words(normalize(text).split()))
        target = " ".join(words)
        stems = tuple(stem(w) for w in words)
        spaced = tuple(f" {w} " for w in (*words, target))
        out.append(
            _Phrasing(text, words, stems, target, frozenset(scripts(target)), negated(words, lang), spaced)
        )
    return tuple(out)


def _phrasings(key_point: KeyPoint) -> tuple[_Phrasing, ...]:
    return _prepared(tuple((lang, p) for lang, items in key_point.phrasings.items() for p in items))


def best_match(phrasings: tuple[_Phrasing, ...], clause: Clause) -> Match:
    """Slide each phrasing over the clause's normalised words and keep the closest window.

    Words carrying a clitic or an ending of the phrasing's word count as that word, and a phrasing of two or
    three words said in another order ("الحيط كنفزّكوه" for "نفزّكو الحيط") is met. Phrases of four letters
    or fewer must match exactly (a one-letter slip changes their meaning), longer ones fuzzily. Phrasings in
    another writing system than the clause's are passed over: they share no letter with it.
    """
    best = Match(0.0, "", "")
    words = clause.words
    text = f" {' '.join(words)} "
    for phrasing in phrasings:
        if clause.scripts and phrasing.scripts and not clause.scripts & phrasing.scripts:
            continue
        target_words, target, size = phrasing.words, phrasing.target, len(phrasing.words)
        aligned: Sequence[str] = clause.runs(size)
        if phrasing.spaced[-1] in text:
            return Match(100.0, phrasing.text, target, aligned.index(target))
        if any(s in text and t not in text for s, t in zip(phrasing.stems, phrasing.spaced, strict=False)):
            aligned = _aligned(phrasing, words)  # some word has a clitic or an ending
        if len(target) <= 4:
            if target in aligned:
                return Match(100.0, phrasing.text, target, aligned.index(target))
            continue
        if 1 < size <= 3 and target not in aligned and all(s in text for s in phrasing.stems):
            for index, window in enumerate(clause.runs(size)):
                if _reordered(target_words, window.split()):
                    return Match(100.0, phrasing.text, window, index)
        shorter, longer = clause.runs(size - 1), clause.runs(size + 1)
        found = process.extractOne(
            target, [*aligned, *shorter, *longer], scorer=fuzz.ratio, score_cutoff=best.score
        )
        if found and found[1] > best.score:
            starts = [*range(len(aligned)), *range(len(shorter)), *range(len(longer))]
            best = Match(float(found[1]), phrasing.text, found[0], starts[found[2]])
    return best


def _aligned(phrasing: _Phrasing, words: tuple[str, ...]) -> list[str]:
    """Every window of the phrasing's width, a form of the phrasing's word there written as that word."""
    unique = set(words)
    target_words = phrasing.words
    forms = [
        {w for w in unique if s in w and same_word(t, w)}
        for s, t in zip(phrasing.stems, target_words, strict=True)
    ]
    return [
        " ".join(t if w in form else w for t, form, w in zip(target_words, forms, words[i:], strict=False))
        for i in range(max(1, len(words) - len(target_words) + 1))
    ]


def _reordered(target_words: tuple[str, ...], window: list[str]) -> bool:
    """Whether the window says the phrasing's words, each in some form, in another order."""
    said = [next((t for t in target_words if same_word(t, w)), w) for w in window]
    return sorted(said) == sorted(target_words)


def _denied(match: Match, clause: Clause, phrasings: tuple[_Phrasing, ...], lang: Lang) -> bool:
    """Whether the match is negated where its phrasing is not (or the other way round)."""
    phrasing = next(p for p in phrasings if p.text == match.phrasing)
    end = match.start + len(match.found.split())
    context = clause.words[conjunct_start(clause.words, match.start, LOOK_BACK) : end]
    return negated(context, lang) != phrasing.negated


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
        phrasings = _phrasings(key_point)
        for clause in parts:
            found = best_match(phrasings, clause)
            why = ""
            if found.score >= self.accept:
                why = "asked" if clause.asked else "denied" if _denied(found, clause, phrasings, lang) else ""
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
