"""The check-in fast path answers exactly like the documented route, and passes everything else
through to the app."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from psycopg.conninfo import conninfo_to_dict
from releases.fixtures import Shop
from sqlalchemy import select, text, update
from starlette.types import Message, Receive, Scope, Send

from canyu.db import Database, utcnow
from canyu.devices import service as devices
from canyu.devices.identity import token_hash
from canyu.devices.lookups import (
    FastRegistry,
    _conninfo,
    _LookupConnection,
    _PostgresLookups,
    _PostgresSightingWriter,
)
from canyu.devices.models import Device
from canyu.releases import service as releases
from canyu.releases.edge import CheckinEdge

from .test_devices import bearer, fleet

CHECKIN = "/api/v1/devices/checkin"


def registry_of(edge: CheckinEdge) -> FastRegistry:
    """The fast path's reads and writes of the registry (made at its first check-in)."""
    assert edge._serving is not None
    return edge._serving.registry


@pytest.fixture
def edge(release_app: FastAPI) -> Iterator[TestClient]:
    with TestClient(CheckinEdge(release_app)) as client:
        yield client


def test_the_fast_path_and_the_route_agree(
    edge: TestClient, api: TestClient, shop: Shop, database: Database
) -> None:
    shop.product()
    tokens = fleet(database, 40)
    shop.rollout(shop.build("2.0"), stages=(50, 100))
    for token in tokens:
        body = {"version": "1.0"}
        fast = edge.post("/api/v1/devices/checkin", json=body, headers=bearer(token))
        slow = api.post("/api/v1/devices/checkin", json=body, headers=bearer(token))
        assert fast.status_code == slow.status_code == 200
        assert fast.json() == slow.json()
    offered = [
        edge.post("/api/v1/devices/checkin", json={}, headers=bearer(t)).json() for t in tokens
    ]
    assert 5 <= sum(o["offer"] is not None for o in offered) <= 35
    for headers, words in [
        ({}, "Send the device token"),
        (bearer("nope"), "Malformed"),
        (bearer("cyd_" + "B" * 43), "Unknown device token"),
    ]:
        response = edge.post("/api/v1/devices/checkin", json={}, headers=headers)
        assert response.status_code == 401
        assert words in response.json()["error"]["message"]
    bad = edge.post("/api/v1/devices/checkin", json={"version": "v!"}, headers=bearer(tokens[0]))
    assert bad.status_code == 422
    # Everything else is the app's.
    assert edge.get("/healthz").json()["status"] == "ok"
    assert edge.get("/api/v1/products").status_code == 200


def test_the_fast_path_records_a_new_build(
    edge: TestClient, shop: Shop, database: Database
) -> None:
    shop.product()
    (token,) = fleet(database, 1)
    edge.post("/api/v1/devices/checkin", json={"version": "1.5"}, headers=bearer(token))
    with database.session() as s:
        assert releases.fleet(s) == [("canyu-1s", "stable", "1.5", 1)]


def test_check_ins_arriving_together_each_get_their_own_answer(
    edge: TestClient, release_app: FastAPI, shop: Shop, database: Database
) -> None:
    """On PostgreSQL concurrent check-ins share one lookup query; every device must still get
    its own offer, and a revoked or unknown token its own 401, whatever it arrived with."""
    shop.product()
    tokens = fleet(database, 30)
    shop.rollout(shop.build("2.0"), stages=(50, 100))
    with database.session() as s:
        first = s.scalars(select(Device.id).order_by(Device.id).limit(1)).one()
        devices.revoke(s, device_id=first)
    revoked, known = tokens[0], tokens[1:]
    unknown = "cyd_" + "C" * 43
    sequence = [*known, *known[:10], revoked, unknown]  # some devices twice at once
    expected = {
        token: edge.post("/api/v1/devices/checkin", json={}, headers=bearer(token)).json()
        for token in known
    }

    async def all_at_once() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=CheckinEdge(release_app))
        async with httpx.AsyncClient(transport=transport, base_url="http://edge") as client:
            return await asyncio.gather(
                *(
                    client.post("/api/v1/devices/checkin", json={}, headers=bearer(token))
                    for token in sequence
                )
            )

    answers = list(zip(sequence, asyncio.run(all_at_once()), strict=True))
    for token, answer in answers[:-2]:
        assert answer.status_code == 200
        assert answer.json() == expected[token]
    (_, to_revoked), (_, to_unknown) = answers[-2:]
    assert to_revoked.status_code == 401
    assert "revoked" in to_revoked.json()["error"]["message"]
    assert to_unknown.status_code == 401
    assert "Unknown device token" in to_unknown.json()["error"]["message"]


def test_a_check_in_sees_every_commit_made_before_it_arrived(
    release_app: FastAPI, shop: Shop, database: Database
) -> None:
    """On SQLite the lookups of one turn of the event loop share a read transaction; a check-in
    arriving after a revocation or a registration committed must still see it."""
    shop.product()
    (token,) = fleet(database, 1)

    async def in_one_server() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=CheckinEdge(release_app))
        async with httpx.AsyncClient(transport=transport, base_url="http://edge") as client:
            before = await client.post("/api/v1/devices/checkin", json={}, headers=bearer(token))
            with database.session() as s:
                devices.revoke(s, device_id=s.scalars(select(Device.id)).one())
            after = await client.post("/api/v1/devices/checkin", json={}, headers=bearer(token))
            (fresh,) = fleet(database, 1, prefix="new")
            first = await client.post("/api/v1/devices/checkin", json={}, headers=bearer(fresh))
            # Another process revokes it (a commit this one does not see), and the next
            # check-in reaches the server after that, in a later turn of its loop.
            revoke_elsewhere(database, fresh)
            await asyncio.sleep(0)
            later = await client.post("/api/v1/devices/checkin", json={}, headers=bearer(fresh))
            return [before, after, first, later]

    before, after, first, later = asyncio.run(in_one_server())
    assert before.status_code == 200
    assert after.status_code == 401
    assert "revoked" in after.json()["error"]["message"]
    assert first.status_code == 200
    assert later.status_code == 401


def revoke_elsewhere(database: Database, token: str) -> None:
    """Revoke on a bare DB-API connection, outside SQLAlchemy's events: like another process."""
    marker = "?" if database.engine.dialect.name == "sqlite" else "%s"
    raw = database.engine.raw_connection()
    try:
        cursor = raw.cursor()
        cursor.execute(
            f"UPDATE devices SET revoked_at = registered_at WHERE token_hash = {marker}",  # noqa: S608
            (token_hash(token),),
        )
        raw.commit()
    finally:
        raw.close()


def test_a_check_in_records_a_sighting_once_an_hour(
    edge: TestClient, shop: Shop, database: Database
) -> None:
    shop.product()
    (token,) = fleet(database, 1)
    long_ago = utcnow() - timedelta(hours=2)
    just_now = utcnow() - timedelta(minutes=5)
    for last_seen, recorded in ((long_ago, True), (just_now, False)):
        with database.session() as s:
            s.execute(update(Device).values(last_seen_at=last_seen))
        assert edge.post("/api/v1/devices/checkin", json={}, headers=bearer(token)).is_success
        with database.session() as s:
            seen = s.scalars(select(Device.last_seen_at)).one()
        assert (seen > utcnow() - timedelta(minutes=1)) is recorded
        assert recorded or seen == last_seen


def test_sightings_arriving_together_are_written_together_and_committed_before_the_answers(
    release_app: FastAPI, shop: Shop, database: Database
) -> None:
    shop.product()
    tokens = fleet(database, 20)
    with database.session() as s:
        s.execute(update(Device).values(last_seen_at=utcnow() - timedelta(hours=2)))
    fast_path = CheckinEdge(release_app)
    seen_when_answered: dict[str, datetime] = {}

    def last_seen(token: str) -> datetime:
        with database.session() as s:  # another connection: sees only what has committed
            seen: datetime = s.scalars(
                select(Device.last_seen_at).where(Device.token_hash == token_hash(token))
            ).one()
        return seen

    async def answering(scope: Scope, receive: Receive, send: Send) -> None:
        token = dict(scope["headers"])[b"authorization"].decode().removeprefix("Bearer ")

        async def noted(message: Message) -> None:
            if message["type"] == "http.response.start" and token in tokens:
                seen_when_answered[token] = last_seen(token)
            await send(message)

        await fast_path(scope, receive, noted)

    async def all_at_once() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=answering)
        async with httpx.AsyncClient(transport=transport, base_url="http://edge") as client:
            await client.post(CHECKIN, json={}, headers=bearer("cyd_" + "D" * 43))  # warm up
            return await asyncio.gather(
                *(client.post(CHECKIN, json={"version": "1.5"}, headers=bearer(t)) for t in tokens)
            )

    answers = asyncio.run(all_at_once())
    assert [a.status_code for a in answers] == [200] * len(tokens)
    recently = utcnow() - timedelta(minutes=1)
    assert len(seen_when_answered) == len(tokens)
    assert all(seen > recently for seen in seen_when_answered.values())  # committed first
    with database.session() as s:
        rows = s.execute(select(Device.current_version, Device.last_seen_at)).all()
    assert {version for version, _ in rows} == {"1.5"}
    # One write stamps all its devices alike: a handful of writes, not one per check-in.
    assert len({seen for _, seen in rows}) < len(tokens) / 2


def test_sightings_are_written_from_one_event_loop_after_another(
    release_app: FastAPI, shop: Shop, database: Database
) -> None:
    """A server's loop can end and another start (tests, reloads): the next loop's sightings
    must not wait on the old loop's writer or connection."""
    shop.product()
    tokens = fleet(database, 2)
    with database.session() as s:
        s.execute(update(Device).values(last_seen_at=utcnow() - timedelta(hours=2)))
    fast_path = CheckinEdge(release_app)

    async def check_in(token: str) -> httpx.Response:
        transport = httpx.ASGITransport(app=fast_path)
        async with httpx.AsyncClient(transport=transport, base_url="http://edge") as client:
            return await client.post(CHECKIN, json={"version": "1.5"}, headers=bearer(token))

    answers = [asyncio.run(check_in(token)) for token in tokens]
    assert [a.status_code for a in answers] == [200, 200]
    with database.session() as s:
        versions = s.scalars(select(Device.current_version)).all()
    assert versions == ["1.5", "1.5"]


def terminate(database: Database, *pids: int) -> None:
    """End these PostgreSQL backends, as an administrator or a restart would, and wait until
    they are gone."""
    with database.engine.connect() as admin:
        for pid in pids:
            admin.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        for _ in range(100):  # the server ends the backends a moment later
            if not admin.scalar(
                text("SELECT count(*) FROM pg_stat_activity WHERE pid = ANY(:pids)"),
                {"pids": list(pids)},
            ):
                return
            time.sleep(0.05)


@pytest.fixture
def served_once(
    release_app: FastAPI, shop: Shop, database: Database
) -> Iterator[tuple[CheckinEdge, TestClient, dict[str, str]]]:
    """A fast path that has answered one check-in, so its lookup connection is open; its
    client; the device's headers."""
    shop.product()
    (token,) = fleet(database, 1)
    fast_path = CheckinEdge(release_app)
    with TestClient(fast_path) as client:
        assert client.post(CHECKIN, json={}, headers=bearer(token)).is_success
        yield fast_path, client, bearer(token)


def test_a_broken_lookup_connection_is_replaced(
    served_once: tuple[CheckinEdge, TestClient, dict[str, str]], database: Database
) -> None:
    if database.engine.dialect.name != "sqlite":
        pytest.skip("the held lookup connection serves SQLite; PostgreSQL's is tested below")
    fast_path, client, device = served_once
    held = registry_of(fast_path)._held
    assert held is not None
    held.dbapi.close()  # as if the database had dropped it
    broken = client.post(CHECKIN, json={}, headers=device)
    assert broken.status_code == 500  # a fault, answered like the app's own
    assert broken.json()["error"]["code"] == "internal_error"
    assert "Something broke on our side (request " in broken.json()["error"]["message"]
    assert client.post(CHECKIN, json={}, headers=device).is_success


def test_a_lookup_connection_the_server_closed_is_replaced(
    served_once: tuple[CheckinEdge, TestClient, dict[str, str]], database: Database
) -> None:
    if database.engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL's lookup connections; SQLite's is tested above")
    fast_path, client, device = served_once
    postgres = registry_of(fast_path)._postgres
    assert postgres is not None
    (lookups,) = postgres.connections
    pid = lookups.pgconn.backend_pid
    terminate(database, pid)
    answers = [client.post(CHECKIN, json={}, headers=device) for _ in range(3)]
    assert [answer.status_code for answer in answers] == [200] * 3
    (replacement,) = [c for c in postgres.connections if not c.closed]
    assert replacement.pgconn.backend_pid != pid


def test_a_check_in_on_connections_the_server_closed_unnoticed_is_still_answered(
    release_app: FastAPI, shop: Shop, database: Database
) -> None:
    """The server closes the lookup and sightings connections while the event loop is not
    looking, so the next check-in's lookup and sighting go out on dead connections: both are
    made again on new ones, and the device gets its answer, not an error."""
    if database.engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL's own connections; SQLite's are the held ones tested above")
    shop.product()
    (token,) = fleet(database, 1)
    fast_path = CheckinEdge(release_app)
    loop = asyncio.new_event_loop()
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=fast_path), base_url="http://e")

    def check_in(version: str) -> httpx.Response:
        sent = client.post(CHECKIN, json={"version": version}, headers=bearer(token))
        return loop.run_until_complete(sent)

    try:
        assert check_in("1.5").status_code == 200  # a new build: a lookup and a sighting
        postgres = registry_of(fast_path)._postgres
        assert postgres is not None
        (lookups,) = postgres.connections
        writer = registry_of(fast_path).sightings.write
        assert isinstance(writer, _PostgresSightingWriter)
        assert writer.connection is not None
        gone = (lookups.pgconn.backend_pid, writer.connection.pgconn.backend_pid)
        terminate(database, *gone)  # the loop is not running: nothing reads the sockets
        answer = check_in("1.6")
        assert answer.status_code == 200, answer.text
        assert postgres.connections[-1].pgconn.backend_pid not in gone
        assert writer.connection is not None
        assert writer.connection.pgconn.backend_pid not in gone
    finally:
        loop.run_until_complete(client.aclose())
        loop.close()
    with database.session() as s:
        assert s.scalars(select(Device.current_version)).one() == "1.6"


def test_lookups_arriving_over_several_turns_share_one_query(
    shop: Shop, database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A busy server reads a burst of check-ins over several turns of its event loop: their
    lookups wait while more arrive and go out as one query. Check-ins that never stop arriving
    are not held for ever: a batch goes out after HOLD_TURNS turns. Every device gets its row."""
    if database.engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL's batched lookups; SQLite's are synchronous")
    shop.product()
    tokens = fleet(database, 20)  # a stream longer than HOLD_TURNS
    digests = [token_hash(token) for token in tokens]
    with database.session() as s:
        ids = {digest: id_ for digest, id_ in s.execute(select(Device.token_hash, Device.id))}
    queries: list[int] = []
    ask = _LookupConnection.ask

    def counted(connection: _LookupConnection, lookups: dict[str, Any], *a: Any, **k: Any) -> None:
        queries.append(len(lookups))
        ask(connection, lookups, *a, **k)

    monkeypatch.setattr(_LookupConnection, "ask", counted)
    lookups = _PostgresLookups(database.engine)

    async def arriving(digest: str, turn: int) -> Any:
        for _ in range(turn):
            await asyncio.sleep(0)  # one turn of the loop
        return await lookups.find(digest)

    async def burst_then_stream() -> tuple[list[Any], list[int], list[Any], list[int]]:
        await lookups.find(digests[0])  # opens a connection
        queries.clear()
        burst = await asyncio.gather(*(arriving(d, turn) for turn, d in enumerate(digests[:6])))
        in_burst = queries[:]
        queries.clear()
        stream = await asyncio.gather(*(arriving(d, turn) for turn, d in enumerate(digests)))
        for connection in lookups.connections:
            connection.close()
        return burst, in_burst, stream, queries

    burst, in_burst, stream, in_stream = asyncio.run(burst_then_stream())
    assert in_burst == [6]
    assert len(in_stream) >= 2
    assert in_stream[0] <= _PostgresLookups.HOLD_TURNS + 1
    assert sum(in_stream) == len(digests)
    for digest, row in [*zip(digests, burst, strict=False), *zip(digests, stream, strict=True)]:
        assert row is not None
        assert row[0] == ids[digest]


def test_the_lookup_probes_the_token_index_and_never_scans_the_fleet(
    shop: Shop, database: Database
) -> None:
    """Check-ins stay cheap as the fleet grows: on a fleet of some size, once analyzed (as
    autovacuum does), the prepared lookup finds each token through its index."""
    if database.engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL's prepared lookup; SQLite's is one indexed SELECT")
    product = shop.product()
    with database.engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO devices (token_hash, product_id, model, hardware_hash, country,"
                " channel, registered_at, last_seen_at)"
                " SELECT md5(i::text) || md5((-i)::text), :product, 'canyu-1s', md5(i::text),"
                " 'CN', 'stable', now(), now() FROM generate_series(1, 20000) AS i"
            ),
            {"product": product.id},
        )
        connection.execute(text("ANALYZE devices"))

    async def plan() -> str:
        loop = asyncio.get_running_loop()
        opened = await _LookupConnection.open(
            _conninfo(database.engine), loop, done=lambda: None, give_back=lambda _: None
        )
        try:
            statement = _LookupConnection.STATEMENT
            cursor = await opened.connection.execute(
                f"EXPLAIN EXECUTE {statement}('2026-01-01T00:00:00Z', '{{a,b,c}}')"
            )
            return "\n".join(line for (line,) in await cursor.fetchall())
        finally:
            opened.close()

    explained = asyncio.run(plan())
    assert "Index Scan using ix_devices_token_lookup on devices" in explained, explained
    assert "Seq Scan" not in explained, explained


def test_the_fast_paths_own_connections_keep_every_part_of_the_database_url() -> None:
    """psycopg's connections of the fast path get what the URL says, spaces in options too
    (re-rendered as a URL, they became '+', which libpq refused)."""
    url = "postgresql://canyu:p%40ss@db.example:5433/fleet?options=-c%20statement_timeout%3D5000"
    database = Database(url)
    try:
        assert conninfo_to_dict(_conninfo(database.engine)) == {
            "host": "db.example",
            "port": "5433",
            "dbname": "fleet",
            "user": "canyu",
            "password": "p@ss",
            "options": "-c statement_timeout=5000",
        }
    finally:
        database.dispose()


def test_a_check_in_the_database_cannot_answer_in_time_gets_a_503_then_an_answer(
    release_app: FastAPI, shop: Shop, database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The devices table is locked past the lookups' ``lock_timeout``, set through the database
    URL's options: the database refuses the lookup, and the device is told to retry later (503,
    Retry-After), not given a 500. Once the lock is gone its next check-in is answered."""
    if database.engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL's lookups; a locked SQLite file waits out its busy timeout")
    shop.product()
    (token,) = fleet(database, 1)
    url = database.engine.url.update_query_dict({"options": "-c lock_timeout=200"})
    impatient = Database(url.render_as_string(hide_password=False))
    monkeypatch.setattr(release_app.state, "database", impatient)
    try:
        with TestClient(CheckinEdge(release_app)) as client, database.engine.connect() as locker:
            with locker.begin():
                locker.execute(text("LOCK TABLE devices IN ACCESS EXCLUSIVE MODE"))
                refused = client.post(CHECKIN, json={}, headers=bearer(token))
            assert refused.status_code == 503, refused.text
            assert refused.headers["retry-after"] == "5"
            assert refused.json()["error"]["code"] == "unavailable"
            assert client.post(CHECKIN, json={}, headers=bearer(token)).status_code == 200
    finally:
        impatient.dispose()
