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


def same_word(target: str, word: str) -> bool:
    """Whether `word` is `target` with a clitic or an ending (مقلوبين for مقلوب, m9lobin for m9lob)."""
    if word == target:
        return True
    if len(target) < 3 or len(word) <= len(target):
        return False
    for clitic in _PROCLITICS:
        if (
            word.startswith(clitic)
            and not target.startswith(clitic)
            and len(word) - len(clitic) >= len(target)
        ):
            word = word[len(clitic) :]
            break
    return word.startswith(target) and len(word) - len(target) <= 3


def scripts(text: str) -> set[str]:
    """The writing systems of the letters in `text`: latin, arabic, tifinagh."""
    found = set()
    for char in text:
        if "\u2d30" <= char <= "\u2d7f":
            found.add("tifinagh")
        elif "\u0600" <= char <= "\u06ff":
            found.add("arabic")
        elif (char.isalpha() and char.isascii()) or "\u00c0" <= char <= "\u024f":
            found.add("latin")
    return found
