"""Which language a post is written in, when the friend does not say."""

from __future__ import annotations

from functools import lru_cache

from lingua import Language, LanguageDetector, LanguageDetectorBuilder

# The languages of the markets canyu serves first; ISO 639-1 codes are what posts store.
_LANGUAGES = {
    Language.ENGLISH: "en",
    Language.CHINESE: "zh",
    Language.HINDI: "hi",
    Language.INDONESIAN: "id",
    Language.MALAY: "ms",
    Language.SPANISH: "es",
    Language.PORTUGUESE: "pt",
    Language.RUSSIAN: "ru",
    Language.VIETNAMESE: "vi",
    Language.THAI: "th",
    Language.TAGALOG: "tl",
}
SUPPORTED = frozenset(_LANGUAGES.values())


@lru_cache(maxsize=1)
def _detector() -> LanguageDetector:
    return LanguageDetectorBuilder.from_languages(*_LANGUAGES).build()


def detect_language(text: str, default: str = "en") -> str:
    found = _detector().detect_language_of(text)
    return _LANGUAGES.get(found, default) if found is not None else default
