"""English and Chinese: message catalogues (.po, read with Babel) and locale negotiation."""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path

from babel import Locale, negotiate_locale
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

LOCALES = ("en", "zh")
DEFAULT_LOCALE = "en"
LOCALE_DIR = Path(__file__).parent / "web" / "locale"

Gettext = Callable[[str], str]
LANGUAGE_NAMES = {"en": "English", "zh": "中文"}
# Territory codes Babel knows that are not countries anyone lives in.
_NOT_COUNTRIES = frozenset({"EU", "EZ", "UN", "QO", "ZZ", "XA", "XB"})


@lru_cache(maxsize=len(LOCALES))
def translations(locale: str) -> NullTranslations:
    """The catalogue for a locale, compiled in memory (no build step) from every .po file in
    ``web/locale/<locale>/``: one file per domain, so domains add strings without conflicts."""
    po_files = sorted((LOCALE_DIR / locale).glob("*.po"))
    if locale == DEFAULT_LOCALE or not po_files:
        return NullTranslations()
    merged = Catalog(locale=locale)
    for po_path in po_files:
        with po_path.open("rb") as handle:
            for message in read_po(handle, locale=locale):
                if message.id and message.string:
                    merged[message.id] = message
    buffer = io.BytesIO()
    write_mo(buffer, merged)
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


@lru_cache(maxsize=len(LOCALES))
def countries(locale: str) -> list[tuple[str, str]]:
    """(code, name) of every country, named and sorted in the viewer's language."""
    names = Locale.parse(locale if locale in LOCALES else "en").territories
    found = [
        (code, name)
        for code, name in names.items()
        if re.fullmatch(r"[A-Z]{2}", code) and code not in _NOT_COUNTRIES
    ]
    return sorted(found, key=lambda item: item[1])
