"""English and Chinese: message catalogues (.po, read with Babel) and locale negotiation."""

from __future__ import annotations

import io
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path

from babel import Locale, negotiate_locale
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

LOCALES = ("en", "zh")
DEFAULT_LOCALE = "en"
LOCALE_DIR = Path(__file__).parent / "web" / "locale"

Gettext = Callable[[str], str]


@lru_cache(maxsize=len(LOCALES))
def translations(locale: str) -> NullTranslations:
    """The catalogue for a locale, compiled in memory from its .po file (no build step)."""
    po_path = LOCALE_DIR / locale / "messages.po"
    if locale == DEFAULT_LOCALE or not po_path.exists():
        return NullTranslations()
    with po_path.open("rb") as handle:
        catalog = read_po(handle, locale=locale)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return Translations(fp=buffer)


def gettext_for(locale: str) -> Gettext:
    return translations(locale if locale in LOCALES else DEFAULT_LOCALE).gettext


def locale_from_accept_language(header: str | None) -> str:
    """Pick en or zh from an Accept-Language header (zh-CN, zh-TW, en-GB ...)."""
    if not header:
        return DEFAULT_LOCALE
    preferred: list[tuple[float, str]] = []
    for index, part in enumerate(header.split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        if tag:
            preferred.append((-quality + index * 1e-6, tag.replace("_", "-")))
    tags = [tag for _, tag in sorted(preferred)]
    return negotiate_locale(tags, list(LOCALES), sep="-") or DEFAULT_LOCALE


def display_country(code: str, locale: str) -> str:
    names = Locale.parse(locale if locale in LOCALES else DEFAULT_LOCALE).territories
    return str(names.get(code, code))
