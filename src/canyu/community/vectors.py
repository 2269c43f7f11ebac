"""Each post's title vector, stored once in ``post_vectors`` as int8 codes with a scale.

Embedding is the slow part of the similar-posts index (300-400 titles a second on one core),
so a post is embedded when it is written, and every server worker loads the stored vectors
instead of embedding every post at start. One byte a dimension (512 bytes a post) leaves
retrieval where float32 had it (docs/dedup.md).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

import numpy as np
import numpy.typing as npt
from sqlalchemy import Select, func, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from canyu.community import similarity
from canyu.community.models import Post, PostVector
from canyu.progress import Report

# Names the encoder in similarity.embed; change it with the encoder so old vectors are redone.
ENCODER: Final = "use-multilingual-v3"
_BATCH: Final = 512

Doc = tuple[int, str, str]  # post id, title, body


def quantise(vectors: similarity.FloatArray) -> tuple[npt.NDArray[np.int8], similarity.FloatArray]:
    """int8 codes and a per-row scale, ``codes * scale`` approximating each row."""
    peak = np.abs(vectors).max(axis=1)
    scales = np.where(peak > 0, peak / 127.0, 1.0).astype(np.float32)
    codes = np.rint(vectors / scales[:, None]).clip(-127, 127).astype(np.int8)
    return codes, scales


def dequantise(codes: Sequence[bytes], scales: Sequence[float]) -> similarity.FloatArray:
    """Unit-length rows from stored codes (one array for all of them)."""
    if not codes:
        return np.zeros((0, 0), dtype=np.float32)
    rows = np.frombuffer(b"".join(codes), dtype=np.int8).reshape(len(codes), -1)
    vectors = rows.astype(np.float32) * np.asarray(scales, dtype=np.float32)[:, None]
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return (vectors / np.where(norms > 0, norms, 1.0)).astype(np.float32)


def as_stored(vectors: similarity.FloatArray) -> similarity.FloatArray:
    """``vectors`` as they come back from storage."""
    codes, scales = quantise(vectors)
    return dequantise([code.tobytes() for code in codes], scales.tolist())


def store(session: Session, docs: Sequence[Doc]) -> similarity.FloatArray:
    """Embed ``docs`` and store their vectors, replacing any stored one (another encoder's, or
    the same vector stored meanwhile by another worker); returns them as the index loads them."""
    if not docs:
        return np.zeros((0, 0), dtype=np.float32)
    exact = similarity.embed([similarity.embedded_text(title, body) for _, title, body in docs])
    codes, scales = quantise(exact)
    blobs = [code.tobytes() for code in codes]
    rows = [
        {"post_id": doc_id, "encoder": ENCODER, "scale": float(scale), "codes": blob}
        for (doc_id, _, _), blob, scale in zip(docs, blobs, scales, strict=True)
    ]
    dialect = session.get_bind().dialect.name
    insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
    statement = insert(PostVector)
    session.execute(
        statement.on_conflict_do_update(
            index_elements=[PostVector.post_id],
            set_={
                "encoder": statement.excluded.encoder,
                "scale": statement.excluded.scale,
                "codes": statement.excluded.codes,
            },
        ),
        rows,
    )
    return dequantise(blobs, scales.tolist())


def _missing() -> Select[int, str, str]:
    return (
        select(Post.id, Post.title, Post.body)
        .outerjoin(PostVector, (PostVector.post_id == Post.id) & (PostVector.encoder == ENCODER))
        .where(PostVector.post_id.is_(None))
    )


def backfill(session: Session, *, report: Report | None = None) -> int:
    """Store a vector for every post without a current one, in committed batches; returns
    how many were stored."""
    missing = select(func.count()).select_from(_missing().subquery())
    total = session.scalar(missing) or 0
    done = 0
    after = 0
    while done < total:
        rows = session.execute(
            _missing().where(Post.id > after).order_by(Post.id).limit(_BATCH)
        ).all()
        if not rows:
            break
        store(session, [(row.id, row.title, row.body) for row in rows])
        session.commit()
        after = rows[-1].id
        done += len(rows)
        if report is not None:
            report("embedding posts", done, total)
    return done
