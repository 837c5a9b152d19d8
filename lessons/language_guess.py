"""Guessing a learner's language from their first words, to be confirmed by a button."""

from __future__ import annotations

import re

from lessons.languages import Lang
from lessons.normalize import normalize

_TIFINAGH = re.compile("[\u2d30-\u2d7f]")
_ARABIC = re.compile("[\u0600-\u06ff]")
_LATIN = re.compile("[A-Za-zÀ-ÿ]")
_DARIJA_ARABIC = {
    "شنو",
    "بغيت",
    "دابا",
    "واش",
    "كيفاش",
    "ديال",
    "مزيان",
    "بزاف",
    "لاباس",
    "فين",
    "علاش",
    "كنبغي",
    "غادي",
}
_DARIJA_LATIN = {
    "salam",
    "slm",
    "bghit",
    "labas",
    "wach",
    "chno",
    "chnou",
    "kifach",
    "dyal",
    "mzyan",
    "bzaf",
    "daba",
}
_TAMAZIGHT = {"azul", "tanmmirt", "tanemmirt", "manzakin", "mamek", "ازول", "أزول"}
"""Tamazight greetings and thanks in Latin or Arabic letters ("azul" is not Darija)."""
_FRENCH = {
    "bonjour",
    "salut",
    "je",
    "merci",
    "oui",
    "veux",
    "apprendre",
    "est",
    "le",
    "la",
    "bonsoir",
    "coucou",
}
_ENGLISH = {"hello", "hi", "i", "want", "to", "learn", "yes", "the", "thanks", "hey", "please"}
_LOCALES = {
    "fr": Lang.FRENCH,
    "en": Lang.ENGLISH,
    "ar": Lang.ARABIC,
    "zgh": Lang.TAMAZIGHT,
    "ber": Lang.TAMAZIGHT,
}


def guess_language(text: str, locale: str | None, default: Lang) -> Lang:
    """The most likely language of `text`; the platform locale and then `default` break ties."""
    words = set(normalize(text).split())
    raw_words = set(text.split())
    if _TIFINAGH.search(text) or (words | raw_words) & _TAMAZIGHT:
        return Lang.TAMAZIGHT
    if _ARABIC.search(text):
        return (
            Lang.DARIJA
            if raw_words & _DARIJA_ARABIC or not words - {"سلام", "السلام", "عليكم"}
            else Lang.ARABIC
        )
    if _LATIN.search(text):
        if words & _DARIJA_LATIN or any(ch.isdigit() for word in words for ch in word if not word.isdigit()):
            return Lang.DARIJA
        french, english = len(words & _FRENCH), len(words & _ENGLISH)
        if french or english:
            return Lang.FRENCH if french >= english else Lang.ENGLISH
    hint = (locale or "").split("-")[0].lower()
    return _LOCALES.get(hint, default)
