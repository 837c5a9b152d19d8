"""Cheap checks around the grader: answers that try to instruct it, generated feedback before it is sent."""

from __future__ import annotations

import re
import unicodedata

from lessons.languages import SCRIPT, Lang
from lessons.normalize import normalize, scripts

# Written against `normalize()`'s output: lower case, no accents, Arabic letter variants folded
# (ة→ه, أ→ا, ى→ي), Darija digits read as letters (3→a, 7→h, 9→q).
_INJECTION = re.compile(
    r"\b(?:"
    # English
    r"disregard|full marks?|full points?|full score|maximum (?:score|marks?|points?)|"
    r"(?:previous|above|your|the|all) (?:instructions?|rules|rubric|prompt)|system prompt|you are now|"
    r"(?:give|grade|mark|score|rate) (?:me|this|it|my answer)\b.{0,30}\b"
    r"(?:pass|passed|correct|full|perfect|100|10 10|20 20)|"
    r"(?:say|answer|reply|respond|output) (?:only )?yes|"
    r"mark (?:it|this|me|my answer) (?:as )?(?:correct|passed|right)|"
    # French
    r"ignor\w*|oubli\w* (?:les|toutes|tes|vos) (?:instructions|consignes|regles)|consignes?|bareme|"
    r"note (?:maximale|maximum|complete|parfaite)|(?:tous|toutes) les points|"
    r"(?:reponds?|repondez|dis|dites) oui|"
    r"(?:valide|validez|accepte|acceptez) (?:ma|cette|la) reponse|(?:donne|donnez|mets|mettez)(?: moi)? "
    r"(?:la note|20|10|tous|la totalite)|"
    # Arabic
    r"تجاهل\w*|التعليمات|انس(?:ي|ى)? \w*|"
    r"(?:ال)?(?:علامه|درجه|نقطه) (?:ال)?كامله|"
    r"(?:قل|اجب|اجيبي|جاوب|قول) (?:ب)?نعم|اعتبر\w* (?:\w+ )?صحيح\w*|"
    # Darija (Arabic letters, then Latin letters)
    r"عطيني \w*|نجحني|دوزني|خليني ندوز|ديرها صحيحه|قول (?:ليا )?(?:اه|ايه|واه)|"
    r"tjah[ae]?l\w*|atini\b.{0,20}\b(?:nqta|noqta|nuqta|point|20|10)|n(?:a|e)?jj?ahni|d(?:o|ou|e)w?w?zni|"
    r"qoul? (?:ah|iyeh|wah|yes|oui)|"
    # Tamazight ("give me …", Tifinagh then Latin letters)
    r"ⴼⴽ ⵉⵢⵉ \w+|fk iyi \w+"
    r")"
)


def injection_signals(answer: str) -> list[str]:
    """Phrases in an answer that try to instruct the grader rather than answer the question."""
    return [m.group(0) for m in _INJECTION.finditer(normalize(answer))]


MAX_FEEDBACK_CHARS = 280
"""About twenty seconds when read aloud."""
_MARKUP = re.compile(r"[<>*_`#|\[\]{}\\~]|https?:|www\.|&\w+;|^\s*(?:[-•]|\d+[.)])\s", re.MULTILINE)
_FUNCTION_WORDS: dict[Lang, frozenset[str]] = {
    Lang.FRENCH: frozenset(
        {"le", "la", "les", "de", "des", "une", "et", "est", "tu", "vous", "pas", "avec", "pour"}
    ),
    Lang.ENGLISH: frozenset(
        {"the", "and", "is", "are", "you", "your", "not", "with", "for", "to", "of", "this"}
    ),
}


def _reads_as(words: list[str], lang: Lang) -> bool:
    """For French and English, which share a script: more of its own function words than the other's."""
    other = Lang.ENGLISH if lang == Lang.FRENCH else Lang.FRENCH
    return sum(w in _FUNCTION_WORDS[lang] for w in words) > sum(w in _FUNCTION_WORDS[other] for w in words)


def check_feedback(text: str, lang: Lang) -> str | None:
    """Feedback fit to send as is (short plain text in the learner's script and language), else None."""
    if _MARKUP.search(text):
        return None
    text = " ".join(text.split())
    if any(unicodedata.category(c) in {"Cc", "Cf", "Co", "Cs"} for c in text):
        return None
    words = text.casefold().replace("'", " ").replace("’", " ").split()
    if not 12 <= len(text) <= MAX_FEEDBACK_CHARS or len(words) < 3 or scripts(text) != {SCRIPT[lang]}:
        return None
    if lang in _FUNCTION_WORDS and not _reads_as(words, lang):
        return None
    if len(words) >= 8 and len(set(words)) < 0.6 * len(words):
        return None  # a generation stuck repeating itself
    return text
