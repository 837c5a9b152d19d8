"""The languages Maalem speaks, their script direction and fallbacks."""

from enum import StrEnum


class Lang(StrEnum):
    """A language of the catalogue and of course content."""

    DARIJA = "ary"  # Moroccan Arabic, Arabic script
    ARABIC = "ar"  # Modern Standard Arabic
    FRENCH = "fr"
    TAMAZIGHT = "zgh"  # Standard Moroccan Tamazight, Tifinagh script
    ENGLISH = "en"


REQUIRED: tuple[Lang, ...] = (Lang.DARIJA, Lang.ARABIC, Lang.FRENCH)
"""Every course carries at least these."""

SCRIPT: dict[Lang, str] = {
    Lang.DARIJA: "arabic",
    Lang.ARABIC: "arabic",
    Lang.FRENCH: "latin",
    Lang.TAMAZIGHT: "tifinagh",
    Lang.ENGLISH: "latin",
}
"""The script each language is written in here (Darija in Latin letters is matched, never generated)."""

RTL: frozenset[Lang] = frozenset({Lang.DARIJA, Lang.ARABIC})

GENDERED: frozenset[Lang] = frozenset({Lang.DARIJA, Lang.ARABIC, Lang.FRENCH})
"""Languages whose messages to a person differ for a woman and a man: the learner is asked which to use."""
ADDRESS_FORMS = ("f", "m")
"""Feminine and masculine: a catalogue key with the suffix `.f` or `.m` is that form of the base key."""

FALLBACKS: dict[Lang, tuple[Lang, ...]] = {
    Lang.DARIJA: (Lang.ARABIC, Lang.FRENCH, Lang.ENGLISH),
    Lang.ARABIC: (Lang.DARIJA, Lang.FRENCH, Lang.ENGLISH),
    Lang.FRENCH: (Lang.ENGLISH, Lang.ARABIC, Lang.DARIJA),
    Lang.TAMAZIGHT: (Lang.FRENCH, Lang.DARIJA, Lang.ARABIC, Lang.ENGLISH),
    Lang.ENGLISH: (Lang.FRENCH, Lang.ARABIC, Lang.DARIJA),
}


def pick(texts: dict[Lang, str], lang: Lang) -> tuple[str, Lang]:
    """The text in `lang`, else in its closest fallback that exists, with the language actually used."""
    for candidate in (lang, *FALLBACKS[lang]):
        if text := texts.get(candidate):
            return text, candidate
    raise KeyError(f"no text in {lang} nor its fallbacks")
