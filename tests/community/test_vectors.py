"""Stored post vectors: written with the post, loaded by workers instead of re-embedding."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pytest
from conftest import UserFactory
from sqlalchemy import delete, func, insert, select
from typer.testing import CliRunner

from canyu.cli import app as cli
from canyu.community import service, similarity, vectors
from canyu.community.models import Post, PostVector
from canyu.community.similar import SimilarPosts
from canyu.db import Database, utcnow

POSTS = [
    ("Battery drains fast overnight", "Lost 40% while asleep since 4.12.1."),
    ("Camera crashes when opening", "Every time I tap the camera icon."),
    ("相机打开就闪退", "升级到4.12.1后每次都这样。"),
    ("Wi-Fi keeps disconnecting", "Drops every few minutes at home."),
    ("蓝牙经常断开", "耳机连上几分钟就断。"),
    ("Fingerprint sensor is very slow", "Takes two seconds to unlock."),
]
QUERIES = ["battery drain", "相机闪退", "bluetooth disconnects", "fingerprint slow", "wifi"]


class CountingEncoder:
    """The real encoder, counting the texts it is asked to embed."""

    def __init__(self) -> None:
        self.texts = 0
        self._embed = similarity.embed

    def __call__(self, texts: Sequence[str]) -> similarity.FloatArray:
        self.texts += len(texts)
        return self._embed(texts)


@pytest.fixture
def encoder(monkeypatch: pytest.MonkeyPatch) -> CountingEncoder:
    counting = CountingEncoder()
    monkeypatch.setattr(similarity, "embed", counting)
    return counting


def write_posts(database: Database, make_user: UserFactory) -> list[int]:
    author = make_user()
    with database.session() as session:
        return [
            service.create_post(session, author=author, kind="bug", title=t, body=b).id
            for t, b in POSTS
        ]


def test_a_post_vector_is_stored_when_the_post_is_written(
    database: Database, make_user: UserFactory
) -> None:
    ids = write_posts(database, make_user)
    with database.session() as session:
        rows = session.scalars(select(PostVector).order_by(PostVector.post_id)).all()
    assert [row.post_id for row in rows] == ids
    assert {row.encoder for row in rows} == {vectors.ENCODER}
    stored = vectors.dequantise([row.codes for row in rows], [row.scale for row in rows])
    fresh = similarity.embed([title for title, _ in POSTS])
    assert stored.shape == fresh.shape == (len(POSTS), 512)
    assert np.all(np.sum(stored * fresh, axis=1) > 0.999)  # int8 keeps the direction


def test_a_worker_on_a_populated_database_embeds_no_stored_post(
    database: Database, make_user: UserFactory, encoder: CountingEncoder
) -> None:
    write_posts(database, make_user)
    encoder.texts = 0
    similar = SimilarPosts("hybrid")
    with database.session() as session:
        assert similar.catch_up(session) == len(POSTS)
        assert encoder.texts == 0
        hits = similar.search(session, query="Camera crashes when opening")
    assert encoder.texts == 1  # the query only
    assert hits[0].post.title == "Camera crashes when opening"


def test_stored_vectors_give_the_results_of_embedding_at_start(
    database: Database, make_user: UserFactory
) -> None:
    ids = write_posts(database, make_user)
    embedded = similarity.SimilarityIndex("hybrid")
    embedded.add_many((i, t, b) for i, (t, b) in zip(ids, POSTS, strict=True))
    similar = SimilarPosts("hybrid")
    with database.session() as session:
        similar.catch_up(session)
    for query in QUERIES:
        expected = embedded.search(query, k=len(POSTS))
        got = similar.index.search(query, k=len(POSTS))
        assert [h.doc_id for h in got] == [h.doc_id for h in expected], query
        assert [h.likely_duplicate for h in got] == [h.likely_duplicate for h in expected]
        assert np.allclose([h.score for h in got], [h.score for h in expected], atol=0.005)


def test_posts_without_a_vector_are_embedded_once_and_stored_for_every_worker(
    database: Database, make_user: UserFactory, encoder: CountingEncoder
) -> None:
    author = make_user()
    with database.engine.begin() as connection:
        connection.execute(
            insert(Post),
            [
                {
                    "author_id": author.id,
                    "kind": "bug",
                    "title": t,
                    "body": b,
                    "language": "en",
                    "status": "new",
                    "created_at": utcnow(),
                }
                for t, b in POSTS
            ],
        )
    first, second = SimilarPosts("hybrid"), SimilarPosts("hybrid")
    with database.session() as session:
        first.catch_up(session)
    assert encoder.texts == len(POSTS)
    with database.session() as session:
        assert session.scalar(select(func.count()).select_from(PostVector)) == len(POSTS)
        second.catch_up(session)
    assert encoder.texts == len(POSTS)  # the second worker embedded nothing
    assert len(second.index) == len(POSTS)


def test_embed_posts_backfills_posts_without_a_vector(
    database: Database, database_url: str, make_user: UserFactory
) -> None:
    write_posts(database, make_user)
    with database.engine.begin() as connection:
        connection.execute(delete(PostVector).where(PostVector.post_id % 2 == 0))
    result = CliRunner().invoke(cli, ["db", "embed-posts", "--database-url", database_url])
    assert result.exit_code == 0, result.output
    assert f"{len(POSTS) // 2} post vectors stored" in result.output
    with database.session() as session:
        assert session.scalar(select(func.count()).select_from(PostVector)) == len(POSTS)
        assert vectors.backfill(session) == 0


def test_a_bm25_index_needs_no_vectors(
    database: Database, make_user: UserFactory, encoder: CountingEncoder
) -> None:
    write_posts(database, make_user)
    encoder.texts = 0
    with database.session() as session:
        session.execute(delete(PostVector))
        similar = SimilarPosts("bm25")
        assert similar.catch_up(session) == len(POSTS)
    assert encoder.texts == 0
