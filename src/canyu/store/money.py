"""Prices in local currency, formatted by Babel for the viewer's language in the sale's country."""

from __future__ import annotations

from decimal import Decimal
from functools import lru_cache

from babel import Locale, UnknownLocaleError
from babel.numbers import format_currency, get_territory_currencies


@lru_cache(maxsize=256)
def price_locale(language: str, country: str) -> Locale:
    """The viewer's language with the country's conventions where Babel has them (en_IN groups
    lakhs, es_ES puts the euro sign last); the plain language otherwise."""
    candidates = [f"{language}_{country}"]
    if language == "zh":
        candidates.append(f"zh_Hans_{country}")
    for tag in candidates:
        try:
            return Locale.parse(tag)
        except (UnknownLocaleError, ValueError):
            continue
    return Locale.parse(language)


def format_price(amount: Decimal, currency: str, *, country: str, language: str) -> str:
    return str(format_currency(amount, currency, locale=price_locale(language, country)))


def local_currency(country: str) -> str:
    """The currency in use in a country today (ISO 4217), e.g. CN → CNY, ES → EUR."""
    currencies = get_territory_currencies(country)
    if not currencies:
        raise ValueError(f"no current currency known for {country!r}")
    return str(currencies[0])
