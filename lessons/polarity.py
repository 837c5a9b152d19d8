"""Whether an answer states a thing, denies it or only asks about it: clauses, negation and question cues.

The cues are written normalised (`lessons.normalize`): French, English, Arabic, Darija in both scripts and
Tamazight. A match whose words (and the few before them) are negated when its rubric phrasing is not, or
the other way round, denies the key point ("le dos n'est pas plus petit" against "dos plus petit", "it
does stick" against "does not stick"); "ما كيلصقش" against "ما كيلصقش" states it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from lessons.languages import Lang
from lessons.normalize import normalize, scripts

_NEGATIONS = frozenset(
    {
        # French: ne/n' … pas, plus, jamais, rien, aucun; sans
        "ne", "n", "pas", "jamais", "rien", "aucun", "aucune", "sans", "ni",
        # English (n't is read as "not" first)
        "not", "no", "never", "without", "nothing", "none", "nor", "neither", "cannot",
        # Arabic
        "لا", "ليس", "ليست", "لست", "ليسوا", "لم", "لن", "بدون", "دون",
        # Darija, Arabic script and Latin letters
        "ما", "ماشي", "مشي", "والو", "بلا", "ma", "machi", "mashi", "mchi", "walou", "walo", "bla",
        # Tamazight
        "ur", "ⵓⵔ",
    }
)  # fmt: skip
_ARABIC_ONLY = frozenset({"غير"})
"""Negations in Modern Standard Arabic that mean something else in Darija (غير: "only")."""
_FILLERS = frozenset(
    {
        "ديال", "ديالو", "ديالها", "ديالهم", "ديالي", "ديالك", "راه", "راها", "راهم", "راني",
        "كيكون", "كتكون", "كيكونو", "تكون", "يكون", "كاين", "كاينه",
        "dyal", "dial", "dyalha", "dyalo", "dyalhom", "rah", "raha", "rahom", "kaykon", "katkon", "kayn",
        "اي",
    }
)  # fmt: skip
"""Darija function words a phrasing leaves out: "الظهر ديالها كيكون صغير" says "الظهر صغير"; and Arabic أي."""
_SAME_NEGATION = {"never": "not", "jamais": "pas"}
"""Negations read as the plainer one, so "it never sticks" meets "does not stick" (matched as "not stick")."""
_AUXILIARIES = frozenset({"do", "does", "did"})
_QUESTION_OPENERS = (
    ("est", "ce"), ("wach",), ("واش",), ("هل",), ("ash",), ("chno",), ("شنو",),
    ("ⵉⵙ",), ("is", "it"), ("does", "it"), ("do", "we"), ("do", "you"), ("is", "the"), ("are", "the"),
)  # fmt: skip
_AND = frozenset(
    {"and", "et", "ou", "or", "o", "w", "u", "و", "ثم", "puis", "then", "but", "mais", "لكن", "walakin"}
)
_CLAUSE_END = re.compile(r"([.!?;,:\n؟،؛]+)")
_HEDGES = frozenset({"maybe", "perhaps", "ربما", "بالاك", "imken", "balak"})
"""Words of a learner guessing rather than answering; a clause holding one counts as asked."""
_NOT = re.compile(r"n[’']t\b", re.IGNORECASE)


@dataclass(frozen=True)
class Clause:
    """A piece of an answer between punctuation: its normalised words, and whether it is a question."""

    words: tuple[str, ...]
    """Normalised, without Darija function words."""
    asked: bool
    scripts: frozenset[str]
    """The writing systems its words use."""
    _runs: dict[int, tuple[str, ...]] = field(default_factory=dict, compare=False, repr=False)

    def runs(self, width: int) -> tuple[str, ...]:
        """Every run of `width` consecutive words (the whole clause when shorter), made once per width."""
        if width not in self._runs:
            words = self.words
            count = max(1, len(words) - width + 1) if width > 0 else 0
            self._runs[width] = tuple(" ".join(words[i : i + width]) for i in range(count))
        return self._runs[width]


def _circumfix(word: str) -> bool:
    """Darija's ما…ش around a verb, written as one word: ماكيلصقش, makaylsse9ch (read as makaylsseqch)."""
    if word.startswith("ما") and word.endswith("ش") and len(word) >= 5:
        return True
    return word.isascii() and word.startswith("ma") and word.endswith(("ch", "sh")) and len(word) >= 7


def _negation(word: str, arabic: bool) -> bool:
    if word in _NEGATIONS or (arabic and word in _ARABIC_ONLY) or _circumfix(word):
        return True
    return word[:1] in {"و", "ف"} and len(word) > 2 and _negation(word[1:], arabic)  # ولا, وما, فما…


def negated(words: tuple[str, ...] | list[str], lang: Lang) -> bool:
    """Whether the normalised words hold a negation cue (an Arabic "and" or "so" stuck on it included)."""
    arabic = lang == Lang.ARABIC
    return any(_negation(w, arabic) for w in words)


def conjunct_start(words: tuple[str, ...], start: int, limit: int) -> int:
    """Where the part of a clause holding `words[start]` begins, looking back at most `limit` words.

    "And" ends the look-back ("…ما يدخلش وكيقوى": the negation belongs to the first verb only).
    """
    begin = start
    while begin > max(0, start - limit) and not _opens(words[begin]):
        if words[begin - 1] in _AND:
            break
        begin -= 1
    return begin


def _opens(word: str) -> bool:
    """Whether the word starts a new conjunct: Arabic "و" written on it."""
    return word.startswith("و") and len(word) > 2


def content_words(words: tuple[str, ...] | list[str]) -> list[str]:
    """The words without the function words phrasings leave out, negations written the plainer way."""
    return [
        _SAME_NEGATION.get(w, w)
        for w, after in zip(words, [*words[1:], ""], strict=False)
        if w not in _FILLERS and not (w in _AUXILIARIES and after == "not")
    ]


def clauses(answer: str) -> list[Clause]:
    """The answer cut at punctuation, each piece normalised, questions marked."""
    text = _NOT.sub(" not", answer)
    pieces = _CLAUSE_END.split(text)
    out = []
    for piece, end in zip(pieces[::2], [*pieces[1::2], ""], strict=True):
        words = tuple(content_words(normalize(piece).split()))
        if not words:
            continue
        opened = any(words[: len(o)] == o for o in _QUESTION_OPENERS)
        hedged = not _HEDGES.isdisjoint(words) or "peut etre" in " ".join(words)
        asked = "?" in end or "؟" in end or opened or hedged
        out.append(Clause(words, asked, frozenset(scripts(" ".join(words)))))
    return out
