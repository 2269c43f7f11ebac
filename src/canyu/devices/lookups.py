"""Device lookups and sightings for the check-in fast path, beside the registry's own service.

A check-in reads one device by its token's hash and, about once an hour per device, writes that
it was seen. canyu.releases.edge answers check-ins in front of the app, and these are its reads
and writes of the registry, made without the connection pool and without an ORM round trip:
on SQLite a held connection with a read transaction shared per turn of the event loop; on
PostgreSQL batched lookups on psycopg connections of their own; sightings written in batches.
What the rows mean (standing, a sighting due) is canyu.devices.identity's, as for the service.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import pq
from psycopg.adapt import Transformer
from psycopg.conninfo import make_conninfo
from psycopg.errors import error_from_result
from sqlalchemy import bindparam, event, update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from canyu.db import utcnow
from canyu.devices.identity import SEEN_EVERY, SeenDevice
from canyu.devices.models import Device

SQLITE_MMAP_BYTES = 1 << 30
# How long a batch of SQLite sightings waits for another writer before failing (as long as the
# pool's connections wait in SQLite's busy handler, canyu.db).
SQLITE_WRITE_WAIT = 10.0
# The device's columns, then two answered by the database: whether ``last_seen_at`` is older
# than the bound given (so no datetime is parsed per check-in), and whether it is revoked.
_SELECTED = (
    "id, product_id, channel, country, model, hardware_hash, current_version,"
    " last_seen_at < {marker}, revoked_at IS NOT NULL"
)


# Built from constants only (column names, placeholders); the values are bound.
_SQLITE_LOOKUP = f"SELECT {_SELECTED.format(marker='?')} FROM devices WHERE token_hash = ?"  # noqa: S608


class _SeenBound:
    """The ``last_seen_at`` below which a row is stale, as the query binds it: on SQLite the
    stored text (which compares in time order), on PostgreSQL ISO 8601 bytes for libpq.
    Recomputed once a second: SEEN_EVERY is an hour, and a row's last sighting is recorded at
    most a second late."""

    def __init__(self, engine: Engine) -> None:
        seen_type = Device.__table__.c.last_seen_at.type
        self.to_driver: Callable[[Any], Any] | None = seen_type._cached_bind_processor(
            engine.dialect
        )
        self.as_bytes = engine.dialect.name == "postgresql"
        self.second = -1
        self.value: Any = None

    def __call__(self) -> Any:
        second = int(time.time())
        if second != self.second:
            bound = utcnow() - SEEN_EVERY
            value = self.to_driver(bound) if self.to_driver else bound
            self.value = value.isoformat().encode() if self.as_bytes else value
            self.second = second
        return self.value


_commits_in_process = 0


@event.listens_for(Engine, "commit")
def _count_commit(_connection: Connection) -> None:
    """Every transaction committed in this process, through any engine (see _Held.find)."""
    global _commits_in_process
    _commits_in_process += 1


class _Held:
    """Connections the fast path keeps for itself (see CheckinEdge._held_connection)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        # For reloading the offers and, on SQLite, writing the sightings. Its writes never
        # wait in SQLite's busy handler: that would block the event loop, and with it the
        # commit of the very request holding the lock (FastRegistry._write_sightings waits
        # by awaiting instead).
        self.connection: Connection = engine.connect()
        if engine.dialect.name == "sqlite":
            self.connection.exec_driver_sql("PRAGMA busy_timeout=0")
            self.connection.commit()
        # The SQLite lookup's own connection, opened at the first lookup (PostgreSQL's lookups
        # are _PostgresLookups'): the pool's wrapper and its DB-API connection.
        self.raw: Any = None
        self.dbapi: Any = None
        self.cursor: Any = None
        self.seen_bound = _SeenBound(engine)
        self.reading_on: asyncio.AbstractEventLoop | None = None
        self.read_after = 0  # the process's commit count when the read transaction began

    def find(self, digest: str) -> SeenDevice | None:
        """The device with this token hash, read in a read transaction shared with the other
        lookups of this turn of the event loop.

        On SQLite every read transaction takes and drops file locks (four system calls), which
        cost more than the lookup itself. Sharing one stays exact: a check-in still sees every
        commit made before it arrived (a registration, a revocation), because the transaction
        ends at the turn's end, before the loop reads any request that arrives later, and at
        once when this process commits anything, for callers that hand requests to the app
        directly within one turn."""
        reading_on = self.reading_on
        # Not asyncio.get_running_loop() per check-in: it costs a getpid() system call. A loop
        # that stopped before ending its transaction (tests start new ones) is not running.
        if (
            reading_on is None
            or self.read_after != _commits_in_process
            or not reading_on.is_running()
        ):
            self._begin_reading()
        # One statement by the unique token-hash index, on the DB-API connection: without
        # SQLAlchemy's per-call compilation and caching work. fetchall() runs the statement to
        # its end, which resets it, so the turn's COMMIT leaves no statement holding the read.
        found: list[SeenDevice] = self.cursor.execute(
            _SQLITE_LOOKUP, (self.seen_bound(), digest)
        ).fetchall()
        return found[0] if found else None

    def _begin_reading(self) -> None:
        loop = asyncio.get_running_loop()
        if self.dbapi is None:
            self.raw = self.engine.raw_connection()
            self.dbapi = _prepared_for_lookups(self.raw.dbapi_connection)
            self.cursor = self.dbapi.cursor()
        self.end_reading()
        self.dbapi.execute("BEGIN")
        self.reading_on, self.read_after = loop, _commits_in_process
        loop.call_soon(self.end_reading)

    def end_reading(self) -> None:
        if self.reading_on is not None:
            self.reading_on = None
            self.dbapi.execute("COMMIT")

    def close(self) -> None:
        self.reading_on = None
        self.connection.invalidate()
        self.connection.close()
        if self.raw is not None:
            self.raw.invalidate()
            self.raw.close()

    @contextmanager
    def sessions(self) -> Iterator[Session]:
        """A session on the held connection, for the offers' (rare) reloads."""
        with Session(bind=self.connection) as session:
            yield session
        self.connection.rollback()


def _prepared_for_lookups(dbapi: Any) -> Any:
    """The SQLite lookup connection: no implicit transactions (find() begins and ends its own),
    and reads through a memory map."""
    dbapi.isolation_level = None
    # Index and row pages read through a memory map instead of a read() call per page that
    # misses SQLite's own 2 MB cache: most do, with devices checking in at random.
    dbapi.execute(f"PRAGMA mmap_size={SQLITE_MMAP_BYTES}")
    return dbapi


_Waiting = dict[str, list["asyncio.Future[SeenDevice | None]"]]


def _conninfo(engine: Engine) -> str:
    """The engine's database for psycopg's own connections, as libpq's key=value string.

    Not the URL re-rendered: SQLAlchemy writes a space in a query value as '+', which libpq
    does not read back as one (``?options=-c%20statement_timeout%3D5000`` would then fail)."""
    url = engine.url
    params: dict[str, Any] = url.translate_connect_args(username="user", database="dbname")
    params.update(url.query)
    return make_conninfo(**params)


def _fail(lookups: _Waiting, exc: BaseException) -> None:
    for futures in lookups.values():
        for future in futures:
            if not future.done():
                future.set_exception(exc)


def _answer(lookups: _Waiting, found: dict[str, SeenDevice]) -> None:
    for digest, futures in lookups.items():
        row = found.get(digest)
        for future in futures:
            if not future.done():
                future.set_result(row)


class _LookupConnection:
    """One connection of _PostgresLookups, with at most one query in flight.

    Opened by psycopg's asyncio API; the queries then go through its libpq wrapper
    (``psycopg.pq``) with one reader on the socket for the connection's whole life, and the rows
    are loaded by psycopg's adapters.
    """

    STATEMENT = "canyu_checkin_lookup"

    def __init__(
        self,
        connection: Any,
        loop: asyncio.AbstractEventLoop,
        done: Callable[[], None],
        give_back: Callable[[_Waiting], None],
    ) -> None:
        self.connection = connection
        self.pgconn = connection.pgconn
        self.loop = loop
        self.done = done  # called once this connection is free again, or closed
        self.give_back = give_back  # takes the lookups in flight when it broke, to ask again
        self.loader = Transformer(connection)
        self.asked: _Waiting | None = None
        self.asked_again = False  # whether the lookups in flight were lost once already
        self.results: list[Any] = []
        self.closed = False
        # Sends block only while the socket's buffer is full, which one query never fills;
        # reading never blocks (consume_input).
        self.pgconn.nonblocking = 0
        self.socket = self.pgconn.socket
        loop.add_reader(self.socket, self._readable)

    @classmethod
    async def open(
        cls,
        conninfo: str,
        loop: asyncio.AbstractEventLoop,
        done: Callable[[], None],
        give_back: Callable[[_Waiting], None],
    ) -> _LookupConnection:
        connection = await psycopg.AsyncConnection.connect(conninfo, autocommit=True)
        try:
            # One plan for every batch, made once: by default PostgreSQL plans the batch again
            # at every execution, which costs the server more than a small batch's lookups.
            await connection.execute("SET plan_cache_mode = force_generic_plan")
            # A join on the digests asked: a nested loop, one probe of the token's hash index
            # each. `token_hash = ANY($2)` made a bitmap of the rows and checked every row found
            # against the whole array again (a hash index only narrows to a hash code), about
            # 0.8 µs more of the database's CPU per check-in.
            await connection.execute(
                f"PREPARE {cls.STATEMENT} AS SELECT token_hash,"  # noqa: S608 (constants only)
                f" {_SELECTED.format(marker='$1')} FROM unnest($2::varchar[]) AS asked(digest)"
                " JOIN devices ON devices.token_hash = asked.digest"
            )
        except BaseException:
            await connection.close()
            raise
        return cls(connection, loop, done, give_back)

    def ask(self, lookups: _Waiting, seen_bound: bytes, *, again: bool = False) -> None:
        self.asked, self.asked_again = lookups, again
        try:
            self.pgconn.send_query_prepared(
                self.STATEMENT.encode(), [seen_bound, ("{" + ",".join(lookups) + "}").encode()]
            )
        except Exception as exc:
            self._broken(exc)

    def _readable(self) -> None:
        complete = False
        try:
            self.pgconn.consume_input()  # raises once the server has closed the connection
            while not self.pgconn.is_busy():
                result = self.pgconn.get_result()
                if result is None:
                    complete = True
                    break
                self.results.append(result)
        except Exception as exc:
            self._broken(exc)
            return
        if self.pgconn.status == pq.ConnStatus.BAD:
            # The server's last words (an administrator's termination, a shutdown) came before
            # it closed the connection: whatever was asked goes to another one.
            self._broken(ConnectionError("the server closed the lookup connection"))
            return
        if not complete:
            return
        asked, self.asked = self.asked, None
        results, self.results = self.results, []
        if asked is None:
            return  # nothing was asked (a notice from the server)
        if len(results) == 1 and results[0].status == pq.ExecStatus.TUPLES_OK:
            self.loader.set_pgresult(results[0])
            rows = self.loader.load_rows(0, results[0].ntuples, tuple)
            _answer(asked, {row[0]: row[1:] for row in rows})
        elif results:
            # psycopg's own class for the server's error, so that a cancelled statement or a
            # shutdown reads as the database being unavailable, not as a fault.
            _fail(asked, error_from_result(results[-1], encoding=self.connection.info.encoding))
        else:
            _fail(asked, RuntimeError("the lookup failed"))
        self.done()

    def _broken(self, exc: Exception) -> None:
        """The connection failed, not the query: a lookup only reads, so the lookups in flight
        are asked again on another connection (once: lost twice, they fail)."""
        asked, self.asked = self.asked, None
        if asked:
            if self.asked_again:
                _fail(asked, exc)
            else:
                self.give_back(asked)
        self.close()

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        if not self.loop.is_closed():
            self.loop.remove_reader(self.socket)
        self.pgconn.finish()
        _fail(self.asked or {}, ConnectionError("the lookup connection was closed"))
        self.asked = None
        if not self.loop.is_closed():
            self.loop.call_soon(self.done)  # not at once: close() may run inside done()


class _PostgresLookups:
    """PostgreSQL's lookups, driven by the event loop itself.

    A lookup is a network round trip, and psycopg's asyncio API costs the event loop more per
    query than the server spends answering it (a cursor, and a reader added and removed on the
    socket for every wait). So the lookups of check-ins arriving together share one query
    (a join on ``unnest($2)``, prepared once), sent on one of ``SIZE`` connections that has
    nothing in flight; while all are busy, lookups gather for the next free one.

    A busy server reads a burst of check-ins over several turns of the loop, and a query per
    turn costs the database and the server a round trip each (about 25 µs of the database's
    time alone). So a batch waits for the next turn while check-ins are still arriving: it is
    sent at the first turn that brought none, at the latest after ``HOLD_TURNS`` turns, or once
    it is full. A turn it waits is one poll of the sockets that does not sleep, so a lone
    check-in is delayed by microseconds: one turn, then a query of one token. Each query starts
    after its check-ins arrived, in autocommit, so it sees every commit made before them.
    """

    SIZE = 2
    MAX_BATCH = 256
    HOLD_TURNS = 8

    def __init__(self, engine: Engine) -> None:
        self.conninfo = _conninfo(engine)
        self.seen_bound = _SeenBound(engine)
        self.waiting: _Waiting = {}
        self.lost: _Waiting = {}  # lookups a broken connection lost, asked again before the rest
        self.connections: list[_LookupConnection] = []
        self.loop: asyncio.AbstractEventLoop | None = None
        # Held: the loop keeps only weak references to tasks.
        self.opening: set[asyncio.Task[None]] = set()
        self.send_scheduled = False
        # While a batch waits for check-ins still arriving: its size at the last turn, and the
        # turns it has waited.
        self.held_size = 0
        self.held_turns = 0

    def find(self, digest: str) -> asyncio.Future[SeenDevice | None]:
        loop = self.loop
        if loop is None or not loop.is_running():  # see _Held.find: no getpid() per check-in
            loop = asyncio.get_running_loop()
        future: asyncio.Future[SeenDevice | None] = loop.create_future()
        self.waiting.setdefault(digest, []).append(future)
        self._send_soon(loop)
        return future

    def _send_soon(self, loop: asyncio.AbstractEventLoop) -> None:
        if not self.send_scheduled:
            self.send_scheduled = True
            loop.call_soon(self._send)

    def _send(self) -> None:
        self.send_scheduled = False
        loop = asyncio.get_running_loop()
        if self._still_arriving():
            self._send_soon(loop)
            return
        if self.loop is not loop:  # a new event loop (tests): the old one's sockets are gone
            for connection in self.connections:
                connection.close()
            self.loop = loop
        self.connections = [c for c in self.connections if not c.closed]
        for connection in self.connections:
            if connection.asked is not None:
                continue
            again = bool(self.lost)
            pool = self.lost if again else self.waiting
            if not pool:
                return
            connection.ask(self._batch(pool), self.seen_bound(), again=again)
        if (self.waiting or self.lost) and len(self.connections) + len(self.opening) < self.SIZE:
            opening = loop.create_task(self._open(loop))
            self.opening.add(opening)
            opening.add_done_callback(self.opening.discard)

    def _still_arriving(self) -> bool:
        """Whether the waiting batch grew since the last turn and may wait one more."""
        size = len(self.waiting)
        if (
            size > self.held_size
            and self.held_turns < self.HOLD_TURNS
            and size < self.MAX_BATCH
            and not self.lost  # lookups a broken connection lost are asked again at once
        ):
            self.held_size = size
            self.held_turns += 1
            return True
        self.held_size = self.held_turns = 0
        return False

    def _batch(self, pool: _Waiting) -> _Waiting:
        """Up to MAX_BATCH lookups taken from the pool, oldest first."""
        digests = list(itertools.islice(pool, self.MAX_BATCH))
        return {digest: pool.pop(digest) for digest in digests}

    def _take_back(self, lookups: _Waiting) -> None:
        for digest, futures in lookups.items():
            self.lost.setdefault(digest, []).extend(futures)

    async def _open(self, loop: asyncio.AbstractEventLoop) -> None:
        try:
            connection = await _LookupConnection.open(
                self.conninfo, loop, self._send, self._take_back
            )
        except Exception as exc:
            if all(c.closed for c in self.connections):  # nothing else would answer them
                waiting, self.waiting, lost, self.lost = self.waiting, {}, self.lost, {}
                _fail(waiting, exc)
                _fail(lost, exc)
            return
        self.connections.append(connection)
        self._send()


@dataclass
class _Batch:
    """Sightings gathered for one write: the build each device reported last, and the future
    its check-ins wait on."""

    versions: dict[int, str | None]
    committed: asyncio.Future[None]


class _Sightings:
    """Sightings (last-seen times, and builds newly reported) written in batches: those of one
    turn of the event loop go in one write, made by a task in the next turn; while it is in
    flight the later turns' sightings gather for the next. Each check-in is answered once its
    batch has committed.

    Why: a device that polls hourly is due a sighting at nearly every check-in (SEEN_EVERY), and
    a transaction per check-in cost more than all the rest of the check-in."""

    def __init__(self, write: Callable[[dict[int, str | None]], Awaitable[None]]) -> None:
        self.write = write
        self.batch: _Batch | None = None
        self.writer: asyncio.Task[None] | None = None

    def record(self, device_id: int, version: str | None) -> asyncio.Future[None]:
        loop = asyncio.get_running_loop()
        writer = self.writer
        if writer is not None and writer.get_loop() is not loop:
            self.batch = writer = None  # a new event loop (tests): its waiters are gone
        batch = self.batch
        if batch is None:
            batch = self.batch = _Batch({}, loop.create_future())
        batch.versions[device_id] = version  # a device seen twice keeps what it reported last
        if writer is None or writer.done():
            self.writer = loop.create_task(self._write())
        return batch.committed

    async def _write(self) -> None:
        while self.batch is not None:
            batch, self.batch = self.batch, None
            try:
                await self.write(batch.versions)
            except Exception as exc:
                batch.committed.set_exception(exc)
            else:
                batch.committed.set_result(None)


class _PostgresSightingWriter:
    """PostgreSQL's batch: one ``UPDATE ... FROM unnest(ids, versions)`` in autocommit on a
    connection of its own, awaited, so the event loop goes on serving meanwhile."""

    STATEMENT = (
        "UPDATE devices SET current_version = sighted.version, last_seen_at = %s"
        " FROM unnest(%s::integer[], %s::varchar[]) AS sighted(id, version)"
        " WHERE devices.id = sighted.id"
    )

    def __init__(self, conninfo: str) -> None:
        self.conninfo = conninfo
        self.connection: psycopg.AsyncConnection[Any] | None = None
        self.loop: asyncio.AbstractEventLoop | None = None

    async def __call__(self, versions: dict[int, str | None]) -> None:
        loop = asyncio.get_running_loop()
        if self.loop is not loop:  # a new event loop (tests): the old one's socket is gone
            self._discard()
            self.loop = loop
        written = (utcnow(), list(versions), list(versions.values()))
        reused = self.connection is not None and not self.connection.closed
        try:
            await self._execute(written)
        except psycopg.OperationalError:
            if not reused:
                raise
            # A held connection the server closed meanwhile (a restart, an idle timeout):
            # written again on a new one, which is safe, as the update sets the same values.
            await self._execute(written)

    async def _execute(self, written: tuple[Any, ...]) -> None:
        try:
            if self.connection is None or self.connection.closed:
                self.connection = await psycopg.AsyncConnection.connect(
                    self.conninfo, autocommit=True
                )
            await self.connection.execute(self.STATEMENT, written)
        except Exception:
            self._discard()
            raise

    def _discard(self) -> None:
        connection, self.connection = self.connection, None
        if connection is not None:
            connection.pgconn.finish()


_SIGHTING = (
    update(Device)
    .where(Device.id == bindparam("device_id"))
    .values(current_version=bindparam("version"), last_seen_at=bindparam("seen"))
)


class FastRegistry:
    """The fast path's reads and writes of the registry, for one database.

    It runs on the event loop's thread, one request at a time, so it never waits for the pool:
    a pool emptied by requests whose threads need the loop to finish would wait for ever. Its
    held connections are discarded, never returned to the pool, when anything fails on them,
    and opened again."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.postgresql = engine.dialect.name == "postgresql"
        self._held: _Held | None = None
        self._postgres: _PostgresLookups | None = None
        self.sightings = _Sightings(
            _PostgresSightingWriter(_conninfo(engine)) if self.postgresql else self._write_sightings
        )

    def find(self, digest: str) -> SeenDevice | None:
        """SQLite: the device with this token hash, read at once."""
        try:
            return self._held_connection().find(digest)
        except Exception:
            self._drop()
            raise

    def find_later(self, digest: str) -> asyncio.Future[SeenDevice | None]:
        """PostgreSQL: the device with this token hash, read in the next batch."""
        if self._postgres is None:
            self._postgres = _PostgresLookups(self.engine)
        return self._postgres.find(digest)

    def record(self, device_id: int, version: str | None) -> asyncio.Future[None]:
        """A sighting, written with this turn's others; the future is done once committed."""
        return self.sightings.record(device_id, version)

    @contextmanager
    def sessions(self) -> Iterator[Session]:
        """A session on the held connection (the offers' rare reloads)."""
        try:
            with self._held_connection().sessions() as session:
                yield session
        except Exception:
            self._drop()
            raise

    def _held_connection(self) -> _Held:
        held = self._held
        if held is None:
            held = self._held = _Held(self.engine)
        return held

    def _drop(self) -> None:
        held, self._held = self._held, None
        if held is not None:
            held.close()

    async def _write_sightings(self, versions: dict[int, str | None]) -> None:
        """SQLite's batch: one prepared statement, run per device in one transaction on the
        held connection; synchronous, like SQLite's lookups."""
        now = utcnow()
        rows = [{"device_id": d, "version": v, "seen": now} for d, v in versions.items()]
        deadline = time.monotonic() + SQLITE_WRITE_WAIT
        pause = 0.001
        while True:
            held = self._held_connection()
            try:
                with held.connection.begin():
                    held.connection.execute(_SIGHTING, rows)
                return
            except OperationalError as exc:
                locked = "locked" in str(exc.orig) or "busy" in str(exc.orig)
                if not locked or time.monotonic() > deadline:
                    self._drop()
                    raise
            except Exception:
                self._drop()
                raise
            # Another connection writes: wait for it without blocking the loop, which may be
            # what that writer needs to reach its commit.
            await asyncio.sleep(pause)
            pause = min(pause * 2, 0.05)
