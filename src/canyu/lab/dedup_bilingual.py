"""Cross-language retrieval benchmark for :mod:`canyu.community.similarity`.

The public material is gettext catalogues that software projects ship with their packages:
each message is an English text (``msgid``) and its human translation (``msgstr``), e.g.
Sphinx's ``sphinx/locale/zh_CN/LC_MESSAGES/sphinx.po`` or Django's ``zh_Hans`` catalogues.
They are technical like feedback: error messages naming code words, options and numbers.

Both sides of every message become posts of one mixed forum; each translation is a query for
its original (and each original for its translation), with the query itself left out. The
counterpart ranked first and within the top 10 are counted. Messages shorter than four English
words (menu labels), duplicates and untranslated or fuzzy entries are skipped; format
placeholders (``%(name)s``, ``{0}``) and markup are removed, as a friend would not type them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from pathlib import Path

from babel.messages.pofile import read_po

from canyu.community import vectors
from canyu.community.similarity import DEFAULT_METHOD, SimilarityIndex, is_cjk

MIN_WORDS = 4
TOP = 10
_PLACEHOLDER = re.compile(r"%\([^)]*\)[a-z]|%[a-z]|\{[^}]*\}|&[a-z]+;|<[^>]+>")

ProgressCallback = Callable[[int, int], None]


class BilingualDataError(ValueError):
    """A catalogue cannot be used; the message says why, for a person."""


@dataclass(frozen=True)
class BilingualResult:
    pairs: int
    # The translation (mainly CJK) as the query, its original (Latin) the counterpart.
    translation_first: float
    translation_recall_at_10: float
    # The original as the query, its translation the counterpart.
    original_first: float
    original_recall_at_10: float
    # Of the top 5 hits marked likely duplicates across scripts, the share that is the
    # counterpart, and how many were so marked.
    likely_precision: float
    likely_shown: int

    def as_dict(self) -> dict[str, float | int]:
        return asdict(self)


def _plain(text: str) -> str:
    return " ".join(_PLACEHOLDER.sub(" ", text).split())


def load_pairs(paths: Iterable[Path]) -> list[tuple[str, str]]:
    """(original, translation) pairs from gettext catalogues, mainly-Latin originals with
    mainly-CJK translations only."""
    pairs: list[tuple[str, str]] = []
    seen: set[str] = set()
    for path in paths:
        try:
            with path.open("rb") as handle:
                catalog = read_po(handle)
        except FileNotFoundError as error:
            raise BilingualDataError(f"catalogue {path} does not exist") from error
        except (OSError, ValueError, UnicodeDecodeError) as error:
            raise BilingualDataError(f"cannot read catalogue {path}: {error}") from error
        for message in catalog:
            if not message.id or not message.string or message.fuzzy:
                continue
            ids = message.id if isinstance(message.id, tuple | list) else (message.id,)
            strings = (
                message.string if isinstance(message.string, tuple | list) else (message.string,)
            )
            original, translation = _plain(str(ids[0])), _plain(str(strings[0]))
            key = original.lower()
            if (
                len(original.split()) < MIN_WORDS
                or key in seen
                or is_cjk(original)
                or not is_cjk(translation)
            ):
                continue
            seen.add(key)
            pairs.append((original, translation))
    if not pairs:
        raise BilingualDataError("the catalogues hold no translated message into a CJK language")
    return pairs


def evaluate(
    pairs: list[tuple[str, str]],
    method: str = DEFAULT_METHOD,
    progress: ProgressCallback | None = None,
    *,
    exact_vectors: bool = False,
) -> BilingualResult:
    """Originals get ids ``0..n-1``, translations ``n..2n-1``; see the module docstring."""
    count = len(pairs)
    index = SimilarityIndex(method, stored_form=None if exact_vectors else vectors.as_stored)
    index.add_many(
        [(i, original, "") for i, (original, _) in enumerate(pairs)]
        + [(count + i, translation, "") for i, (_, translation) in enumerate(pairs)]
    )
    first = {True: 0, False: 0}
    top = {True: 0, False: 0}
    likely: list[bool] = []
    for i, (original, translation) in enumerate(pairs):
        for is_translation, query, own, counterpart in (
            (True, translation, count + i, i),
            (False, original, i, count + i),
        ):
            hits = index.search(query, k=TOP, exclude=(own,))
            ids = [hit.doc_id for hit in hits]
            first[is_translation] += ids[:1] == [counterpart]
            top[is_translation] += counterpart in ids
            # Across scripts: the hit is in the other half of the ids.
            likely.extend(
                hit.doc_id == counterpart
                for hit in hits[:5]
                if hit.likely_duplicate and (hit.doc_id >= count) != (own >= count)
            )
        if progress is not None:
            progress(i + 1, count)
    return BilingualResult(
        pairs=count,
        translation_first=first[True] / count,
        translation_recall_at_10=top[True] / count,
        original_first=first[False] / count,
        original_recall_at_10=top[False] / count,
        likely_precision=sum(likely) / len(likely) if likely else 0.0,
        likely_shown=len(likely),
    )
