"""The message catalogue: gettext `.po` files in five languages, read with Babel, bidi-safe output."""

from __future__ import annotations

import gettext
import io
from collections.abc import Mapping
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from lessons.languages import ADDRESS_FORMS, FALLBACKS, RTL, Lang

LOCALE_DIR = Path(__file__).resolve().parent / "locale"
DOMAIN = "maalem"
RLM = "\u200f"
FSI, PDI = "\u2068", "\u2069"
LANGUAGE_NAMES = {
    Lang.DARIJA: "الدارجة",
    Lang.ARABIC: "العربية",
    Lang.FRENCH: "Français",
    Lang.TAMAZIGHT: "ⵜⴰⵎⴰⵣⵉⵖⵜ",
    Lang.ENGLISH: "English",
}


def _load(lang: Lang) -> gettext.GNUTranslations:
    path = LOCALE_DIR / lang.value / "LC_MESSAGES" / f"{DOMAIN}.po"
    with path.open("rb") as po:
        catalog = read_po(po)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return gettext.GNUTranslations(buffer)


class Catalog:
    """Translations for every language, each falling back along the language's chain."""

    def __init__(self) -> None:
        loaded = {lang: _load(lang) for lang in Lang}
        self._chains = {lang: [loaded[lang], *(loaded[f] for f in FALLBACKS[lang])] for lang in Lang}

    def has(self, lang: Lang, key: str) -> bool:
        """Whether `key` is translated in `lang` itself."""
        return self._chains[lang][0].gettext(key) != key

    def t(
        self, lang: Lang, key: str, params: Mapping[str, str | int] | None = None, *, form: str | None = None
    ) -> str:
        """The message `key` in `lang` with `params` filled in, laid out for its direction; addressed in the
        person's `form` ("f" or "m", see `ADDRESS_FORMS`) where `key.f` or `key.m` exists, else the base."""
        keys = (f"{key}.{form}", key) if form in ADDRESS_FORMS else (key,)
        template = next(
            (text for tr in self._chains[lang] for k in keys if (text := tr.gettext(k)) != k), key
        )
        values = dict(params or {})
        if lang in RTL:
            values = {
                k: f"{FSI}{v}{PDI}" if isinstance(v, str) and "\n" not in v else v for k, v in values.items()
            }
        text = template.format(**values) if values else template
        return rtl_lines(text) if lang in RTL else text


_BIDI_MARKS = dict.fromkeys(map(ord, "\u200e\u200f\u2066\u2067\u2068\u2069"))


def without_bidi_marks(text: str) -> str:
    """The text without the invisible direction marks (for speech, or a terminal that reorders itself)."""
    return text.translate(_BIDI_MARKS)


def rtl_lines(text: str) -> str:
    """Start every line with a right-to-left mark so apps lay it out right to left."""
    return "\n".join(line if line.startswith(RLM) else RLM + line for line in text.split("\n"))
