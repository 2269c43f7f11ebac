"""Similar posts as a friend types: the pure SimilarityIndex kept current from the database.

Each server process holds its own index and catches up on posts it has not seen (by id) before
every query, so posts written through any process are found without a rebuild. Title vectors
come from the database (stored when a post is written, community.vectors): a worker embeds only
posts that have none yet, and stores what it embeds.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from canyu.community import service, vectors
from canyu.community.models import Post, PostVector
from canyu.community.similarity import SimilarityIndex
from canyu.errors import InvalidInput

MAX_QUERY = 2_000
MAX_K = 50
_BATCH = 2_000  # rows fetched at a time, and posts embedded at a time


@dataclass(frozen=True)
class SimilarPost:
    post: Post
    score: float
    # Likely the same problem: the score passes the calibrated threshold (similarity.py).
    likely_duplicate: bool = False


class SimilarPosts:
    def __init__(self, method: str) -> None:
        self.index = SimilarityIndex(method)
        self._last_id = 0
        self._lock = threading.Lock()

    def catch_up(self, session: Session) -> int:
        """Index every post newer than the last one seen; returns how many were added."""
        with self._lock:
            # One query, streamed: posts with their stored vectors, if any.
            result = session.execute(
                select(Post.id, Post.title, Post.body, PostVector.scale, PostVector.codes)
                .outerjoin(
                    PostVector,
                    (PostVector.post_id == Post.id) & (PostVector.encoder == vectors.ENCODER),
                )
                .where(Post.id > self._last_id)
                .order_by(Post.id)
                .execution_options(yield_per=_BATCH)
            )
            uses_vectors = self.index.method != "bm25"
            missing: list[vectors.Doc] = []
            added = 0
            for rows in result.partitions():
                stored = []
                for row in rows:
                    if row.codes is not None or not uses_vectors:
                        stored.append(row)
                    else:
                        missing.append((row.id, row.title, row.body))
                self.index.add_many(
                    [(row.id, row.title, row.body) for row in stored],
                    vectors.dequantise([row.codes for row in stored], [row.scale for row in stored])
                    if uses_vectors
                    else None,
                )
                self._last_id = rows[-1].id
                added += len(rows)
            # Posts written without a vector (before the migration, or straight into the
            # database): embedded here once and stored for every other worker.
            for start in range(0, len(missing), _BATCH):
                docs = missing[start : start + _BATCH]
                self.index.add_many(docs, vectors.store(session, docs))
            return added

    def search(
        self, session: Session, *, query: str, k: int = 5, exclude: int | None = None
    ) -> list[SimilarPost]:
        if len(query) > MAX_QUERY:
            raise InvalidInput(f"The query has at most {MAX_QUERY} characters.")
        if not 1 <= k <= MAX_K:
            raise InvalidInput(f"k is 1 to {MAX_K}.")
        self.catch_up(session)
        hits = self.index.search(query, k=k * 3, exclude=() if exclude is None else (exclude,))
        posts = {
            p.id: p
            for p in session.scalars(
                select(Post).where(Post.id.in_([h.doc_id for h in hits]), Post.moderation.is_(None))
            )
        }
        best: dict[int, SimilarPost] = {}
        # A merged duplicate stands for the post it was merged into.
        for hit in hits:
            post = posts.get(hit.doc_id)
            if post is None:
                continue
            post = service.canonical(session, post=post)
            if post.id == exclude or (post.id in best and best[post.id].score >= hit.score):
                continue
            best[post.id] = SimilarPost(post, hit.score, hit.likely_duplicate)
        return sorted(best.values(), key=lambda s: -s.score)[:k]
