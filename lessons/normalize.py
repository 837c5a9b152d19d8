"""Text normalisation so answers match rubric phrasings across scripts and spellings."""

from __future__ import annotations

import re
import unicodedata

_ARABIC_MARKS = re.compile("[\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06ed\u0640]")
_ARABIC_LETTERS = str.maketrans(
    {
        "أ": "ا",
        "إ": "ا",
        "آ": "ا",
        "ٱ": "ا",
        "ى": "ي",
        "ئ": "ي",
        "ؤ": "و",
        "ة": "ه",
        "ڭ": "ك",
        "گ": "ك",
        "ڤ": "ف",
        "ء": "",
    }
)
# Darija in Latin letters writes some Arabic sounds with digits ("9" for ق, "3" for ع, "7" for ح).
_ARABIZI = str.maketrans({"2": "", "3": "a", "5": "kh", "7": "h", "8": "gh", "9": "q"})
_WORD = re.compile(r"\w+")
_DIGITS = re.compile(r"\d")
_LETTERS = re.compile(r"[^\W\d_]")


def _arabizi(token: str) -> str:
    """Read digits inside a Latin word as the letters Darija writers mean; plain numbers stay numbers."""
    if _DIGITS.search(token) and _LETTERS.search(token) and token.isascii():
        return token.translate(_ARABIZI)
    return token


def normalize(text: str) -> str:
    """Lower-case words without accents, Arabic diacritics or letter variants, Latin Darija digits read."""
    text = unicodedata.normalize("NFKC", text).casefold()
    text = _ARABIC_MARKS.sub("", text).translate(_ARABIC_LETTERS)
    text = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    return " ".join(_arabizi(t) for t in _WORD.findall(text))


_PROCLITICS = ("وال", "بال", "فال", "لل", "ال", "و", "ف", "ب", "ل")
_OBJECTS = ("ها", "هم")
"""Object pronouns on a phrasing's verb that a learner's form may leave out (نوسّطها, "I centre it")."""


def stem(target: str) -> str:
    """A phrasing's word without an object pronoun, the part a learner's form of it starts with."""
    for ending in _OBJECTS:
        if target.endswith(ending) and len(target) - len(ending) >= 3:
            return target[: -len(ending)]
    return target


def same_word(target: str, word: str) -> bool:
    """Whether `word` is `target` with a clitic or an ending (مقلوبين for مقلوب, m9lobin for m9lob).

    Darija's present marker ك on a verb (كنوسط, كتدخل) and an object pronoun on the phrasing's verb
    (نوسّطها) do not change the word either.
    """
    if word == target:
        return True
    if len(target) < 3:
        return False
    for clitic in _PROCLITICS:
        if (
            word.startswith(clitic)
            and not target.startswith(clitic)
            and len(word) - len(clitic) >= len(target)
        ):
            word = word[len(clitic) :]
            break
    if word[:1] == "ك" and word[1:2] in {"ن", "ت", "ي"} and len(word) >= 4 and not target.startswith("ك"):
        word = word[1:]
    target = stem(target)
    return word.startswith(target) and len(word) - len(target) <= 3


_TIFINAGH = re.compile("[\u2d30-\u2d7f]")
_ARABIC = re.compile("[\u0600-\u06ff]")
_LATIN = re.compile("[a-zA-Z\u00c0-\u024f]")


def scripts(text: str) -> set[str]:
    """The writing systems of the letters in `text`: latin, arabic, tifinagh."""
    found = set()
    if _TIFINAGH.search(text):
        found.add("tifinagh")
    if _ARABIC.search(text):
        found.add("arabic")
    if _LATIN.search(text):
        found.add("latin")
    return found
